"""Output whose reader has gone (``authform plan | head``, a log collector that died): one
clear line on stderr and exit 1, from every command and at every moment, never an apply
stopped halfway by it (found: `plan --format json | head -c 10` ended with exit 1 and not a
word, as click does, while `apply` said "cannot write: Broken pipe")."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from .stopped_apply import APPLY, live_organization_keys, organizations_manifest, process_env

ORGS = 120
CLOSED = "Error: cannot write the output: its reader has closed the pipe\n"


def run_with_stdout_closed(command: list[str], cwd, env) -> tuple[int, str]:
    """``command`` whose standard output's reader closes it before reading a byte."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_a_plan_whose_reader_has_gone_says_so_and_exits_1(workos_emulator, tmp_path, output):
    organizations_manifest(workos_emulator, tmp_path, ORGS)
    command = [*APPLY[:3], "plan", "manifests", "--format", output]
    code, stderr = run_with_stdout_closed(command, tmp_path, process_env(workos_emulator))
    assert code == 1, stderr
    assert stderr == CLOSED
    assert workos_emulator.writes() == []


def test_an_apply_whose_reader_has_gone_is_never_left_halfway(workos_emulator, tmp_path):
    organizations_manifest(workos_emulator, tmp_path, ORGS)
    code, stderr = run_with_stdout_closed(APPLY, tmp_path, process_env(workos_emulator))
    assert code == 1, stderr
    assert stderr.endswith(CLOSED), stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    keys = Counter(live_organization_keys(workos_emulator))
    assert len(keys) in (0, ORGS), stderr  # not a word written, or every change
    assert all(count == 1 for count in keys.values())
