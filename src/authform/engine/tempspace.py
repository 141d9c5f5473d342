"""Private temporary folders for what a command spools to disk (its index, its plan).

Each is created with mode 0700 and removed with the object that owns it, or when the
finalizer is called, or at exit, whichever comes first: spooled state is a cache of one
command, never state to find again.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path


def private_folder(owner: object, prefix: str) -> tuple[Path, weakref.finalize]:
    """A fresh 0700 temporary folder, removed with ``owner`` (or by calling the finalizer
    returned, or at exit, whichever comes first)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    return folder, weakref.finalize(owner, shutil.rmtree, str(folder), ignore_errors=True)
