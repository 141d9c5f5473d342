# ruff: noqa: F811 (tests take the imported `cli` fixture of tests/cli as an argument)
"""Every change of a plan names what caused it: in JSON, text, Markdown and GitHub notices.

Real HTTP to the WorkOS emulator; the manifest and exports live in a temporary checkout that
is the working directory, so the paths are what a CI job sees.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli.conftest import BASE_MANIFEST, cli  # noqa: F401 (the `cli` fixture of tests/cli)
from cli.manifests import IMPORT_ROLES, WORKOS_TARGET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clerk"
GITHUB = {"GITHUB_ACTIONS": "true"}


@pytest.fixture
def checkout(cli, monkeypatch):
    """The manifest folder's parent is the working directory (as a CI checkout would be)."""
    monkeypatch.chdir(cli.folder.parent)
    result = cli.run("apply", str(cli.folder), "--auto-approve")
    assert result.exit_code in (0, 2), result.output
    return cli


def _line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def _changes(result) -> dict[str, dict]:
    return {c["address"]: c for c in json.loads(result.stdout)["changes"]}


EDITED = BASE_MANIFEST.replace(
    '  - {slug: member, name: Member, permissions: ["reports:read"]}',
    "  - slug: member\n    name: Member\n    permissions:\n"
    '      - "reports:read"\n      - "billing:manage"',
).replace("    metadata: {tier: enterprise}\n", "    metadata: {tier: startup}\n")


def test_an_update_names_the_item_and_the_changed_fields_line(checkout):
    manifest = checkout.write(EDITED)
    result = checkout.run("plan", "manifests", "--format", "json", env={"GITHUB_ACTIONS": None})
    assert result.exit_code == 0, result.output
    changes = _changes(result)
    member = changes["role.member"]["source"]
    item_line = _line_of(manifest, "- slug: member")
    field_line = _line_of(manifest, "    permissions:")
    assert member == {
        "file": "manifests/authform.yaml",
        "line": item_line,
        "column": 5,
        "fields": [
            {
                "path": "permissions",
                "file": "manifests/authform.yaml",
                "line": field_line,
                "column": 5,
            }
        ],
    }
    acme = changes["organization.acme"]["source"]
    assert acme["fields"] == [
        {
            "path": "metadata.tier",
            "file": "manifests/authform.yaml",
            "line": _line_of(manifest, "tier: startup"),
            "column": _line_of_column(manifest, "tier: startup"),
        }
    ]


def _line_of_column(path: Path, text: str) -> int:
    line = path.read_text().splitlines()[_line_of(path, text) - 1]
    return line.index(text) + 1


def test_the_github_notice_lands_on_the_changed_line(checkout):
    writes = len(checkout.emulator.writes())
    manifest = checkout.write(EDITED)
    result = checkout.run("plan", "manifests", env=GITHUB)
    assert result.exit_code == 0, result.output
    field_line = _line_of(manifest, "    permissions:")
    assert (
        f"::notice file=manifests/authform.yaml,line={field_line},col=5,title=authform plan::"
        '~ role.member: permissions + "billing:manage"'
    ) in result.output
    # The text plan says the same place, link-free.
    assert f"# manifests/authform.yaml:{field_line}:5 (permissions)" in result.output
    assert len(checkout.emulator.writes()) == writes  # plan never writes


def test_notices_are_off_outside_github_actions_unless_asked(checkout):
    checkout.write(EDITED)
    plain = checkout.run("plan", "manifests", env={"GITHUB_ACTIONS": None})
    assert "::notice" not in plain.output
    asked = checkout.run(
        "plan", "manifests", "--annotations", "github", env={"GITHUB_ACTIONS": None}
    )
    assert "::notice file=manifests/authform.yaml" in asked.output
    off = checkout.run("plan", "manifests", "--annotations", "none", env=GITHUB)
    assert "::notice" not in off.output


def test_a_json_plan_on_github_actions_stays_json(checkout):
    checkout.write(EDITED)
    result = checkout.run("plan", "manifests", "--format", "json", env=GITHUB)
    assert json.loads(result.stdout)["changes"]
    assert "::notice" in result.stderr


def test_a_delete_names_the_section_that_manages_the_kind(checkout):
    manifest = checkout.write(BASE_MANIFEST.replace("  - key: globex\n    name: Globex\n", ""))
    result = checkout.run("plan", "manifests", "--format", "json", env={"GITHUB_ACTIONS": None})
    source = _changes(result)["organization.globex"]["source"]
    assert source == {
        "section": "organizations",
        "file": "manifests/authform.yaml",
        "line": _line_of(manifest, "organizations:"),
        "column": 1,
    }
    text = checkout.run("plan", "manifests", env=GITHUB)
    assert "# not listed in organizations (manifests/authform.yaml:" in text.output
    assert "::notice file=manifests/authform.yaml,line=" in text.output
    assert "- organization.globex (not applied: deletes are not allowed" in text.output


def test_the_markdown_plan_shows_the_place_as_code(checkout):
    manifest = checkout.write(EDITED)
    result = checkout.run("plan", "manifests", "--format", "markdown")
    field_line = _line_of(manifest, "    permissions:")
    row = next(line for line in result.output.splitlines() if "`role.member`" in line)
    assert f"from `manifests/authform.yaml:{field_line}:5 (permissions)`" in row


def test_many_changed_lines_stop_at_ten_notices(checkout):
    uris = "\n".join(f"  - https://app{n}.example.com/callback" for n in range(15))
    checkout.write(
        BASE_MANIFEST.replace(
            "redirect_uris: [https://app.example.com/callback]",
            "redirect_uris:\n  - https://app.example.com/callback\n" + uris,
        )
    )
    result = checkout.run("plan", "manifests", env=GITHUB)
    notices = [line for line in result.output.splitlines() if line.startswith("::notice")]
    # 15 new redirect URIs and the social connection's manual step still pending: 16 lines,
    # of which 9 are annotated and the tenth notice counts the other 7.
    assert len(notices) == 10
    assert notices[-1] == (
        "::notice title=authform plan::… and 7 more lines or files with changes: "
        "the plan lists them all"
    )


IMPORT = (
    WORKOS_TARGET
    + IMPORT_ROLES
    + """\
users:
  source:
    kind: clerk-csv
    path: ../exports/users.csv
    organizations: ../exports/organizations.json
    memberships: ../exports/memberships.json
  reports_dir: reports
"""
)


def test_imported_rows_are_counted_per_file_not_annotated_one_by_one(cli, monkeypatch):
    shutil.copytree(FIXTURES, cli.folder.parent / "exports")
    monkeypatch.chdir(cli.folder.parent)
    cli.write(IMPORT)
    result = cli.run("plan", "manifests", "--format", "json", env=GITHUB)
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    users = [c for c in changes if c["kind"] == "user"]
    assert users and all(c["source"]["file"] == "exports/users.csv" for c in users)
    assert all(isinstance(c["source"]["row"], int) for c in users)
    memberships = [c for c in changes if c["kind"] == "membership"]
    assert memberships[0]["source"]["file"] == "exports/memberships.json"
    notices = [line for line in result.stderr.splitlines() if line.startswith("::notice")]
    assert f"::notice file=exports/users.csv,title=authform plan::{len(users)} user creates " in (
        "\n".join(notices) + " "
    ).replace("from the records of this file", "")
    assert sum("exports/users.csv" in n for n in notices) == 1
    assert not any(str(cli.folder.parent) in line for line in result.output.splitlines())
    text = cli.run("plan", "manifests", env={"GITHUB_ACTIONS": None})
    assert "# exports/users.csv row " in text.output
