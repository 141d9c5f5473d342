"""A journal line encoded once (``JournalSealer.sealed_line``: the seal spliced into the
entry's canonical form) is byte for byte the line sealed and encoded the long way, as every
journal before it was written, so `authform undo` reads both alike."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from authform.saved_plan.seal import as_json, canonical
from authform.undo.record import JournalSealer, encode_line, masked

SALT = bytes(range(16))


def _sealer() -> JournalSealer:
    # seal_credential reads only these two of the session (the emulator's fixed key).
    return JournalSealer(SALT, SimpleNamespace(emulate=True))  # type: ignore[arg-type]


def _long_way(sealer: JournalSealer, entry: dict[str, Any]) -> str:
    """How the journal wrote every line before: the entry as JSON reads it back, sealed,
    then encoded again with its seal."""
    body = as_json(entry)
    line = dict(body)
    line["seal"] = sealer.seal(body)
    return encode_line(line)


ENTRIES: list[dict[str, Any]] = [
    {  # the header: keys after "seal", so it takes the long way in both
        "type": "header",
        "format": "authform apply journal",
        "started_at": "2026-11-28T15:00:00.000000Z",
        "salt": SALT.hex(),
        "target": {"provider": "kavachos", "database": "sqlite:///k.db"},
    },
    {
        "type": "change",
        "action": "create",
        "address": "user.user_2x",
        "kind": "user",
        "key": "user_2x",
        "before": None,
        "after": {
            # what a spec may hold: tuples, non-ASCII text, escapes, a value JSON has no
            # type for (written as its text), numbers, a password digest (masked)
            "spec": masked(
                {
                    "email": "zoë@example.com",
                    "first_name": 'Quote " and \\ and \n and \u2028',
                    "oauth_accounts": ({"provider": "google", "provider_account_id": "1"},),
                    "joined": datetime(2026, 1, 2, tzinfo=UTC),
                    "score": 1.5,
                    "count": 3,
                    "email_verified": True,
                    "password_hash": "$2b$10$abcdefghijklmnopqrstuvwxyz012345678901234567890123",
                }
            )
        },
    },
    {"type": "outcome", "address": "user.user_2x", "outcome": "applied"},
    {"type": "outcome", "address": "membership.user_2x@org_é", "outcome": "left to a person"},
    {"type": "end", "finished_at": "2026-11-28T15:00:01Z", "ended": "complete", "counts": {}},
]


def test_lines_encoded_once_equal_the_long_way_along_the_chain() -> None:
    once, long_way = _sealer(), _sealer()
    for entry in ENTRIES:
        assert once.sealed_line(entry) == _long_way(long_way, entry)
        assert once.previous == long_way.previous  # the chain goes on from the same seal


def test_outcome_lines_spelt_out_equal_the_long_way_along_the_chain() -> None:
    """``sealed_outcome_line``, how the journal writes each outcome, is the outcome entry's
    line made the long way, and the chain goes on from it as from that line."""
    once, long_way = _sealer(), _sealer()
    for entry in ENTRIES:
        if entry["type"] == "outcome":
            line = once.sealed_outcome_line(entry["address"], entry["outcome"])
        else:
            line = once.sealed_line(entry)
        assert line == _long_way(long_way, entry)
        assert once.previous == long_way.previous


def test_change_lines_sealed_in_a_run_equal_the_long_way_along_the_chain() -> None:
    """``sealed_change_lines``, how the journal's start seals the plan's change entries (read
    back from the file they were written to, each with its line break), gives each entry's
    line made the long way, and the chain goes on from the last one as from that line."""
    once, long_way = _sealer(), _sealer()
    header, *rest = ENTRIES
    assert once.sealed_line(header) == _long_way(long_way, header)
    changes = [entry for entry in rest if entry["type"] == "change"] * 3
    bodies = [canonical(entry) + b"\n" for entry in changes]

    lines = list(once.sealed_change_lines(bodies))

    assert lines == [_long_way(long_way, entry) for entry in changes]
    assert once.previous == long_way.previous
    end = rest[-1]
    assert once.sealed_line(end) == _long_way(long_way, end)


def test_a_line_that_is_not_a_change_entry_stops_the_run() -> None:
    outcome = {"type": "outcome", "address": "user.a", "outcome": "applied"}
    with pytest.raises(AssertionError, match="not a journal change entry"):
        list(_sealer().sealed_change_lines([canonical(outcome) + b"\n"]))


def test_outcome_lines_of_a_batch_equal_the_lines_one_at_a_time() -> None:
    """``sealed_outcome_lines``, how the journal writes the outcomes of a batch whose writes
    all went through, are the lines ``sealed_outcome_line`` writes one by one, and the chain
    goes on from the last."""
    addresses = ["user.user_2x", "membership.user_2x@org_é", 'user.quote"d']
    batch, single = _sealer(), _sealer()

    lines = batch.sealed_outcome_lines(addresses, "applied")

    assert lines == [single.sealed_outcome_line(address, "applied") for address in addresses]
    assert batch.previous == single.previous
    assert batch.sealed_outcome_lines([], "applied") == []
    assert batch.previous == single.previous
