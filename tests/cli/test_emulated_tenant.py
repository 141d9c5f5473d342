"""Under --emulate the manifest chooses the tenant: each manifest its own emulated state, so
trying a second example never plans against the first one's objects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.emulated_tenant import emulated_tenant_dir, emulator_state_file

REPO = Path(__file__).resolve().parents[2]
ENV = {"NO_COLOR": "1", "WORKOS_API_KEY": None, "WORKOS_CLIENT_ID": None}


@pytest.fixture
def examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(
        REPO / "manifests", tmp_path / "manifests", ignore=shutil.ignore_patterns("examples")
    )
    shutil.copytree(REPO / "manifests" / "examples" / "portable", tmp_path / "portable")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def test_two_examples_do_not_see_each_others_objects(examples: Path) -> None:
    applied = invoke("apply", "manifests", "--emulate", "--auto-approve")
    assert applied.exit_code == 2, applied.output  # only the dashboard step is left
    # The portable example shares slugs and keys with the first (admin, acme, ...): against
    # the first one's state it would plan updates. On its own tenant it creates everything.
    planned = invoke("plan", "portable", "--emulate", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "Plan: 10 to create, 0 to update, 0 to replace, 0 to delete, 1 manual." in (
        planned.output
    )
    assert "~ " not in planned.output
    first = emulator_state_file("manifests", "workos")
    second = emulator_state_file("portable", "workos")
    assert first != second and first.exists() and second.exists()
    assert str(first) in applied.output and str(second) in planned.output

    # And the first example's tenant is as it was: still converged.
    again = invoke("plan", "manifests", "--emulate", "--detailed-exitcode")
    assert again.exit_code == 2 and "0 to create, 0 to update" in again.output, again.output


def test_one_manifest_is_one_tenant_however_its_path_is_spelled(examples: Path) -> None:
    spellings = ["manifests", "./manifests", str(examples / "manifests"), "manifests/"]
    assert len({emulated_tenant_dir(s) for s in spellings}) == 1
    assert emulated_tenant_dir("manifests").name.startswith("manifests-")
    assert emulated_tenant_dir("portable") != emulated_tenant_dir("manifests")


def test_a_hand_edited_share_cannot_point_outside_the_state_folder(examples: Path) -> None:
    own = emulated_tenant_dir("portable")
    own.mkdir(parents=True)
    (own / "tenant").write_text("../../etc\n")
    assert emulated_tenant_dir("portable") == own


def test_the_dashboard_takes_what_only_the_workos_dashboard_can_delete(examples: Path) -> None:
    """WorkOS has no API to delete an environment role or a CORS origin: with deletes
    allowed they are manual steps, which apply leaves and the emulated dashboard takes."""
    invoke("apply", "manifests", "--emulate", "--auto-approve")
    authorization = examples / "manifests" / "authorization.yaml"
    text = authorization.read_text(encoding="utf-8")
    authorization.write_text(text[: text.index("  - slug: member")], encoding="utf-8")
    application = examples / "manifests" / "application.yaml"
    application.write_text(
        application.read_text(encoding="utf-8").replace(
            "cors_origins:\n  - https://app.example.com", "cors_origins: []"
        ),
        encoding="utf-8",
    )
    policy = examples / "manifests" / "authform.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("allow_delete: false", "allow_delete: true"),
        encoding="utf-8",
    )
    applied = invoke("apply", "manifests", "--emulate", "--auto-approve")
    assert applied.exit_code == 2, applied.output
    assert "! role.member" in applied.output and "! cors_origin.https://app.example.com" in (
        applied.output
    )
    clicked = invoke("emulator", "dashboard", "manifests")
    assert clicked.exit_code == 0, clicked.output
    for address in (
        "role.member",
        "cors_origin.https://app.example.com",
        "social_connection.google",
    ):
        assert f"done on the emulated dashboard: {address}" in clicked.output
    planned = invoke("plan", "manifests", "--emulate", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert invoke("verify", "manifests", "--emulate").exit_code == 0
