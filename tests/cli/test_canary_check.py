"""A canary whose password does not match its exported digest stops the import before any
write (issue 10, item 8: bcrypt checks it offline, at plan time)."""

from __future__ import annotations

from hostile.refusal import assert_refused

from .test_import import setup_import


def test_a_wrong_canary_password_refuses_plan_and_apply_before_any_write(cli, tmp_path):
    env = setup_import(
        cli,
        tmp_path,
        logins=[("grace@example.com", "cobol-forever-1959"), ("linus@example.org", "penguin")],
    )
    plan = cli.run("plan", str(cli.folder), env=env)
    assert_refused(plan, r"canary linus@example\.org does not match", emulator=cli.emulator)
    apply = cli.run("apply", str(cli.folder), "--auto-approve", env=env)
    assert_refused(apply, r"canary linus@example\.org", emulator=cli.emulator)
    assert "penguin" not in apply.output and "$2" not in apply.output


def test_right_canary_passwords_plan_normally(cli, tmp_path):
    env = setup_import(cli, tmp_path)  # the fixture's known passwords
    plan = cli.run("plan", str(cli.folder), "--detailed-exitcode", env=env)
    assert plan.exit_code == 2, plan.output
    assert "canary" not in plan.output
