"""A commit's ``src/`` exported into a folder, for benchmarks that measure commits side by side
(``--code REF``: each run puts that folder on PYTHONPATH, so every commit meets the same load)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export_code(ref: str, folder: Path) -> Path:
    """``src/`` of commit ``ref``, exported into ``folder``."""
    target = folder / f"code-{ref.replace('/', '_')}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"
