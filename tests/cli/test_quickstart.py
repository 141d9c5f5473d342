"""The README's first command, run as a user would: the real entry point, --emulate, a fresh
directory holding only the example manifests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def authform(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKOS_")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "authform.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_quickstart_exits_as_a_real_tenant_would_until_the_dashboard_step(tmp_path):
    """The emulator is a rehearsal of the real tenant: apply leaves the dashboard-only step
    pending (exit 2) and verify fails (exit 3) until someone takes it, here explicitly on the
    emulated dashboard."""
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    plan = authform(tmp_path, "plan", "--emulate", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert "Plan: 10 to create, 0 to update, 0 to replace, 0 to delete, 1 manual." in plan.stdout

    apply = authform(tmp_path, "apply", "--emulate", "--auto-approve")
    assert apply.returncode == 2, apply.stdout + apply.stderr
    assert "Applied 10 change(s)." in apply.stdout
    assert "! social_connection.google" in apply.stdout
    assert "authform emulator dashboard manifests" in apply.stderr

    early = authform(tmp_path, "verify", "--emulate")
    assert early.returncode == 3, early.stdout + early.stderr
    assert "FAIL social_connection.google" in early.stdout

    # Nothing but the explicit dashboard step changes that: a second apply still exits 2.
    assert authform(tmp_path, "apply", "--emulate", "--auto-approve").returncode == 2

    clicked = authform(tmp_path, "emulator", "dashboard")
    assert clicked.returncode == 0, clicked.stdout + clicked.stderr
    assert "done on the emulated dashboard: social_connection.google" in clicked.stdout

    verify = authform(tmp_path, "verify", "--emulate")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Verify: 11 of 11 checks passed." in verify.stdout

    # state persisted in .authform/: a second plan sees no changes
    again = authform(tmp_path, "plan", "--emulate", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout
    [state] = (tmp_path / ".authform").glob("manifests-*/workos.sqlite3")
    assert str(state.relative_to(tmp_path)) in again.stderr


def readme_quickstart() -> str:
    """The README's first command, after the part that creates the venv and installs."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    first = next(line for line in block.splitlines() if line and not line.startswith("#"))
    install = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
    assert first.startswith(install), first
    return first[len(install) :]


def test_the_readme_quickstart_runs_and_succeeds_twice(tmp_path):
    """Run the README's command as written (authform already installed): it ends in a passing
    verify, and it can be run again on the state it left."""
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    command = readme_quickstart()
    assert "authform emulator dashboard" in command
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKOS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    for _ in range(2):
        run = subprocess.run(
            ["sh", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Verify: 11 of 11 checks passed." in run.stdout


def test_usage_errors_exit_1_not_clicks_2(tmp_path):
    """2 means "changes pending" in authform; a typo on the command line is bad input."""
    result = authform(tmp_path, "plan", "--no-such-flag")
    assert result.returncode == 1
    assert "No such option" in result.stderr
    assert authform(tmp_path, "emulator", "not-a-provider").returncode == 1
