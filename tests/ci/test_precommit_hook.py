"""The pre-commit hook definition: valid, and its entry validates the folders of changed files."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from authform.cli import app

from .conftest import REPO

HOOKS = REPO / ".pre-commit-hooks.yaml"
# The keys pre-commit reads from a hook definition (pre_commit/clientlib.py, MANIFEST_HOOK_DICT).
HOOK_KEYS = {
    "id", "name", "entry", "language", "alias", "files", "exclude", "types", "types_or",
    "exclude_types", "additional_dependencies", "args", "always_run", "fail_fast",
    "pass_filenames", "description", "language_version", "log_file", "require_serial",
    "stages", "verbose", "minimum_pre_commit_version",
}  # fmt: skip


def hook() -> dict:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and len(hooks) == 1
    return hooks[0]


def test_the_hook_definition_is_what_pre_commit_reads() -> None:
    definition = hook()
    assert set(definition) <= HOOK_KEYS
    assert {"id", "name", "entry", "language"} <= set(definition)
    assert definition["id"] == "authform-validate"
    assert definition["language"] == "python"  # pre-commit pip-installs this repository
    assert definition["pass_filenames"] is True
    files = re.compile(definition["files"])
    assert files.search("manifests/roles.yaml") and files.search("manifests/staging/target.yml")
    assert not files.search(".github/workflows/ci.yml")
    assert not files.search("manifests/exports/users.csv")


def run_entry(cwd: Path, *changed: str):
    program, *args = shlex.split(hook()["entry"])
    assert program == "authform"
    return CliRunner().invoke(app, [*args, *changed], env={"WORKOS_API_KEY": None})


def test_the_entry_validates_each_changed_files_folder_once_without_credentials(
    tmp_path, monkeypatch
) -> None:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    monkeypatch.chdir(tmp_path)
    result = run_entry(
        tmp_path,
        "manifests/authorization.yaml",
        "manifests/organizations.yaml",
        "manifests/examples/portable/target.yaml",
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "manifests: valid (4 file(s)).",
        "manifests/examples/portable: valid (4 file(s)).",
    ]


def test_the_entry_reports_a_broken_manifest_with_its_position(tmp_path, monkeypatch) -> None:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    monkeypatch.chdir(tmp_path)
    roles = tmp_path / "manifests" / "authorization.yaml"
    roles.write_text(roles.read_text().replace("name: Member", "nme: Member"))
    result = run_entry(tmp_path, "manifests/authorization.yaml")
    assert result.exit_code == 1
    assert re.search(
        r"manifests/authorization\.yaml:\d+:\d+: roles\[1\]\.nme: unknown key", result.output
    )
