"""An apply stopped midway (Ctrl-C, or SIGKILL with no chance to clean up) still leaves a
journal undo can use: the real process, a real signal, mid-write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from cli.test_resume import list_all
from typer.testing import CliRunner

from authform.cli import app

from .conftest import journals

ORGS = 40


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_an_interrupted_apply_leaves_a_journal_that_undoes_what_it_wrote(
    workos_emulator, tmp_path, monkeypatch, stop
):
    emulator = workos_emulator
    monkeypatch.chdir(tmp_path)
    organizations = "\n".join(f"  - {{key: org{i:02}, name: Org {i}}}" for i in range(ORGS))
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "authform.yaml").write_text(
        "version: 1\n"
        'target: {provider: workos, api_key: "${env:WORKOS_API_KEY}", '
        f'base_url: "{emulator.url}"}}\n'
        f"organizations:\n{organizations}\n"
        "policy: {allow_delete: true}\n"
    )
    emulator.add_fault(method="POST", path="^/organizations$", latency_ms=300)
    env = {**os.environ, "WORKOS_API_KEY": emulator.api_key, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "authform.cli", "apply", "manifests", "--auto-approve"]
    victim = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim.poll() is None:
        if len([w for w in emulator.writes() if w["status"] == 201]) >= 5:
            break
        time.sleep(0.05)
    assert victim.poll() is None, "apply finished before it could be stopped"
    victim.send_signal(stop)
    victim.communicate(timeout=30)
    emulator.clear_faults()
    time.sleep(0.5)  # requests in flight when it stopped finish on the server

    [journal] = journals()
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert sum(1 for line in lines if line["type"] == "change") == ORGS  # all, before writing
    ends = [line for line in lines if line["type"] == "end"]
    if stop is signal.SIGKILL:
        assert ends == []  # killed: no chance to write its end
    else:
        assert [end["ended"] for end in ends] == ["interrupted"]

    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as client:
        written = {o["external_id"] for o in list_all(client, "/organizations")}
    assert 0 < len(written) < ORGS

    runner = CliRunner()
    env = {"WORKOS_API_KEY": emulator.api_key, "NO_COLOR": "1"}
    undo = runner.invoke(
        app, ["undo", str(journal), "manifests", "--force", "--out", "undo.json"], env=env
    )
    assert undo.exit_code == 2, undo.output
    deleted = {
        line.split("organization.")[1]
        for line in undo.output.splitlines()
        if line.startswith("  - organization.")
    }
    assert deleted == written  # each org it wrote, confirmed or not; nothing else
    if stop is signal.SIGKILL:
        assert "The journal has no end: that apply was killed" in undo.output
    applied = runner.invoke(app, ["apply", "undo.json", "--auto-approve"], env=env)
    assert applied.exit_code == 0, applied.output
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as client:
        assert list_all(client, "/organizations") == []
