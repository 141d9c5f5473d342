"""``verify`` as JUnit XML, the format every CI test reporter reads.

One ``testcase`` per check, grouped by kind (``authform.role``, ``authform.login``...), so a
failing check shows up in the CI's test view with its detail, next to the team's own tests.
Check details never hold secrets (verify reports say "signed in", never a password), and
characters XML 1.0 cannot carry are replaced rather than producing a file a parser rejects.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
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


def verify_to_junit(
    report: VerifyReport, *, provider: str, environment: str | None = None
) -> ET.ElementTree:
    suite_name = f"authform verify ({provider}" + (
        f", environment {environment})" if environment else ")"
    )
    tests, failures = len(report.checks), len(report.failures)
    root = ET.Element(
        "testsuites",
        {"name": "authform verify", "tests": str(tests), "failures": str(failures), "errors": "0"},
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _xml_text(suite_name),
            "tests": str(tests),
            "failures": str(failures),
            "errors": "0",
            "skipped": "0",
        },
    )
    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": _xml_text(f"authform.{check_group(check)}"),
                "name": _xml_text(check.name),
            },
        )
        if check.ok:
            ET.SubElement(case, "system-out").text = _xml_text(check.detail)
        else:
            failure = ET.SubElement(
                case, "failure", {"message": _xml_text(check.detail), "type": "VerifyFailure"}
            )
            failure.text = _xml_text(f"{check.name}: {check.detail}")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(
    path: Path, report: VerifyReport, *, provider: str, environment: str | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = verify_to_junit(report, provider=provider, environment=environment)
    tree.write(path, encoding="utf-8", xml_declaration=True)
