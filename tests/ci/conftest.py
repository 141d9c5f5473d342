"""Run the GitHub Action's scripts and the example workflows' steps as a runner would: bash,
the runner's files (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_ENV``), ``authform``
from this virtualenv, and a fake ``gh`` (``fake_gh.py``) holding the repository's state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FAKE_GH = Path(__file__).with_name("fake_gh.py")


def workflow_step(path: Path, name: str) -> dict[str, Any]:
    """The step called ``name`` in a workflow's jobs or a composite action's steps."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "runs" in document:
        steps = document["runs"]["steps"]
    else:
        steps = [step for job in document["jobs"].values() for step in job.get("steps", [])]
    return next(step for step in steps if step.get("name") == name)


def parse_outputs(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@dataclass
class Runner:
    """One job's worth of runner state in a temporary workspace."""

    workspace: Path
    temp: Path
    bin: Path
    state_file: Path
    base_env: dict[str, str] = field(default_factory=dict)

    @property
    def output_file(self) -> Path:
        return self.temp / "github_output"

    @property
    def summary_file(self) -> Path:
        return self.temp / "step_summary.md"

    @property
    def env_file(self) -> Path:
        return self.temp / "github_env"

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def seed(self, **values: Any) -> None:
        state = self.state()
        state.update(values)
        self.state_file.write_text(json.dumps(state))

    def outputs(self) -> dict[str, str]:
        return parse_outputs(self.output_file)

    def bash(
        self, script: str | Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a script file, or a step's ``run:`` text, with ``bash -e`` as the runner does
        (its default shell is ``bash --noprofile --norc -eo pipefail {0}``)."""
        if isinstance(script, Path):
            command = ["bash", str(script)]
        else:
            step = self.temp / "step.sh"
            step.write_text(script)
            command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(step)]
        # The output file is per step on a runner; a fresh one per call keeps reads simple.
        self.output_file.unlink(missing_ok=True)
        return subprocess.run(
            command,
            cwd=self.workspace,
            env={**self.base_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=180,
        )


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (GitHub's runners have it; gh --jq stands in for it)")
    workspace, temp, bin_dir = tmp_path / "workspace", tmp_path / "runner-temp", tmp_path / "bin"
    for folder in (workspace, temp, bin_dir):
        folder.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_GH}" "$@"\n')
    gh.chmod(0o755)
    state = tmp_path / "gh-state.json"
    venv_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKOS_", "GITHUB_"))}
    env.update(
        {
            "PATH": os.pathsep.join([str(bin_dir), str(venv_bin), env.get("PATH", "")]),
            "NO_COLOR": "1",
            "FAKE_GH_STATE": str(state),
            "RUNNER_TEMP": str(temp),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REPOSITORY": "acme/auth-config",
            "GITHUB_OUTPUT": str(temp / "github_output"),
            "GITHUB_STEP_SUMMARY": str(temp / "step_summary.md"),
            "GITHUB_ENV": str(temp / "github_env"),
            "GITHUB_ACTION_PATH": str(REPO),
        }
    )
    return Runner(workspace, temp, bin_dir, state, env)
