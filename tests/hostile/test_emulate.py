"""Hostile input around the emulated tenant, its dashboard, export and where files land: each
refused with the documented exit code, a message saying where and what, no traceback, and
nothing written (the emulator's request log, or the embedded tenant's state file unchanged)."""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.emulated_tenant import emulator_state_file
from authform.emulators import RunningEmulator

from .refusal import assert_refused

REPO = Path(__file__).resolve().parents[2]
NO_WORKOS = {"NO_COLOR": "1", "WORKOS_API_KEY": None, "WORKOS_CLIENT_ID": None}


def invoke(*args: str, env: dict[str, Any] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env={**NO_WORKOS, **(env or {})})


def state_digests(root: Path) -> dict[str, str]:
    """Every emulated tenant's state file, by content: unchanged means nothing was written."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / ".authform").rglob("*.sqlite3"))
    }


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The README's example, applied on its emulated tenant (its dashboard step pending)."""
    shutil.copytree(
        REPO / "manifests", tmp_path / "manifests", ignore=shutil.ignore_patterns("examples")
    )
    monkeypatch.chdir(tmp_path)
    applied = invoke("apply", "--emulate", "--auto-approve")
    assert applied.exit_code == 2, applied.output
    return tmp_path


def write_manifest(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "authform.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- the dashboard

DASHBOARD_SELECTIONS = [
    pytest.param(
        ["--only", "social_connection.github"],
        r"manifests: social_connection\.github is not a manual step of this plan "
        r"\(its manual steps: social_connection\.google\); nothing was done",
        id="a-connection-the-manifest-does-not-name",
    ),
    pytest.param(
        ["--only", "social_connection.google", "--only", "role.admin"],
        r"manifests/authorization\.yaml:\d+:\d+: role\.admin is not a manual step",
        id="an-api-resource-is-not-a-dashboard-step",
    ),
    pytest.param(
        ["--only", "cors_origin.https://evil.example"],
        r"manifests: cors_origin\.https://evil\.example is not a manual step",
        id="an-origin-the-manifest-does-not-name",
    ),
    pytest.param(
        ["--only", "no-such-kind.x"],
        r"manifests: no-such-kind\.x is not a manual step",
        id="an-address-of-no-kind",
    ),
    pytest.param(["-e", "staging"], r"manifests", id="an-environment-the-manifest-lacks"),
]


def test_an_api_change_is_not_the_dashboards_to_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before apply, a role is a create the API makes: the dashboard refuses it, by place."""
    shutil.copytree(
        REPO / "manifests", tmp_path / "manifests", ignore=shutil.ignore_patterns("examples")
    )
    monkeypatch.chdir(tmp_path)
    result = invoke("emulator", "dashboard", "--only", "role.admin")
    assert_refused(
        result,
        r"manifests/authorization\.yaml:\d+:\d+: role\.admin is a change apply makes "
        r"through the API, not a manual step",
    )
    assert invoke("plan", "--emulate", "--detailed-exitcode").exit_code == 2  # nothing made


@pytest.mark.parametrize(("args", "message"), DASHBOARD_SELECTIONS)
def test_a_dashboard_step_outside_the_plan_is_refused_and_nothing_is_clicked(
    example: Path, args: list[str], message: str
) -> None:
    before = state_digests(example)
    assert_refused(invoke("emulator", "dashboard", *args), message)
    assert state_digests(example) == before
    # the step that was asked alongside a bad one was not taken either
    assert invoke("verify", "--emulate").exit_code == 3


def test_the_dashboard_of_an_invalid_manifest_is_refused_before_any_tenant_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_manifest(
        tmp_path / "broken",
        """
        version: 1
        target: {provider: workos}
        social_connections:
          - {provider: google, client_id: 1234.apps.googleusercontent.com, colour: blue}
        """,
    )
    result = invoke("emulator", "dashboard", "broken")
    assert_refused(result, r"authform\.yaml:4:\d+: social_connections\[0\]\.colour")
    assert not (tmp_path / ".authform").exists()


def test_a_step_no_real_dashboard_offers_stays_pending_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scalekit has no CORS setting anywhere: its emulated dashboard cannot conjure one."""
    monkeypatch.chdir(tmp_path)
    write_manifest(
        tmp_path / "scalekit",
        """
        version: 1
        target: {provider: scalekit}
        cors_origins: [https://app.example.com]
        """,
    )
    before = state_digests(tmp_path)
    result = invoke("emulator", "dashboard", "scalekit")
    assert_refused(
        result,
        r"left pending: cors_origin\.https://app\.example\.com: "
        r"the scalekit dashboard has no setting for this either",
        exit_code=2,
    )
    assert state_digests(tmp_path) == {**before, **state_digests(tmp_path)}
    assert invoke("apply", "scalekit", "--emulate", "--auto-approve").exit_code == 2


# --------------------------------------------------------------------------- export


@pytest.fixture
def tenants(
    workos_emulator: RunningEmulator,
    scalekit_emulator: RunningEmulator,
    clerk_emulator: RunningEmulator,
) -> Callable[[str], tuple[RunningEmulator, dict[str, str]]]:
    def pick(provider: str) -> tuple[RunningEmulator, dict[str, str]]:
        emulator = {
            "workos": workos_emulator,
            "scalekit": scalekit_emulator,
            "clerk": clerk_emulator,
        }[provider]
        variables = {
            "workos": {"WORKOS_API_KEY": emulator.api_key, "WORKOS_BASE_URL": emulator.url},
            "scalekit": {
                "SCALEKIT_CLIENT_SECRET": emulator.api_key,
                "SCALEKIT_CLIENT_ID": emulator.client_id,
                "SCALEKIT_ENVIRONMENT_URL": emulator.url,
            },
            "clerk": {"CLERK_SECRET_KEY": emulator.api_key, "CLERK_API_URL": emulator.url},
        }[provider]
        return emulator, variables

    return pick


EXPORT_CREDENTIALS = [
    ("scalekit", {"SCALEKIT_CLIENT_SECRET": None}, r"set SCALEKIT_CLIENT_SECRET to the API key"),
    ("scalekit", {"SCALEKIT_CLIENT_ID": None}, r"set SCALEKIT_CLIENT_ID to the client id"),
    ("scalekit", {"SCALEKIT_ENVIRONMENT_URL": None}, r"set SCALEKIT_ENVIRONMENT_URL to the URL"),
    (
        "scalekit",
        {"SCALEKIT_ENVIRONMENT_URL": "http://acme.scalekit.example"},
        r"SCALEKIT_ENVIRONMENT_URL: .*https",
    ),
    ("clerk", {"CLERK_SECRET_KEY": None}, r"set CLERK_SECRET_KEY to the API key of the Clerk"),
    ("clerk", {"CLERK_API_URL": "ftp://api.clerk.example"}, r"CLERK_API_URL: "),
    ("workos", {"WORKOS_API_KEY": "sk_test_not_the_key"}, r"401|[Uu]nauthori[sz]ed|API key"),
    ("scalekit", {"SCALEKIT_CLIENT_SECRET": "not-the-secret"}, r"invalid_client|401"),
    ("clerk", {"CLERK_SECRET_KEY": "sk_test_not_the_key"}, r"clerk_key_invalid|401"),
]


@pytest.mark.parametrize(
    ("provider", "override", "message"),
    EXPORT_CREDENTIALS,
    ids=[
        f"{p}-{'-'.join(o)}-{'wrong' if any(o.values()) else 'missing'}"
        for p, o, _ in EXPORT_CREDENTIALS
    ],
)
def test_export_with_unusable_credentials_is_refused_and_writes_no_file(
    tenants: Any, tmp_path: Path, provider: str, override: dict[str, Any], message: str
) -> None:
    emulator, variables = tenants(provider)
    out = tmp_path / "exported"
    result = invoke(
        "export", "--provider", provider, "--out", str(out), env={**variables, **override}
    )
    # Scalekit's token request is a POST that changes nothing; every other write counts.
    assert_refused(result, message, emulator=None if provider == "scalekit" else emulator)
    assert [w for w in emulator.writes() if w["path"] != "/oauth/token"] == []
    assert not out.exists()
    for secret in ("sk_test_not_the_key", "not-the-secret"):
        assert secret not in result.output


def test_export_from_without_emulate_is_refused(tmp_path: Path) -> None:
    result = invoke("export", "--from", "manifests", "--out", str(tmp_path / "out"))
    assert_refused(result, r"--from names the manifest whose emulated tenant .* needs --emulate")
    assert not (tmp_path / "out").exists()


def test_export_emulate_of_another_providers_tenant_is_refused(example: Path) -> None:
    before = state_digests(example)
    result = invoke("export", "--emulate", "--provider", "clerk", "--out", "exported")
    assert_refused(result, r"--provider clerk: the emulated tenant of manifests is a workos tenant")
    assert not (example / "exported").exists() and state_digests(example) == before


def test_export_emulate_from_a_missing_manifest_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("export", "--emulate", "--from", "nowhere", "--out", "exported")
    assert_refused(result, r"nowhere: no such file or directory")
    assert not (tmp_path / "exported").exists() and not (tmp_path / ".authform").exists()


# --------------------------------------------------------------------------- where files land


@pytest.mark.parametrize("field", ["reports_dir", "mapping_file"])
def test_import_reports_inside_the_manifest_folder_are_refused_with_their_place(
    workos_emulator: RunningEmulator, tmp_path: Path, field: str
) -> None:
    folder = tmp_path / "manifests"
    inside = folder / ("reports" if field == "reports_dir" else "reports/id-mapping.json")
    write_manifest(
        folder,
        f"""
        version: 1
        target:
          provider: workos
          api_key: "${{env:WORKOS_API_KEY}}"
          base_url: "${{env:WORKOS_BASE_URL}}"
        users:
          source: {{kind: clerk-csv, path: {REPO / "tests/fixtures/clerk/users.csv"}}}
          {field}: {inside}
        """,
    )
    env = {"WORKOS_API_KEY": workos_emulator.api_key, "WORKOS_BASE_URL": workos_emulator.url}
    result = invoke("plan", str(folder), env=env)
    assert_refused(
        result,
        rf"authform\.yaml:8:\d+: users\.{field}: .* is inside the manifest folder .*"
        r"email addresses",
        emulator=workos_emulator,
    )
    assert workos_emulator.requests_log() == []  # refused before any request
    assert not (folder / "reports").exists()


def test_schema_out_without_write_is_refused(tmp_path: Path) -> None:
    result = invoke("schema", "--out", str(tmp_path / "schema.json"))
    assert_refused(result, r"--out names the file `schema --write` writes: add --write")
    assert not (tmp_path / "schema.json").exists()


def test_the_state_file_of_an_environment_is_its_own(tmp_path: Path) -> None:
    """Guard for the layout the README documents: one file per provider and environment
    inside the manifest's own state folder."""
    staging = emulator_state_file(tmp_path / "m", "workos", "staging")
    assert staging.name == "workos-staging.sqlite3"
    assert staging.parent == emulator_state_file(tmp_path / "m", "workos").parent
