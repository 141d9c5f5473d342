"""Ctrl-C while a plan parses its export or reads the database: exit 130 and "Interrupted.",
never a crash. Found when a SIGINT during a 100,000-user KavachOS plan ended two runs in six
with SIGSEGV (exit -11): the session closed its index while the parse thread was still
running a statement on it. A crash depends on where the thread is when Ctrl-C comes, so each
run of this test stops several plans at moments spread over the parse and the read; the
code before the fix crashed at about one in three of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import make_database
from .databases import synthetic_manifest

USERS, ORGS, PER_USER = 30_000, 1_500, 1
# When to stop each plan, as fractions of how long a whole plan takes on this machine from
# its scratch index's creation (its imports done, the parse starting): through the parse,
# into the read. Fixed delays (0.1 to 2.6 s) outlasted a fast machine's plan, which then
# finished before most of them (found: "the plans finished before they could be stopped").
STOP_AT = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8)
BOUND_S = 20


def test_ctrl_c_during_parse_or_read_exits_130_without_a_crash(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db = make_database("sqlite", request, tmp_path)
    manifest = synthetic_manifest(tmp_path, USERS, ORGS, PER_USER)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "DATABASE_URL": db.url, "NO_COLOR": "1", "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "authform.cli", "plan", str(manifest)]

    def start_plan() -> tuple[subprocess.Popen[bytes], float]:
        """A plan process, and the moment its scratch index appeared."""
        run = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + BOUND_S
        while not any(scratch.iterdir()) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return run, time.monotonic()

    whole, started = start_plan()
    whole.communicate(timeout=BOUND_S)
    assert whole.returncode == 0  # the plan ran to its end (no --detailed-exitcode)
    plan_s = time.monotonic() - started
    stopped = 0
    for fraction in STOP_AT:
        run, _ = start_plan()
        delay = fraction * plan_s
        time.sleep(delay)
        if run.poll() is not None:  # a fast machine planned it all before this moment
            run.communicate()
            continue
        run.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = (part.decode() for part in run.communicate(timeout=BOUND_S))
        output = out + err
        assert "Traceback" not in output, output
        if "\nPlan: " in out and run.returncode in (0, -signal.SIGINT):
            # The signal came as the process exited, its plan printed in full: Python ends
            # by the signal itself then (a shell sees 130 all the same), or not at all.
            continue
        assert run.returncode == 130, (delay, run.returncode, output)
        assert time.monotonic() - sent < 10, output  # stops promptly, not after the parse
        assert "Interrupted." in err, output
        assert "Traceback" not in output, output
        stopped += 1
    assert stopped >= 3, "the plans finished before they could be stopped"
    assert list(scratch.iterdir()) == []  # each command's scratch index removed
    assert db.count("kavach_users") == 0  # a plan writes nothing
