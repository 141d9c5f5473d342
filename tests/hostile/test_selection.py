# ruff: noqa: F811 (tests take the imported `cli` fixture of tests/cli as an argument)
"""Hostile selections: --target/--exclude that cannot be planned, and bad drift.ignore
patterns. Each is refused with exit 1, a message naming the flag or file:line:column, no
traceback, and no write to the emulator."""

from __future__ import annotations

import pytest
from cli.conftest import BASE_MANIFEST, cli  # noqa: F401 (the `cli` fixture of tests/cli)

from .refusal import assert_refused

KINDS = r"\(expected one of permission, role, organization"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "role.owner"], r"--target 'role\.owner' matches no role in the manifest"),
        (["--exclude", "user.*"], r"--exclude 'user\.\*' matches no user"),
        (
            ["--target", "role.admin", "--target", "organization.initech"],
            r"--target 'organization\.initech' matches no organization",
        ),
        (["--target", "rol.admin"], rf"--target 'rol\.admin': unknown kind 'rol' {KINDS}"),
        (["--target", "*.admin"], r"--target '\*\.admin': unknown kind '\*'"),
        (["--target", "admin"], r"--target 'admin' is not an address: expected KIND\.KEY"),
        (["--target", ".admin"], r"--target '\.admin' is not an address"),
        (["--exclude", "role."], r"--exclude 'role\.' names no key"),
        (["--target", ""], r"--target '' is not an address"),
        (
            ["--target", "role.admin", "--exclude", "permission.reports:read"],
            r"role\.admin needs permission\.reports:read \(create\), which --exclude "
            r"'permission\.reports:read' leaves out",
        ),
        (
            ["--target", "role.*", "--exclude", "permission.*"],
            r"the selection would break a dependency: role\.admin needs permission\.",
        ),
    ],
)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_selection_that_cannot_be_planned_is_refused(cli, command, args, message):
    extra = ["--auto-approve"] if command == "apply" else []
    result = cli.run(command, str(cli.folder), *extra, *args)
    assert_refused(result, message, emulator=cli.emulator)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("organisation.acme", rf"'organisation\.acme': unknown kind 'organisation' {KINDS}"),
        ("acme", r"'acme' is not an address: expected KIND\.KEY"),
        ("role.", r"'role\.' names no key"),
        ("42", r"drift\.ignore\[0\]: .*string"),
        ("{role: admin}", r"drift\.ignore\[0\]: .*string"),
    ],
)
def test_a_bad_drift_ignore_pattern_is_refused_where_it_is_written(cli, entry, message):
    manifest = cli.write(BASE_MANIFEST + f"drift:\n  ignore:\n    - {entry}\n")
    line = len(manifest.read_text().splitlines())
    result = cli.run("drift", str(cli.folder))
    assert_refused(result, rf"authform\.yaml:{line}:7: (drift\.ignore\[0\]: )?{message}")
    assert cli.emulator.requests_log() == []  # not even a read: the manifest is checked first


def test_drift_ignore_must_be_a_list(cli):
    manifest = cli.write(BASE_MANIFEST + "drift:\n  ignore: organization.acme\n")
    line = len(manifest.read_text().splitlines())
    result = cli.run("drift", str(cli.folder))
    assert_refused(result, rf"authform\.yaml:{line}:11: drift\.ignore: ", emulator=cli.emulator)


def test_drift_rejects_unknown_keys(cli):
    manifest = cli.write(BASE_MANIFEST + "drift:\n  ignores: [role.admin]\n")
    line = len(manifest.read_text().splitlines())
    result = cli.run("plan", str(cli.folder))
    assert_refused(
        result,
        rf"authform\.yaml:{line}:3: drift\.ignores: unknown key 'ignores'.*did you mean 'ignore'",
        emulator=cli.emulator,
    )
