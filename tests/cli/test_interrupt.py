"""Ctrl-C during apply (issue 9, finding 10): the real process, a real SIGINT, mid-write.

It must stop within seconds, say how far it got and that a rerun resumes, exit 130 with no
traceback, and the rerun must converge with no duplicate.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections import Counter

import pytest

from .stopped_apply import (
    APPLY,
    live_organization_keys,
    organizations_manifest,
    process_env,
    stop_apply_mid_write,
)

ORGS = 60


# SIGTERM as Ctrl-C: what a CI runner cancelling the job, ``docker stop`` or Kubernetes send
# (found: it ended the apply at once, mid-write, with no word of how far it got, its journal
# left without an end).
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_mid_apply_says_how_far_it_got_exits_130_and_the_rerun_converges(
    workos_emulator, tmp_path, stop
):
    emulator = workos_emulator
    organizations_manifest(emulator, tmp_path, ORGS)
    stopped = stop_apply_mid_write(emulator, tmp_path, after_writes=10, stop=stop)
    assert stopped.seconds < 10  # stops promptly, not after the phase

    stdout, stderr = stopped.stdout, stopped.stderr
    output = stdout + stderr
    assert stopped.returncode == 130, output
    assert "Traceback" not in output, output
    summary = re.search(
        rf"Interrupted: (\d+) of {ORGS} changes applied, (\d+) not reached or not confirmed\.",
        output,
    )
    assert summary, output
    applied, not_reached = int(summary[1]), int(summary[2])
    assert 0 < applied < ORGS and applied + not_reached == ORGS
    assert f"Applied {applied} change(s)." in stdout
    assert "Run `authform apply` again to resume" in stderr

    rerun = subprocess.run(
        APPLY, cwd=tmp_path, env=process_env(emulator), capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    keys = Counter(live_organization_keys(emulator))
    assert len(keys) == ORGS and max(keys.values()) == 1  # all there, none twice
