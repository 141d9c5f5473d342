"""Files an import leaves behind for the team: the id mapping downstream apps need, every
skipped or failed record with its reason, and who must re-enroll a second factor.

Written after every apply, also a partial one, so a resumed run always leaves current files.
None of them holds a secret: reasons are written from facts about values, never the values.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from authform.importing.build import ImportSet
from authform.redaction import redact

SKIPPED_COLUMNS = ["kind", "source_id", "origin", "code", "imported", "reason"]


def write_mapping(path: Path, mapping: Mapping[str, Mapping[str, str]], provider: str) -> None:
    """Source id → provider id, per kind, as JSON (sorted, so diffs between runs are small)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"provider": provider, **{k: dict(sorted(v.items())) for k, v in mapping.items()}}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def write_skipped(
    path: Path, import_set: ImportSet, failures: Sequence[tuple[str, str, str]] = ()
) -> int:
    """Every skip and caveat from the import, then every record whose write failed.

    ``failures`` are (kind, key, error) from apply. Returns the number of rows written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SKIPPED_COLUMNS)
        for s in import_set.skipped:
            writer.writerow(
                [s.kind, s.source_id, s.origin, s.code, str(s.imported).lower(), redact(s.reason)]
            )
            rows += 1
        for kind, key, error in failures:
            # An API error can echo what it was sent; the reason is redacted like any output.
            writer.writerow([kind, key, "", "apply_failed", "false", redact(error)])
            rows += 1
    return rows


def write_reenroll(path: Path, import_set: ImportSet) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_id", "email", "factors", "reason"])
        for notice in import_set.reenroll:
            writer.writerow(
                [notice.source_id, notice.email, " ".join(notice.factors), notice.reason]
            )
    return len(import_set.reenroll)
