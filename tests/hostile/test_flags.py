"""Hostile command lines: every command's usage mistakes are refused cleanly.

The cases are derived from the commands themselves (each option that takes a value, each
choice, each number, each argument), so a command or option added later is covered without
touching this file. Every case is run twice: in process through click's CliRunner, against a
WorkOS emulator holding the manifest (nothing may be written), and as a real subprocess of
``python -m authform``, where a traceback would reach the user's terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer
from cli.conftest import BASE_MANIFEST, Cli, cli_with

from authform.cli import app
from authform.emulators import RunningEmulator

from .refusal import assert_refused

GROUP = typer.main.get_command(app)


def _leaf_commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[list[str], Any]]:
    """(words that name it, command) for every command, sub-groups' commands included; a
    group itself is listed with ``None``."""
    found: list[tuple[list[str], Any]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        words = [*prefix, name]
        if hasattr(command, "commands"):
            found.append((words, None))
            found += _leaf_commands(command, tuple(words))
        else:
            found.append((words, command))
    return found


COMMANDS = _leaf_commands(GROUP)


def _value_kind(param: Any) -> str | None:
    """ "choice", "int" or None, on every typer release: typer 0.26+ keep the Python
    annotation (``type_descriptor``), earlier releases a click type."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        annotation = descriptor.annotation
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return "choice"
        return "int" if annotation is int else None
    if hasattr(param.type, "choices"):
        return "choice"
    return "int" if getattr(param.type, "name", "") == "integer" else None


def _usage_mistakes() -> list[tuple[str, list[str], str]]:
    """(case id, arguments, what the error line must say) for every command."""
    cases: list[tuple[str, list[str], str]] = [
        ("unknown-command", ["pln"], r"No such command 'pln'"),
        ("unknown-root-option", ["--verison"], r"No such option: --verison"),
    ]
    for words, command in COMMANDS:
        name = "-".join(words)
        if command is None:  # a group of commands: a subcommand that does not exist
            cases.append((f"{name}-unknown-command", [*words, "nope"], "No such command"))
            continue
        cases.append((f"{name}-unknown-option", [*words, "--no-such-flag"], "No such option"))
        cases.append((f"{name}-typo", [*words, "--emulat"], "No such option"))
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        if not any(a.nargs == -1 for a in arguments):
            extra = [*words, *(["manifests"] * len(arguments)), "extra-1", "extra-2"]
            cases.append((f"{name}-extra-arguments", extra, "unexpected extra argument"))
        for argument in arguments:
            if argument.required:
                cases.append((f"{name}-missing-{argument.name}", words, "Missing argument"))
        for option in command.params:
            if option.param_type_name != "option" or option.is_flag or option.name == "help":
                continue
            flag = max(option.opts, key=len)
            cases.append((f"{name}{flag}-without-value", [*words, flag], "requires an argument"))
            kind = _value_kind(option)
            if kind == "choice":
                cases.append((f"{name}{flag}-bad-choice", [*words, flag, "yaml"], "Invalid value"))
            elif kind == "int":
                cases.append((f"{name}{flag}-not-a-number", [*words, flag, "abc"], "Invalid value"))
    return cases


CASES = _usage_mistakes()


@pytest.fixture
def emulated(workos_emulator: RunningEmulator, tmp_path: Path) -> Cli:
    """The CLI helper of tests/cli, with the base manifest aimed at a clean WorkOS emulator."""
    return cli_with(BASE_MANIFEST, workos_emulator, tmp_path)


def test_every_command_has_its_usage_mistakes_listed() -> None:
    """The generator found every command, and at least the documented typos of issue 10."""
    names = {case for case, _, _ in CASES}
    leaves = ["-".join(words) for words, command in COMMANDS if command is not None]
    assert {f"{name}-unknown-option" for name in leaves} <= names
    assert {"plan-typo", "plan--format-bad-choice", "emulator-workos--port-not-a-number"} <= names
    assert len(leaves) >= 8


@pytest.mark.parametrize(("args", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_usage_mistake_in_process_is_one_error_line_and_the_usage(emulated, args, message) -> None:
    # Point every path-taking command at the emulator-backed manifest folder, so a command
    # that wrongly ran would have something to write.
    args = [str(emulated.folder) if a == "manifests" else a for a in args]
    if args[0] == "apply":
        args.insert(1, "--auto-approve")
    result = emulated.run(*args)
    assert_refused(result, message, emulator=emulated.emulator, exit_code=1)
    assert "Usage: " in result.output
    assert "-h' for help" in result.output


def _authform(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKOS_", "COLUMNS"))}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "authform", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# A real process costs a second or two of start-up on a loaded machine: every command once,
# and each kind of mistake once (the in-process test above runs every case).
KINDS = ("-typo", "-bad-choice", "-not-a-number", "-without-value", "-extra-arguments", "-missing-")
PROCESS_CASES = [
    case
    for case in CASES
    if case[0].endswith("-unknown-option")
    or case[0] in ("unknown-command", "unknown-root-option")
    or any(kind in case[0] for kind in KINDS)
    and case[1][0] == "plan"
    or case[0].endswith("-unknown-command")
    or case[0] == "emulator-workos--port-not-a-number"
]


@pytest.mark.parametrize(
    ("args", "message"), [c[1:] for c in PROCESS_CASES], ids=[c[0] for c in PROCESS_CASES]
)
def test_usage_mistake_as_a_real_process_prints_no_traceback(tmp_path, args, message) -> None:
    result = _authform(*args, cwd=tmp_path)
    assert_refused(result, message, exit_code=1)
    assert result.stdout == "", "usage errors go to stderr"
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    assert result.stderr.startswith("Usage: authform"), result.stderr
    assert len(result.stderr.splitlines()) <= 8, result.stderr
