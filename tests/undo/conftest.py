"""The CLI against the WorkOS emulator (real HTTP), in a working folder of the test's own:
every apply writes its journal into ./authform-reports there."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli.conftest import Cli
from typer.testing import CliRunner

from authform.emulators import RunningEmulator


@pytest.fixture
def cli(workos_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "manifests"
    folder.mkdir()
    return Cli(workos_emulator, folder, CliRunner())


def journals(folder: Path = Path("authform-reports")) -> list[Path]:
    """The journals the applies so far wrote, oldest first."""
    return sorted(folder.glob("journal-*.jsonl"))
