"""Hostile emulator seeds: ``authform emulator <provider> --seed FILE`` refuses a seed it
cannot load with exit 1 and a message naming the file and the item, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authform.cli import app

from .refusal import assert_refused

CASES = [
    ("clerk", "groups: []\n", r"unknown seed sections: groups"),
    ("workos", "groups: []\n", r"unknown seed sections: groups"),
    ("clerk", "users: {ada: 1}\n", r"seed section 'users' must be a list"),
    ("clerk", "- users\n", r"a seed file must be a mapping"),
    ("clerk", "users: [\n", r"line 2, column 1"),
    ("clerk", "users:\n  - {id: u1, created_at: soon}\n", r"created_at must be Unix milli"),
    ("clerk", "users:\n  - {id: u1, email: a@x.io}\n", r"seed user: unknown fields email"),
    ("clerk", "users:\n  - 7\n", r"seed users items must be mappings"),
    (
        "clerk",
        "memberships:\n  - {organization: nope, user_id: u, role: r}\n",
        r"seed memberships item 1: .*No organization was found with id nope",
    ),
    (
        "clerk",
        "organizations: [{id: org_1, name: A}]\n"
        "memberships: [{organization: org_1, user_id: user_x, role: 'org:member'}]\n",
        r"no user 'user_x' \(set dangling_user: true",
    ),
    (
        "clerk",
        "organizations: [{id: org_1, name: '<b>A</b>'}]\n",
        r"seed organizations item 1: .*name may not contain URLs or HTML",
    ),
]


@pytest.mark.parametrize(("provider", "text", "message"), CASES)
def test_a_seed_the_emulator_refuses_is_named_with_its_file(
    provider: str, text: str, message: str, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(text, encoding="utf-8")
    args = ["emulator", provider, "--seed", str(seed), "--port", "0"]
    result = CliRunner().invoke(app, [*args, "--db", str(tmp_path / "state.sqlite3")])
    assert_refused(result, rf"--seed {re.escape(str(seed))}: (?s:.*){message}")


def test_a_missing_seed_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    args = ["emulator", "clerk", "--seed", str(missing), "--port", "0"]
    result = CliRunner().invoke(app, [*args, "--db", str(tmp_path / "state.sqlite3")])
    assert_refused(result, rf"--seed {re.escape(str(missing))}: no such file")
