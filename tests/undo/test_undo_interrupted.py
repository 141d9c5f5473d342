"""An apply stopped midway (Ctrl-C, SIGTERM taken as one, or SIGKILL with no chance to clean
up) still leaves a journal undo can use: the real process, a real signal, mid-write."""

from __future__ import annotations

import json
import signal
import time

import pytest
from cli.stopped_apply import live_organization_keys, organizations_manifest, stop_apply_mid_write
from typer.testing import CliRunner

from authform.cli import app

from .conftest import journals

ORGS = 40


@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"]
)
def test_an_interrupted_apply_leaves_a_journal_that_undoes_what_it_wrote(
    workos_emulator, tmp_path, monkeypatch, stop
):
    emulator = workos_emulator
    monkeypatch.chdir(tmp_path)
    organizations_manifest(emulator, tmp_path, ORGS, "policy: {allow_delete: true}\n")
    stop_apply_mid_write(emulator, tmp_path, after_writes=5, stop=stop)
    time.sleep(0.5)  # requests in flight when it stopped finish on the server

    [journal] = journals()
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert sum(1 for line in lines if line["type"] == "change") == ORGS  # all, before writing
    ends = [line for line in lines if line["type"] == "end"]
    if stop is signal.SIGKILL:
        assert ends == []  # killed: no chance to write its end
    else:
        assert [end["ended"] for end in ends] == ["interrupted"]

    written = set(live_organization_keys(emulator))
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
    assert live_organization_keys(emulator) == []
