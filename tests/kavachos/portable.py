"""The portable example manifests (manifests/examples/portable) aimed at KavachOS with only
their ``target`` changed: the scene of the KavachOS example tests and of the journal test of
a write KavachOS leaves to a person (its organizations have no member to own them)."""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"
KAVACHOS_TARGET = """version: 1
target: {provider: kavachos, database_url: "${env:DATABASE_URL}"}
"""


def portable_on_kavachos(tmp_path: Path) -> Path:
    """A copy of the portable example in ``tmp_path``/portable, targeting KavachOS."""
    folder = tmp_path / "portable"
    shutil.copytree(EXAMPLES / "portable", folder)
    (folder / "target.yaml").write_text(KAVACHOS_TARGET, encoding="utf-8")
    return folder
