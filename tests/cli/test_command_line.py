"""What every CLI of this kind has (issue 10, item 7), run as a user runs it: a real process of
``python -m authform``, with the terminal width a user has."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
import typer
import yaml

from authform import __version__
from authform.cli import app
from authform.manifest.loader import START_A_MANIFEST

REPO = Path(__file__).resolve().parents[2]
COMMANDS = list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def authform(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WORKOS_", "_AUTHFORM"))}
    return subprocess.run(
        [sys.executable, "-m", "authform", *args],
        cwd=cwd,
        env={**clean, "NO_COLOR": "1", "COLUMNS": "80", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version_is_the_packages_version(tmp_path: Path) -> None:
    result = authform("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"authform {__version__}\n"
    assert installed_version("authform") == __version__


def test_top_level_help_lists_every_command_with_a_whole_first_sentence(tmp_path: Path) -> None:
    for flag in ("-h", "--help"):
        result = authform(flag, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
        for name in COMMANDS:
            [row] = [line for line in lines if line.startswith(f"  {name} ")]
            summary = row[len(name) + 2 :].strip()
            # click cuts a summary that does not fit with "..."; each one is a whole sentence
            assert summary.endswith(".") and not summary.endswith("..."), row
        for option in ("--version", "--install-completion", "--show-completion", "-h, --help"):
            assert option in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_wraps_to_the_terminal_and_shows_flags_as_flags(
    tmp_path: Path, command: str
) -> None:
    result = authform(command, "-h", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: authform {command} ")
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    # a flag is shown as `--flag`, never with a value placeholder such as <bool>
    assert "<bool>" not in result.stdout and "BOOLEAN" not in result.stdout
    # the docstring's paragraphs are re-wrapped: no line of it ends mid-sentence where the
    # source line happened to break, followed by a one-word line
    description = result.stdout.split("\n\n")[1]
    assert all(len(line.split()) > 1 for line in description.splitlines()), description


def test_shell_completion_script_and_answers(tmp_path: Path) -> None:
    script = authform("--show-completion", "bash", cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "_AUTHFORM_COMPLETE=complete_bash" in script.stdout
    commands = authform(
        cwd=tmp_path,
        _AUTHFORM_COMPLETE="complete_bash",
        COMP_WORDS="authform pl",
        COMP_CWORD="1",
    )
    assert commands.stdout.split() == ["plan"], commands.stderr
    options = authform(
        cwd=tmp_path,
        _AUTHFORM_COMPLETE="complete_bash",
        COMP_WORDS="authform plan --det",
        COMP_CWORD="2",
    )
    assert options.stdout.split() == ["--detailed-exitcode"], options.stderr


def test_no_manifests_folder_says_how_to_start_one(tmp_path: Path) -> None:
    """Issue 10, item 9: the first thing a new user types, in a folder with no manifests."""
    for command in ("plan", "validate"):
        result = authform(command, cwd=tmp_path)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert f"manifests: no such file or directory. {START_A_MANIFEST}" in result.stderr
    assert "authform export --out manifests" in START_A_MANIFEST
    assert "example folder `manifests/`" in START_A_MANIFEST
    assert list(tmp_path.iterdir()) == []


def test_licence_and_changelog_ship_with_the_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(__version__)}\]", changelog, re.MULTILINE)


def test_readme_references_name_the_release_and_hooks_that_exist() -> None:
    """The pre-commit snippet and the Action's `uses:` name this version's tag (the one the
    CHANGELOG announces), a hook id this repository defines, and inputs action.yml has."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tag = f"v{__version__}"
    hooks = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    pre_commit = [yaml.safe_load(b) for b in blocks if "repos:" in b]
    assert pre_commit, "the README shows a .pre-commit-config.yaml"
    for config in pre_commit:
        for repo in config["repos"]:
            if repo["repo"] != "local":
                assert repo["rev"] == tag
            for hook in repo["hooks"]:
                if repo["repo"] == "local":
                    assert hook["entry"].startswith("authform validate")
                else:
                    assert hook["id"] in hooks
    action_refs = re.findall(r"your-org/authform@([\w.]+)", readme)
    for workflow in (REPO / "examples" / "github").glob("*.yml"):
        action_refs += re.findall(r"your-org/authform@([\w.]+)", workflow.read_text())
    assert action_refs and set(action_refs) == {tag}
    inputs = set(yaml.safe_load((REPO / "action.yml").read_text())["inputs"])
    for workflow in (REPO / "examples" / "github").glob("*.yml"):
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("your-org/authform@"):
                    assert set(step.get("with", {})) <= inputs, step
