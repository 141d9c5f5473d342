"""``verify`` as JUnit XML, the format every CI test reporter reads.

One ``testcase`` per check, grouped by kind (``authform.role``, ``authform.login``...), so a
failing check shows up in the CI's test view with its detail, next to the team's own tests.
Check details never hold secrets (verify reports say "signed in", never a password), and
characters XML 1.0 cannot carry are replaced rather than producing a file a parser rejects.

The file is written a testcase at a time (a million-user verify is millions of checks, read
from their spool): the counts the opening tags carry come from a first pass over the checks.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from authform.engine.verify import Check, VerifyReport
from authform.redaction import redact

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates and U+FFFE/FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Every text of the file passes here: redacted (an echoed secret in a check's detail
    must not reach the CI's test view) and made safe for XML."""
    return _NOT_XML.sub("\ufffd", redact(text))


def check_group(check: Check) -> str:
    """``role.admin`` → ``role``; logins and import counts are groups of their own."""
    if check.kind == "resource":
        return check.name.split(".", 1)[0]
    if check.kind == "count":
        return "import"
    return check.kind


def junit_parts(
    report: VerifyReport, *, provider: str, environment: str | None = None
) -> Iterator[str]:
    """The JUnit document, as ``ElementTree`` would write it indented, one piece per
    testcase: two passes over the checks (count, then write), neither holding them."""
    suite_name = f"authform verify ({provider}" + (
        f", environment {environment})" if environment else ")"
    )
    tests = len(report.checks)
    failures = sum(1 for check in report.checks if not check.ok)
    counts = {"tests": str(tests), "failures": str(failures), "errors": "0"}
    yield _start_tag("testsuites", {"name": "authform verify", **counts}) + "\n"
    suite = {"name": _xml_text(suite_name), **counts, "skipped": "0"}
    if not tests:
        yield "  " + ET.tostring(ET.Element("testsuite", suite), encoding="unicode") + "\n"
        yield "</testsuites>"
        return
    yield "  " + _start_tag("testsuite", suite) + "\n"
    for check in report.checks:
        yield "    " + _testcase(check) + "\n"
    yield "  </testsuite>\n</testsuites>"


def _start_tag(tag: str, attributes: dict[str, str]) -> str:
    """``<tag a="...">``, its attributes escaped by ``ElementTree`` itself."""
    empty = ET.tostring(ET.Element(tag, attributes), encoding="unicode")
    return empty.removesuffix(" />") + ">"


def _testcase(check: Check) -> str:
    case = ET.Element(
        "testcase",
        {"classname": _xml_text(f"authform.{check_group(check)}"), "name": _xml_text(check.name)},
    )
    if check.ok:
        ET.SubElement(case, "system-out").text = _xml_text(check.detail)
    else:
        failure = ET.SubElement(
            case, "failure", {"message": _xml_text(check.detail), "type": "VerifyFailure"}
        )
        failure.text = _xml_text(f"{check.name}: {check.detail}")
    ET.indent(case, level=2)
    return ET.tostring(case, encoding="unicode")


def write_junit(
    path: Path, report: VerifyReport, *, provider: str, environment: str | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='utf-8'?>\n")
        for part in junit_parts(report, provider=provider, environment=environment):
            out.write(part)
