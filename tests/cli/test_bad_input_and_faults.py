"""Bad input and API failures: exit 1, a message that says where and what, no write."""

from __future__ import annotations

import re


def test_broken_manifest_is_reported_with_positions_and_touches_no_network(cli):
    cli.write(
        """
        version: 1
        target:
          {provider: workos, api_key: "${env:WORKOS_API_KEY}", base_url: "${env:WORKOS_BASE_URL}"}
        permissions:
          - {slug: "a:b", name: A, colour: red}
        roles:
          - {slug: admin, name: Admin, permissions: ["a:c"]}
        """
    )
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"], ["verify"], ["drift"]):
        result = cli.run(command[0], str(cli.folder), *command[1:])
        assert result.exit_code == 1, (command, result.output)
        assert re.search(r"authform\.yaml:5:\d+: .*colour", result.output), result.output
        assert re.search(r"authform\.yaml:7:\d+: .*a:c", result.output), result.output
    assert cli.emulator.requests_log() == []


def test_missing_environment_variable_is_an_error_before_any_request(cli):
    result = cli.run("plan", str(cli.folder), env={"WORKOS_API_KEY": None})
    assert result.exit_code == 1
    assert "WORKOS_API_KEY" in result.output
    assert cli.emulator.requests_log() == []


def test_wrong_api_key_is_a_clear_error_that_does_not_echo_the_key(cli):
    result = cli.run("plan", str(cli.folder), env={"WORKOS_API_KEY": "sk_test_wrong_key_123"})
    assert result.exit_code == 1
    assert "HTTP 401" in result.output
    assert "sk_test_wrong_key_123" not in result.output
    assert cli.emulator.writes() == []


def test_plain_http_to_a_remote_host_is_refused_before_sending_anything(cli):
    result = cli.run("plan", str(cli.folder), env={"WORKOS_BASE_URL": "http://api.example.com"})
    assert result.exit_code == 1
    assert "https" in result.output


def test_transient_5xx_and_dropped_connections_are_retried(cli):
    cli.emulator.add_fault(method="POST", path="^/organizations$", status=503, times=2)
    cli.emulator.add_fault(
        method="POST", path="^/authorization/permissions$", drop_connection=True, times=1
    )
    result = cli.run("apply", str(cli.folder), "--auto-approve")
    assert result.exit_code == 2, result.output  # only the manual social step is left
    assert "Applied 8 change(s)." in result.output
    cli.emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    assert cli.run("plan", str(cli.folder), "--detailed-exitcode").exit_code == 0


def test_a_persistent_api_error_holds_back_only_what_depends_on_it(cli):
    cli.emulator.add_fault(
        method="POST",
        path="^/authorization/permissions$",
        status=422,
        body={"message": "Permission limit reached", "code": "permission_limit"},
        times=1,
    )
    result = cli.run("apply", str(cli.folder), "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "HTTP 422 permission_limit: Permission limit reached" in result.output
    assert "request id" in result.output
    failed = [line for line in result.output.splitlines() if "FAILED permission." in line]
    assert len(failed) == 1
    # which permission hit the fault depends on timing; the roles naming it wait, and the
    # organizations, which do not depend on any permission, go on
    held = "role.admin, role.member" if "reports:read" in failed[0] else "role.admin"
    assert f"Not attempted (something they depend on failed): {held}\n" in result.output
    written = {(w["method"], w["path"]) for w in cli.emulator.writes()}
    assert ("POST", "/organizations") in written
    assert ("POST", "/authorization/roles") in written or held == "role.admin, role.member"
    # the next run finishes the job
    again = cli.run("apply", str(cli.folder), "--auto-approve")
    assert again.exit_code == 2, again.output  # only the manual social step remains
