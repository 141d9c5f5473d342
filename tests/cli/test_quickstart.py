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


def test_quickstart_plan_apply_verify_on_the_embedded_emulator(tmp_path):
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    plan = authform(tmp_path, "plan", "--emulate", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert "Plan: 10 to create, 0 to update, 0 to replace, 0 to delete, 1 manual." in plan.stdout

    apply = authform(tmp_path, "apply", "--emulate", "--auto-approve")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert "done on the emulated dashboard: social_connection.google" in apply.stdout

    verify = authform(tmp_path, "verify", "--emulate")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Verify: 11 of 11 checks passed." in verify.stdout

    # state persisted in .authform/: a second plan sees no changes
    again = authform(tmp_path, "plan", "--emulate", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout
    assert (tmp_path / ".authform" / "workos.sqlite3").exists()


def test_usage_errors_exit_1_not_clicks_2(tmp_path):
    """2 means "changes pending" in authform; a typo on the command line is bad input."""
    result = authform(tmp_path, "plan", "--no-such-flag")
    assert result.returncode == 1
    assert "No such option" in result.stderr
    assert authform(tmp_path, "emulator", "not-a-provider").returncode == 1
