"""Files an import leaves behind for the team: the id mapping downstream apps need, every
skipped or failed record with its reason, and who must re-enroll a second factor.

Written after every apply, also a partial one, so a resumed run always leaves current files.
None of them holds a secret: reasons are written from facts about values, never the values.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from pathlib import Path

from authform.importing.build import ImportSet
from authform.redaction import redact

SKIPPED_COLUMNS = ["kind", "source_id", "origin", "code", "imported", "reason"]
REENROLL_COLUMNS = ["source_id", "email", "factors", "reason"]
# https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def write_mapping(path: Path, mapping: Mapping[str, Mapping[str, str]], provider: str) -> None:
    """Source id → provider id, per kind, as JSON (sorted, so diffs between runs are small).

    Written entry by entry (a million users' ids are read from the on-disk index as they are
    written), in exactly the layout of ``json.dumps(document, indent=2)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("{\n" + f'  "provider": {json.dumps(provider)}')
        for kind, ids in mapping.items():
            handle.write(f",\n  {json.dumps(kind)}: ")
            entries = _sorted_items(ids)
            first = next(entries, None)
            if first is None:
                handle.write("{}")
                continue
            handle.write("{\n" + f"    {json.dumps(first[0])}: {json.dumps(first[1])}")
            for key, value in entries:
                handle.write(f",\n    {json.dumps(key)}: {json.dumps(value)}")
            handle.write("\n  }")
        handle.write("\n}\n")


def _sorted_items(ids: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """A plain dict is sorted here; a mapping kept on disk iterates in key order itself."""
    if isinstance(ids, dict):
        return iter(sorted(ids.items()))
    return iter(ids.items())


def write_skipped(
    path: Path, import_set: ImportSet, failures: Sequence[tuple[str, str, str]] = ()
) -> int:
    """Every skip and caveat from the import, then every record whose write failed.

    ``failures`` are (kind, key, error) from apply. Returns the number of rows written.
    """
    skips = (
        [s.kind, s.source_id, s.origin, s.code, str(s.imported).lower(), redact(s.reason)]
        for s in import_set.skipped
    )
    # An API error can echo what it was sent; the reason is redacted like any output.
    failed = (
        [kind, key, "", "apply_failed", "false", redact(error)] for kind, key, error in failures
    )
    return write_report_csv(path, SKIPPED_COLUMNS, chain(skips, failed))


def write_reenroll(path: Path, import_set: ImportSet) -> int:
    """Every imported user who must enroll a second factor again, with what was lost."""
    rows = (
        [notice.source_id, notice.email, " ".join(notice.factors), notice.reason]
        for notice in import_set.reenroll
    )
    return write_report_csv(path, REENROLL_COLUMNS, rows)


def write_report_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """The one CSV writer of reports: every cell neutralised against formula injection, since
    these files are opened in spreadsheets and their cells hold text from the source. Returns
    the number of rows written (the header not counted)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralize_formula(cell) for cell in header])
        for row in rows:
            writer.writerow([neutralize_formula(cell) for cell in row])
            count += 1
    return count


def neutralize_formula(cell: str) -> str:
    """OWASP's rule for CSV injection: a cell a spreadsheet would run as a formula (it starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``, which
    spreadsheets show as text and do not display. Other cells are written unchanged."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell
