"""Hostile input to `authform undo`: a journal it cannot trust, a target it was not written
for, a live state that moved on since. Each is refused with exit 1, a message naming the file
(and line) or the items, no traceback, and no write."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cli import conftest as cli_conftest
from undo.scenes import DAMAGING, TARGET, apply_then_damage, rename_by_hand

from .refusal import assert_refused

cli = cli_conftest.cli  # the `cli` fixture of tests/cli: the WorkOS emulator, real HTTP


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Applies write their journals to ./authform-reports: the test's own folder."""
    monkeypatch.chdir(tmp_path)


def _edit_line(journal: Path, number: int, edit: Callable[[dict], None]) -> None:
    lines = journal.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[number - 1])
    edit(entry)
    lines[number - 1] = json.dumps(entry)
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _line_of(journal: Path, address: str) -> int:
    for number, line in enumerate(journal.read_text(encoding="utf-8").splitlines(), start=1):
        entry = json.loads(line)
        if entry.get("type") == "change" and entry["address"] == address:
            return number
    raise AssertionError(f"{address} not in {journal}")


def test_undo_refuses_where_the_live_state_moved_on_naming_the_items(cli):
    journal = apply_then_damage(cli)
    rename_by_hand(cli, "acme", "Acme (renamed again by hand)")
    cli.emulator.clear_log()
    result = cli.run("undo", str(journal), str(cli.folder))
    assert_refused(
        result,
        r"the live state moved on since that apply for 1 item\(s\): organization\.acme \(its "
        r"live values are neither what the apply wrote nor what was there before\)",
        emulator=cli.emulator,
    )
    assert "Nothing was changed" in result.output


def test_a_saved_undo_plan_is_refused_when_the_live_state_moves_before_apply(cli):
    journal = apply_then_damage(cli)
    saved = cli.run("undo", str(journal), str(cli.folder), "--out", "undo.json")
    assert saved.exit_code == 2, saved.output
    rename_by_hand(cli, "globex", "Globex (renamed by hand)")
    cli.emulator.clear_log()
    assert_refused(
        cli.run("apply", "undo.json", "--auto-approve"),
        r"cannot apply undo\.json: the live state changed since this plan was made",
        emulator=cli.emulator,
    )


def test_a_refused_saved_undo_plan_says_to_make_it_again_with_undo(cli):
    """An undo plan is made by `authform undo`, not `authform plan`: a refusal that says how
    to make the plan again names the command that made it, with its journal and manifest."""
    journal = apply_then_damage(cli)
    assert cli.run("undo", str(journal), str(cli.folder), "--out", "undo.json").exit_code == 2
    remake = re.escape(f"`authform undo {journal} {cli.folder}")
    rename_by_hand(cli, "globex", "Globex (renamed by hand)")
    cli.emulator.clear_log()
    moved = cli.run("apply", "undo.json", "--auto-approve")
    assert_refused(
        moved, rf"make the plan again with {remake} --out undo\.json`", emulator=cli.emulator
    )
    forced = cli.run("apply", "undo.json", "--auto-approve", "--force")
    assert_refused(
        forced, rf"make it again with {remake} --force --out undo\.json`", emulator=cli.emulator
    )
    assert "authform plan" not in moved.output + forced.output


def _spec_edited(entry: dict) -> None:
    entry["before"]["spec"]["name"] = "Acme (edited in the journal)"


def _outcome_edited(entry: dict) -> None:
    entry["before"]["provider_id"] = "org_someone_elses"


@pytest.mark.parametrize("edit", [_spec_edited, _outcome_edited], ids=["spec", "provider-id"])
def test_an_edited_journal_is_refused_naming_the_line(cli, edit):
    journal = apply_then_damage(cli)
    number = _line_of(journal, "organization.acme")
    _edit_line(journal, number, edit)
    cli.emulator.clear_log()
    assert_refused(
        cli.run("undo", str(journal), str(cli.folder)),
        rf"{journal}:{number}: the journal was edited here \(the line does not match its seal\)",
        emulator=cli.emulator,
    )


def test_a_journal_whose_lines_were_removed_is_refused(cli):
    journal = apply_then_damage(cli)
    lines = journal.read_text(encoding="utf-8").splitlines()
    first_outcome = next(i for i, line in enumerate(lines) if '"type":"outcome"' in line)
    del lines[first_outcome]  # as if that change had never been confirmed
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli.emulator.clear_log()
    assert_refused(
        cli.run("undo", str(journal), str(cli.folder)),
        rf"{journal}:{first_outcome + 1}: the journal was edited here",
        emulator=cli.emulator,
    )


def test_a_journal_from_another_target_is_refused(cli):
    journal = apply_then_damage(cli)
    cli.emulator.clear_log()
    other = cli.run(
        "undo", str(journal), str(cli.folder), env={"WORKOS_CLIENT_ID": "client_another_env"}
    )
    assert_refused(
        other,
        r"this journal is from an apply to another target: workos \(http://127\.0\.0\.1:\d+/?, "
        r"client client_\w+\); the manifest given targets workos \(.*client client_another_env\)",
        emulator=cli.emulator,
    )


def test_a_journal_read_with_another_api_key_is_refused_before_any_request(cli):
    """The journal is sealed with the API key the apply used: after a rotation, undo says
    that is what happened (not a vague "tampered"), when, and how to undo all the same."""
    journal = apply_then_damage(cli)
    started = json.loads(journal.read_text(encoding="utf-8").splitlines()[0])["started_at"]
    cli.emulator.clear_log()
    rotated = cli.run(
        "undo", str(journal), str(cli.folder), env={"WORKOS_API_KEY": "sk_test_rotated"}
    )
    assert_refused(
        rotated, r"its seal does not verify with the target's API key", emulator=cli.emulator
    )
    assert_refused(
        rotated,
        rf"sealed with the API key the apply of {re.escape(started)} used, and target\.api_key "
        r"is another key now: the key was rotated since that apply \(or the journal's header "
        r"was edited\)",
        emulator=cli.emulator,
    )
    text = " ".join(rotated.output.split())
    assert "run undo again with target.api_key set to the key that apply used" in text
    assert "once that key is revoked, this journal can no longer be verified" in text
    assert "sk_test_rotated" not in rotated.output
    assert cli.emulator.requests_log() == []


def test_undo_holds_the_thresholds_of_any_plan(cli):
    """An apply that created 7 organizations beside 5: undoing it deletes 7 of 12."""
    orgs = [f"  - {{key: org{i:02}, name: Org {i}}}" for i in range(12)]
    cli.write(TARGET + "organizations:\n" + "\n".join(orgs[:5]) + "\n")
    assert cli.run("apply", str(cli.folder), "--auto-approve").exit_code == 0
    cli.write(TARGET + "organizations:\n" + "\n".join(orgs) + "\npolicy: {allow_delete: true}\n")
    assert cli.run("apply", str(cli.folder), "--auto-approve").exit_code == 0
    journal = sorted(Path("authform-reports").glob("journal-*.jsonl"))[-1]
    cli.emulator.clear_log()
    assert_refused(
        cli.run("undo", str(journal), str(cli.folder), "--out", "undo.json"),
        r"organizations: would delete 7 of 12 existing \(58% > 30% allowed",
        emulator=cli.emulator,
    )
    assert not Path("undo.json").exists()


NOT_JOURNALS = {
    "missing": (None, r"no-such\.jsonl: no such journal"),
    "empty": ("", r"empty; not an authform apply journal"),
    "not-json": ("{not json\n", r":1:2: not valid JSON"),
    "a-saved-plan": (
        json.dumps({"format_version": 2, "changes": []}) + "\n",
        r":1: not an authform apply journal",
    ),
    "future-format": (
        json.dumps({"type": "header", "format": "authform apply journal", "format_version": 9})
        + "\n",
        r":1: journal format 9 is not one this authform reads",
    ),
    "an-array": ("[1, 2]\n", r":1: not a journal line"),
}


@pytest.mark.parametrize("case", sorted(NOT_JOURNALS))
def test_a_file_that_is_not_a_journal_is_refused_before_connecting(cli, case):
    text, message = NOT_JOURNALS[case]
    cli.write(DAMAGING)
    path = Path("no-such.jsonl")
    if text is not None:
        path.write_text(text, encoding="utf-8")
    assert_refused(cli.run("undo", str(path), str(cli.folder)), message, emulator=cli.emulator)
    assert cli.emulator.requests_log() == []


def _bad_line(journal: Path, mutate: Callable[[list[str]], list[str]]) -> None:
    lines = journal.read_text(encoding="utf-8").splitlines()
    journal.write_text("\n".join(mutate(lines)) + "\n", encoding="utf-8")


BAD_LINES: dict[str, tuple[Callable[[list[str]], list[str]], str]] = {
    "unknown-type": (
        lambda lines: [*lines, json.dumps({"type": "mystery", "seal": "x"})],
        r":\d+: not a valid journal line",
    ),
    "unknown-kind": (
        lambda lines: [
            lines[0],
            lines[1].replace('"kind":"role"', '"kind":"robot"'),
            *lines[2:],
        ],
        r":2: not a valid journal line: change\.kind",
    ),
    "outcome-of-nothing": (
        lambda lines: [
            *lines[:-1],
            json.dumps(
                {"type": "outcome", "address": "role.ghost", "outcome": "applied", "seal": "x"}
            ),
        ],
        r"an outcome for role\.ghost, which the journal does not record as a change",
    ),
    "after-the-end": (
        lambda lines: [*lines, lines[-2]],
        r":\d+: a line after the journal's end line",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_journal_with_a_malformed_line_is_refused_naming_it(cli, case):
    mutate, message = BAD_LINES[case]
    journal = apply_then_damage(cli)
    _bad_line(journal, mutate)
    cli.emulator.clear_log()
    assert_refused(cli.run("undo", str(journal), str(cli.folder)), message, emulator=cli.emulator)
    assert cli.emulator.requests_log() == []


def test_an_apply_whose_journal_cannot_be_written_writes_nothing(cli):
    cli.write(DAMAGING)
    Path("authform-reports").write_text("a file where the reports folder should be\n")
    assert_refused(
        cli.run("apply", str(cli.folder), "--auto-approve"),
        r"the apply journal's folder authform-reports: is a file; give a folder to write into",
        emulator=cli.emulator,
    )
