"""Print pip constraints pinning every dependency of pyproject.toml to its lower bound.

`.ci/run` installs authform with them in a throwaway venv and runs the command-line,
manifest, engine and source tests there: the oldest releases the project allows are tested
as well as the newest (which every fresh install resolves). A dependency without a lower
bound fails here, since its oldest release would be untested.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
for requirement in project["project"]["dependencies"]:
    # A constraint names a distribution only, so an extra (psycopg[binary]) is dropped: the
    # extra's own pins follow from the pinned release.
    match = re.fullmatch(
        r"([A-Za-z0-9_.\-]+)(?:\[[A-Za-z0-9_,.\-]+\])?\s*>=\s*([0-9][0-9A-Za-z.]*)(,.*)?",
        requirement,
    )
    if match is None:
        sys.exit(f"no lower bound to test in dependency {requirement!r}")
    print(f"{match.group(1)}=={match.group(2)}")
