"""verify as JUnit XML: one testcase per check, failures carry the detail, counts add up."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from authform.engine.verify import Check, VerifyReport
from authform.render.junit import write_junit


def test_junit_counts_cases_and_failures(tmp_path: Path) -> None:
    report = VerifyReport(
        [
            Check("role.admin", True, "present and equal"),
            Check("organization.acme", False, "differs in name, metadata.tier"),
            Check(
                "password login canary@example.com",
                False,
                "sign-in failed: HTTP 401\x00",
                kind="login",
            ),
            Check("import users", True, "3 present", kind="count"),
        ]
    )
    path = tmp_path / "reports" / "verify.xml"
    write_junit(path, report, provider="workos", environment="staging")
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "0")
    [suite] = root
    assert suite.get("name") == "authform verify (workos, environment staging)"
    assert (suite.get("tests"), suite.get("failures")) == ("4", "2")
    cases = {case.get("name"): case for case in suite}
    assert [case.get("classname") for case in suite] == [
        "authform.role",
        "authform.organization",
        "authform.login",
        "authform.import",
    ]
    failure = cases["organization.acme"].find("failure")
    assert failure is not None
    assert failure.get("message") == "differs in name, metadata.tier"
    assert cases["role.admin"].find("failure") is None
    # A character XML 1.0 cannot hold is replaced, so the file still parses.
    login = cases["password login canary@example.com"].find("failure")
    assert login is not None and login.get("message") == "sign-in failed: HTTP 401\ufffd"
