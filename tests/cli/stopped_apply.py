"""A real `authform apply` process stopped by a real signal mid-write: the scene shared by
the Ctrl-C test (tests/cli/test_interrupt.py) and the journal-after-a-stop test
(tests/undo/test_undo_interrupted.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from authform.emulators import RunningEmulator

from .test_resume import list_all

APPLY = [sys.executable, "-m", "authform.cli", "apply", "manifests", "--auto-approve"]


@dataclass(frozen=True)
class Stopped:
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # from the signal to the process's end


def organizations_manifest(
    emulator: RunningEmulator, cwd: Path, count: int, extra: str = ""
) -> None:
    """``cwd``/manifests/authform.yaml: ``count`` organizations (org00, org01, ...)."""
    organizations = "\n".join(f"  - {{key: org{i:02}, name: Org {i}}}" for i in range(count))
    (cwd / "manifests").mkdir()
    (cwd / "manifests" / "authform.yaml").write_text(
        "version: 1\n"
        'target: {provider: workos, api_key: "${env:WORKOS_API_KEY}", '
        f'base_url: "{emulator.url}"}}\n'
        f"organizations:\n{organizations}\n{extra}"
    )


def process_env(emulator: RunningEmulator) -> dict[str, str]:
    return {**os.environ, "WORKOS_API_KEY": emulator.api_key, "NO_COLOR": "1"}


def stop_apply_mid_write(
    emulator: RunningEmulator, cwd: Path, *, after_writes: int, stop: signal.Signals
) -> Stopped:
    """Run `authform apply manifests` in ``cwd`` with slow creates (so it is surely
    mid-phase), send ``stop`` once ``after_writes`` creates landed, and wait for the end."""
    emulator.add_fault(method="POST", path="^/organizations$", latency_ms=300)
    victim = subprocess.Popen(
        APPLY,
        cwd=cwd,
        env=process_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim.poll() is None:
        if len([w for w in emulator.writes() if w["status"] == 201]) >= after_writes:
            break
        time.sleep(0.05)
    assert victim.poll() is None, "apply finished before it could be stopped"
    stopped_at = time.monotonic()
    victim.send_signal(stop)
    stdout, stderr = victim.communicate(timeout=30)
    seconds = time.monotonic() - stopped_at
    emulator.clear_faults()
    return Stopped(victim.returncode, stdout, stderr, seconds)


def live_organization_keys(emulator: RunningEmulator) -> list[str]:
    """The external ids of every organization the emulator holds (repeats kept)."""
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as client:
        return [o["external_id"] for o in list_all(client, "/organizations")]
