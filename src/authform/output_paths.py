"""Check, before the first request, that the files and folders a command will write can be
written.

A plan saved to a folder that does not exist, or import reports whose folder is a file, used
to fail after the work was done: a plan read for minutes thrown away, an import written with
no mapping file. Everything that can be known about an output path without writing to it is
checked here, first. (A disk that fills up meanwhile can still fail the write; the commands
report that too, without a traceback.)
"""

from __future__ import annotations

import os
from pathlib import Path


class OutputPathError(Exception):
    """An output path that cannot be written; the message names it and says why."""


def _nearest_existing(path: Path) -> Path:
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def _check_can_create_in(folder: Path, what: str, target: Path) -> None:
    """``target`` (not there yet) would be created under ``folder``, its nearest existing
    ancestor."""
    if not folder.is_dir():
        raise OutputPathError(
            f"{what} {target}: {folder} is a file, so {target} cannot be created under it"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{what} {target}: the folder {folder} is not writable")


def check_output_file(path: Path, what: str, *, create_parents: bool = False) -> None:
    """``path`` can be written as a file. ``what`` names where it came from ("--out",
    "--junit"). Without ``create_parents`` its folder must exist already: a mistyped folder
    name is more likely than one the user meant to have created."""
    if path.is_dir():
        raise OutputPathError(f"{what} {path}: is a folder; give the path of a file")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise OutputPathError(f"{what} {path}: the file is not writable")
        return
    parent = path.parent
    if not create_parents and not parent.exists():
        raise OutputPathError(
            f"{what} {path}: the folder {parent} does not exist (create it first)"
        )
    _check_can_create_in(_nearest_existing(parent), what, path)


def check_output_folder(path: Path, what: str) -> None:
    """``path`` is, or can be created as, a folder to write files into."""
    if path.exists():
        if not path.is_dir():
            raise OutputPathError(f"{what} {path}: is a file; give a folder to write into")
        if not os.access(path, os.W_OK | os.X_OK):
            raise OutputPathError(f"{what} {path}: the folder is not writable")
        return
    _check_can_create_in(_nearest_existing(path), what, path)


def write_failure(exc: OSError) -> str:
    """An output write that failed anyway (a full disk, a path changed meanwhile), in words."""
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot write{where}: {exc.strerror or exc}"
