"""A commit's ``src/`` exported into a folder, for benchmarks that measure commits side by side
(``--code REF``: each run puts that folder on PYTHONPATH, so every commit meets the same load).

The exported code is compiled to bytecode once, as installing a package does (pip writes the
``.pyc`` files): with ``PYTHONDONTWRITEBYTECODE`` set, as on the team's machine, every run
would otherwise compile each module it imports again (0.2-0.5 s of each command), a cost no
installed authform pays."""

from __future__ import annotations

import subprocess
import sys
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
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(target / "src")], check=True)
    return target / "src"
