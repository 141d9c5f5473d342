"""The import step: user-import source records → desired resources plus a report of skips.

Public API: ``build_import_set`` and the types it returns. See ``build`` for the flow and the
sibling modules for each rule (emails, passwords, roles, metadata).
"""

from __future__ import annotations

from authform.importing.build import ImportSet, build_import_set
from authform.importing.emails import EMAIL_POLICIES, EmailPolicy
from authform.importing.report import ImportCounts, ReenrollNotice, SkipCode, Skipped
from authform.importing.roles import DEFAULT_ROLE_MAP

__all__ = [
    "DEFAULT_ROLE_MAP",
    "EMAIL_POLICIES",
    "EmailPolicy",
    "ImportCounts",
    "ImportSet",
    "ReenrollNotice",
    "SkipCode",
    "Skipped",
    "build_import_set",
]
