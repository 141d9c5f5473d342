"""The committed JSON Schema: fresh, valid draft 2020-12, and accepting every valid manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from authform.manifest import SCHEMA_PATH, manifest_json_schema, render_schema, write_schema

from .conftest import DATA

VALID_FILES = sorted(
    path
    for folder in (DATA / "valid", DATA / "folder")
    for path in folder.iterdir()
    if path.suffix in (".yaml", ".yml") and not path.name.startswith(".")
)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(manifest_json_schema())


def test_committed_schema_is_fresh() -> None:
    committed_file = Path(__file__).parents[2] / SCHEMA_PATH
    committed = committed_file.read_text(encoding="utf-8") if committed_file.exists() else ""
    assert committed == render_schema(), "stale schema: run `authform schema --write`"


def test_schema_write_goes_to_the_working_directory_not_the_package(tmp_path, monkeypatch):
    """From an installed wheel, the package's own folder is site-packages: `schema --write`
    writes where the user runs it (or to --out), never next to the code."""
    from authform.cli import app

    monkeypatch.chdir(tmp_path)
    assert not SCHEMA_PATH.is_absolute()
    result = CliRunner().invoke(app, ["schema", "--write"])
    assert result.exit_code == 0, result.output
    assert "Wrote schemas/authform.schema.json." in result.output
    assert (tmp_path / "schemas" / "authform.schema.json").read_text() == render_schema()
    elsewhere = CliRunner().invoke(app, ["schema", "--write", "--out", "editor/schema.json"])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert (tmp_path / "editor" / "schema.json").read_text() == render_schema()


def test_schema_is_valid_draft_2020_12() -> None:
    schema = manifest_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_rendering_is_stable(tmp_path: Path) -> None:
    text = render_schema()
    assert text.endswith("}\n")
    assert write_schema(tmp_path / "s.json").read_text(encoding="utf-8") == text


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_valid_manifests_validate(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in _validator().iter_errors(document)]
    assert errors == []


def test_there_are_fixtures_to_validate() -> None:
    assert len(VALID_FILES) >= 6


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"rolez": []}, "'rolez' does not match any of the regexes: '^x-'"),
        ({"target": {"provider": "okta"}}, "'okta' is not one of"),
        ({"permissions": [{"slug": "Bad Slug", "name": "x"}]}, "does not match"),
        ({"roles": [{"slug": "admin"}]}, "'name' is a required property"),
        (
            {
                "organizations": [
                    {"key": "a", "name": "A", "domains": [{"domain": "a.com", "state": "x"}]}
                ]
            },
            "is not one of",
        ),
        ({"users": {"source": {"kind": "clerk-api"}}}, "is not valid under any of the given"),
        ({"policy": {"max_delete_percent": 101}}, "101 is greater than the maximum of 100"),
        (
            {"social_connections": [{"provider": "myspace", "client_id": "x"}]},
            "'myspace' is not one of",
        ),
    ],
)
def test_schema_rejects_what_the_loader_rejects(document: dict[str, Any], fragment: str) -> None:
    messages = [e.message for e in _validator().iter_errors(document)]
    assert any(fragment in m for m in messages), messages


def test_editor_friendly_details() -> None:
    schema = manifest_json_schema()
    target = schema["$defs"]["Target"]["properties"]
    assert target["api_key"]["type"] == "string"  # SecretStr is a plain string to editors
    assert "null" not in str(target["base_url"])  # optional means omitted, not null
    assert "required" not in schema  # each file of a folder is a partial manifest
    assert schema["properties"]["roles"]["description"] == "Roles."
    assert _validator().is_valid({"x-anchors": {"anything": [1, 2]}})
