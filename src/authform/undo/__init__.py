"""Undo an apply: every apply writes a journal (``journal``), and ``authform undo JOURNAL``
reads it back (``reading``) into an ordinary plan that restores the before-state
(``restore``), reviewed, saved and applied like any other."""

from __future__ import annotations

from authform.undo.journal import JournalWriter
from authform.undo.reading import Journal, JournalError, read_journal
from authform.undo.restore import undo_plan

__all__ = ["Journal", "JournalError", "JournalWriter", "read_journal", "undo_plan"]
