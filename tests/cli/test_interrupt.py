"""Ctrl-C during apply (issue 9, finding 10): the real process, a real SIGINT, mid-write.

It must stop within seconds, say how far it got and that a rerun resumes, exit 130 with no
traceback, and the rerun must converge with no duplicate.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx

from .test_resume import list_all

ORGS = 60


def test_ctrl_c_mid_apply_says_how_far_it_got_exits_130_and_the_rerun_converges(
    workos_emulator, tmp_path
):
    emulator = workos_emulator
    organizations = "\n".join(f"  - {{key: org{i}, name: Org {i}}}" for i in range(ORGS))
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "authform.yaml").write_text(
        "version: 1\n"
        'target: {provider: workos, api_key: "${env:WORKOS_API_KEY}", '
        f'base_url: "{emulator.url}"}}\n'
        f"organizations:\n{organizations}\n"
    )
    # Slow creates, so the apply is surely mid-phase when the signal comes.
    emulator.add_fault(method="POST", path="^/organizations$", latency_ms=300)
    env = {**os.environ, "WORKOS_API_KEY": emulator.api_key, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "authform.cli", "apply", "manifests", "--auto-approve"]

    victim = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim.poll() is None:
        if len([w for w in emulator.writes() if w["status"] == 201]) >= 10:
            break
        time.sleep(0.05)
    assert victim.poll() is None, "apply finished before it could be interrupted"
    interrupted_at = time.monotonic()
    victim.send_signal(signal.SIGINT)
    stdout, stderr = victim.communicate(timeout=30)
    assert time.monotonic() - interrupted_at < 10  # stops promptly, not after the phase

    output = stdout + stderr
    assert victim.returncode == 130, output
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

    emulator.clear_faults()
    rerun = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as client:
        keys = Counter(o["external_id"] for o in list_all(client, "/organizations"))
    assert len(keys) == ORGS and max(keys.values()) == 1  # all there, none twice
