"""GitHub workflow commands: escaping by the runner's rules, paths relative to the checkout."""

from __future__ import annotations

from pathlib import Path

from authform.manifest import Diagnostic
from authform.render.github import (
    diagnostic_annotation,
    error_annotation,
    escape_data,
    escape_property,
    in_github_actions,
    repository_path,
    workflow_command,
)


def test_message_escaping_keeps_percent_and_line_breaks_literal() -> None:
    assert escape_data("50% off\r\nnext line") == "50%25 off%0D%0Anext line"
    assert escape_data("a: b, c") == "a: b, c"  # only properties escape these


def test_property_escaping_also_protects_the_separators() -> None:
    assert escape_property("C:\\dir,odd%name\n") == "C%3A\\dir%2Codd%25name%0A"


def test_annotation_of_a_diagnostic(tmp_path: Path) -> None:
    file = tmp_path / "manifests" / "roles, old.yaml"
    diagnostic = Diagnostic(str(file), 12, 5, "roles[0].name: expected a string, got 50%\n")
    assert diagnostic_annotation(diagnostic, workspace=str(tmp_path)) == (
        "::error file=manifests/roles%2C old.yaml,line=12,col=5,title=authform::"
        "roles[0].name: expected a string, got 50%25%0A"
    )


def test_a_problem_with_a_whole_file_has_no_line() -> None:
    diagnostic = Diagnostic("manifests", 0, 0, "no manifest files (*.yaml, *.yml) in this folder")
    assert diagnostic_annotation(diagnostic, workspace="/elsewhere") == (
        "::error file=manifests,title=authform::no manifest files (*.yaml, *.yml) in this folder"
    )


def test_paths_outside_the_checkout_are_kept(tmp_path: Path) -> None:
    assert repository_path("/etc/authform.yaml", str(tmp_path)) == "/etc/authform.yaml"
    assert repository_path("m/a.yaml", None) == "m/a.yaml"


def test_commands_without_properties_and_the_switch() -> None:
    assert workflow_command("warning", "careful") == "::warning::careful"
    assert error_annotation("HTTP 401") == "::error title=authform::HTTP 401"
    assert in_github_actions({"GITHUB_ACTIONS": "true"})
    assert not in_github_actions({"GITHUB_ACTIONS": "false"}) and not in_github_actions({})
