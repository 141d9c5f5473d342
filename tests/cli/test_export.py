"""`authform export` against the WorkOS emulator: what it writes plans back to no changes."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from authform.cli import app
from authform.export import EXPORT_HEADER

REPO = Path(__file__).resolve().parents[2]
SECTION_FILES = [
    "cors_origins.yaml",
    "organizations.yaml",
    "permissions.yaml",
    "redirect_uris.yaml",
    "roles.yaml",
    "target.yaml",
]


def api(cli, method, path, **kwargs):
    with httpx.Client(base_url=cli.emulator.url, timeout=10) as client:
        response = client.request(
            method, path, headers={"Authorization": f"Bearer {cli.emulator.api_key}"}, **kwargs
        )
    response.raise_for_status()
    return response.json() if response.content else None


def read_folder(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def test_round_trip_of_the_example_manifests_on_the_embedded_emulator(tmp_path, monkeypatch):
    """The README's example applied, exported, and the export planned back: no changes."""
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {k: None for k in os.environ if k.startswith("WORKOS_")} | {"NO_COLOR": "1"}

    applied = runner.invoke(app, ["apply", "--emulate", "--auto-approve"], env=env)
    assert applied.exit_code == 2, applied.output  # the social connection: a dashboard step

    exported = runner.invoke(
        app, ["export", "--emulate", "--from", "manifests", "--out", "exported"], env=env
    )
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in (tmp_path / "exported").iterdir()) == SECTION_FILES
    assert "Not exported: social connections" in exported.output

    # The exported folder serves the tenant it came from (as the same credentials would).
    assert "exported now plans against the tenant it was exported from" in exported.output
    planned = runner.invoke(app, ["plan", "exported", "--emulate", "--detailed-exitcode"], env=env)
    assert planned.exit_code == 0, planned.output
    assert "No changes" in planned.output

    # What was exported is what the example declares (social connections aside).
    roles = yaml.safe_load((tmp_path / "exported" / "roles.yaml").read_text())["roles"]
    assert [r["slug"] for r in roles] == ["admin", "member"]
    assert roles[0]["permissions"] == ["billing:manage", "members:invite", "reports:read"]


def test_export_writes_placeholders_never_secrets(cli, tmp_path):
    cli.run("apply", str(cli.folder), "--auto-approve")
    cli.emulator.clear_log()
    out = tmp_path / "exported"
    result = cli.run("export", "--out", str(out))
    assert result.exit_code == 0, result.output
    target = yaml.safe_load((out / "target.yaml").read_text())["target"]
    assert target == {
        "provider": "workos",
        "api_key": "${env:WORKOS_API_KEY}",
        "client_id": "${env:WORKOS_CLIENT_ID}",
        "base_url": "${env:WORKOS_BASE_URL}",
    }
    for text in [*read_folder(out).values(), result.output]:
        assert cli.emulator.api_key not in text
    assert "social_connections" in (out / "target.yaml").read_text()  # the note, commented
    assert cli.emulator.writes() == []  # export only reads

    planned = cli.run("plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output


def test_unkeyed_organizations_get_stable_keys_and_are_adopted_once(cli, tmp_path):
    api(cli, "POST", "/organizations", json={"name": "Initech", "metadata": {"plan": "pro"}})
    api(cli, "POST", "/organizations", json={"name": "Umbrella Corp."})
    api(cli, "POST", "/organizations", json={"name": "Acme", "external_id": "initech"})
    out = tmp_path / "exported"
    result = cli.run("export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 organization(s) had no external_id" in result.output

    text = (out / "organizations.yaml").read_text()
    organizations = yaml.safe_load(text)["organizations"]
    # "initech" is taken by a keyed organization, so the unkeyed one's key ends in its id.
    keys = [o["key"] for o in organizations]
    assert keys[0] == "initech" and keys[1].startswith("initech-") and keys[2] == "umbrella-corp"
    assert "No external_id in the provider" in text

    # Honest round trip: the first plan adopts each unkeyed organization by its name (no
    # create, no delete), apply stores the keys, and then nothing is left to do.
    planned = cli.run("plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert planned.output.count("which has no key yet") == 2
    assert "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete" in planned.output
    assert cli.run("apply", str(out), "--auto-approve").exit_code == 0
    assert cli.run("plan", str(out), "--detailed-exitcode").exit_code == 0

    # The keys are stored now; a second export is byte-identical except for the comments
    # that explained the generated keys.
    again = tmp_path / "again"
    assert cli.run("export", "--out", str(again)).exit_code == 0
    assert read_folder(again)["organizations.yaml"] == "".join(
        line for line in text.splitlines(keepends=True) if "  # " not in line
    )


def test_organizations_sharing_a_name_without_keys_are_listed_not_guessed(cli, tmp_path):
    for _ in range(2):
        api(cli, "POST", "/organizations", json={"name": "Twin"})
    out = tmp_path / "exported"
    result = cli.run("export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 organizations named 'Twin' have no external_id" in result.output
    assert yaml.safe_load((out / "organizations.yaml").read_text())["organizations"] == []
    planned = cli.run("plan", str(out))
    assert planned.output.count("not applied: deletes are not allowed") == 2
    assert "to create" in planned.output and "0 to create" in planned.output


def test_re_export_is_byte_identical_and_values_survive_quoting(cli, tmp_path):
    tricky = {
        "name": "yes",
        "metadata": {
            "note": 'He said "hi": 50% off, #1 ${not_a_variable}',
            "multi": "line one\nline two",
            "unicode": "Zürich ☃",
            "number": "0123",
            "empty": "",
        },
        "external_id": "tricky",
    }
    api(cli, "POST", "/organizations", json=tricky)
    api(cli, "POST", "/authorization/permissions", json={"slug": "a:b", "name": "null"})
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli.run("export", "--out", str(first)).exit_code == 0
    assert cli.run("export", "--out", str(second)).exit_code == 0
    assert read_folder(first) == read_folder(second)

    organization = yaml.safe_load((first / "organizations.yaml").read_text())["organizations"][0]
    assert organization["name"] == "yes"
    assert organization["metadata"]["note"] == 'He said "hi": 50% off, #1 $${not_a_variable}'
    assert organization["metadata"]["multi"] == "line one\nline two"
    planned = cli.run("plan", str(first), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output


def test_export_overwrites_only_its_own_files(cli, tmp_path):
    out = tmp_path / "team-manifests"
    out.mkdir()
    (out / "mine.yaml").write_text("version: 1\n")
    refused = cli.run("export", "--out", str(out))
    assert refused.exit_code == 1
    assert "did not write" in refused.output and "mine.yaml" in refused.output
    assert sorted(p.name for p in out.iterdir()) == ["mine.yaml"]

    (out / "mine.yaml").unlink()
    assert cli.run("export", "--out", str(out)).exit_code == 0
    assert (out / "roles.yaml").read_text().startswith(f"# {EXPORT_HEADER}")
    assert cli.run("export", "--out", str(out)).exit_code == 0  # its own files: overwritten


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WORKOS_API_KEY": None}, "set WORKOS_API_KEY"),
        ({"WORKOS_BASE_URL": "http://api.example.com"}, "must use https"),
    ],
)
def test_export_without_usable_credentials_is_refused_before_any_request(
    cli, tmp_path, env, message
):
    result = cli.run("export", "--out", str(tmp_path / "out"), env=env)
    assert result.exit_code == 1
    assert message in result.output
    assert cli.emulator.requests_log() == []
    assert not (tmp_path / "out").exists()


def test_export_of_an_unknown_provider_is_an_error(cli, tmp_path):
    result = cli.run("export", "--provider", "okta", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "export supports clerk, scalekit, workos, not 'okta'" in result.output


def test_values_the_manifest_rules_refuse_are_reported_with_positions(cli, tmp_path):
    api(cli, "POST", "/organizations", json={"name": "Odd", "external_id": "has space"})
    out = tmp_path / "exported"
    result = cli.run("export", "--out", str(out))
    assert result.exit_code == 1
    assert re.search(
        r"organizations\.yaml:\d+:\d+: organizations\[0\]\.key: invalid", result.output
    )
    assert "do not validate (1 problem(s) above)" in result.output
