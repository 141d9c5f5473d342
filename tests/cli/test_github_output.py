"""In GitHub Actions: manifest problems as annotations, the plan comment marker, verify's JUnit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

BROKEN = """
version: 1
target: {provider: workos, api_key: "${env:WORKOS_API_KEY}", base_url: "${env:WORKOS_BASE_URL}"}
roles:
  - {slug: admin, name: "50% off", colour: red}
"""


def test_validate_format_github_prints_only_annotations(cli):
    cli.write(BROKEN)
    result = cli.run("validate", str(cli.folder), "--format", "github")
    assert result.exit_code == 1
    annotations = [line for line in result.output.splitlines() if line.startswith("::")]
    assert annotations == [
        f"::error file={cli.folder / 'authform.yaml'},line=4,col=36,title=authform::"
        "roles[0].colour: unknown key 'colour' (expected one of: description, name, "
        "permissions, slug)"
    ]
    assert cli.emulator.requests_log() == []


def test_every_command_annotates_manifest_problems_on_github_actions(cli):
    cli.write(BROKEN)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(cli.folder.parent)}
    for command in (["plan"], ["apply", "--auto-approve"], ["verify"], ["drift"], ["validate"]):
        result = cli.run(command[0], str(cli.folder), *command[1:], env=env)
        assert result.exit_code == 1, (command, result.output)
        assert "authform.yaml:4:36: roles[0].colour: unknown key" in result.output
        assert (
            "::error file=manifests/authform.yaml,line=4,col=36,title=authform::roles[0].colour"
            in result.output
        )
    assert cli.emulator.requests_log() == []


def test_no_annotations_off_github_actions(cli):
    cli.write(BROKEN)
    result = cli.run("plan", str(cli.folder), env={"GITHUB_ACTIONS": None})
    assert result.exit_code == 1
    assert "::error" not in result.output


def test_api_errors_are_annotated_on_github_actions(cli):
    result = cli.run(
        "plan", str(cli.folder), env={"GITHUB_ACTIONS": "true", "WORKOS_API_KEY": "sk_wrong"}
    )
    assert result.exit_code == 1
    assert "::error title=authform::" in result.output and "HTTP 401" in result.output
    assert "sk_wrong" not in result.output


def test_verify_writes_junit_with_one_case_per_check(cli, tmp_path):
    cli.run("apply", str(cli.folder), "--auto-approve")
    junit = tmp_path / "verify.xml"
    result = cli.run("verify", str(cli.folder), "--junit", str(junit))
    assert result.exit_code == 3  # the social connection was never configured
    root = ET.parse(junit).getroot()
    cases = root.findall("./testsuite/testcase")
    assert root.get("tests") == str(len(cases)) == "9"
    assert root.get("failures") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["social_connection.google"]
    assert failed[0].find("failure").get("message") == "missing"
    assert cli.emulator.api_key not in junit.read_text()


def test_markdown_plan_marker_names_the_environment(cli):
    cli.write(BROKEN.replace(", colour: red", "") + "environments:\n  staging: {}\n")
    result = cli.run("plan", str(cli.folder), "-e", "staging", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<!-- authform-plan environment=staging -->\n")
