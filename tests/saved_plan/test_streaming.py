"""A saved plan of 50,000 changes is written and judged a line at a time: the file is JSON
Lines, its reader yields lazily, and checking it never holds the change list.

The plan is built directly (no diff, no HTTP): what is under test is the file, its reader
and the judgement ``apply PLAN.json`` makes before any write.
"""

from __future__ import annotations

import gc
import io
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import pytest
from render.markdown_plans import user_create

from authform.engine.plan import Change, Plan
from authform.manifest import load_manifest
from authform.providers.base import Provider
from authform.resources import Kind
from authform.saved_plan import (
    MadeWith,
    SavedPlanError,
    check_saved_plan,
    read_saved_plan,
    verify_seal,
    write_saved_plan,
)
from authform.saved_plan import document as document_module
from authform.saved_plan.seal import canonical
from authform.workflow import Session

COUNT = 50_000
MANIFEST = """\
version: 1
target: {provider: workos, api_key: "${env:STREAM_TEST_KEY}"}
organizations: [{key: acme, name: Acme}]
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    folder = tmp_path_factory.mktemp("manifest")
    (folder / "authform.yaml").write_text(MANIFEST, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STREAM_TEST_KEY", "sk_test_streaming")
        loaded = load_manifest(folder)
        # Nothing here talks to a provider: the saved plan's judgement is offline.
        yield Session(loaded, cast(Provider, None), [], {Kind.USER}, None)


@pytest.fixture(scope="module")
def made_with(session: Session) -> MadeWith:
    return MadeWith.of_command(
        session.loaded.files[0].parent, emulate=False, environment=None, force=False
    )


def big_plan(changes: list[Change] | None = None, live: str = "live-1") -> Plan:
    listed = changes if changes is not None else [user_create(n) for n in range(COUNT)]
    return Plan("workos", [Kind.USER], listed, live_fingerprint=live)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return big_plan()


@pytest.fixture(scope="module")
def saved_file(tmp_path_factory, plan, session, made_with) -> Path:
    path = tmp_path_factory.mktemp("plans") / "plan.json"
    write_saved_plan(path, plan, session, made_with)
    return path


class CountingReader(io.BufferedReader):
    """The saved-plan file, counting the lines handed out so far (every reader's)."""

    lines_read = 0

    def __next__(self) -> bytes:
        CountingReader.lines_read += 1
        return super().__next__()


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingReader]:
    def open_counted(path: Path) -> IO[bytes]:
        return CountingReader(io.FileIO(path, "rb"))

    CountingReader.lines_read = 0
    monkeypatch.setattr(document_module, "_open", open_counted)
    return CountingReader


def test_the_file_is_a_header_line_one_canonical_line_per_change_and_the_seal(saved_file, plan):
    lines = saved_file.read_bytes().splitlines()
    assert len(lines) == COUNT + 2
    header = json.loads(lines[0])
    assert list(header)[:4] == ["format_version", "provider", "environment", "summary"]
    assert header["format_version"] == 3 and header["summary"]["create"] == COUNT
    first = json.loads(lines[1])
    assert first["address"] == "user.user_0000000" and lines[1] == canonical(first)
    assert first["write_only"] == {"password_hash": "bcrypt hash (set)"}
    assert first["secrets"]["password_hash"].startswith("hmac-sha256:")
    assert set(json.loads(lines[-1])) == {"seal", "plan_digest"}
    assert b"$2b$10$" not in saved_file.read_bytes()  # the hash itself is never written


def test_the_reader_yields_changes_lazily(saved_file, counting):
    saved = read_saved_plan(saved_file)
    assert saved.change_count == COUNT
    counting.lines_read = 0
    changes = saved.changes()
    assert iter(changes) is changes  # an iterator, not a list
    first = [next(changes) for _ in range(3)]
    assert [c["address"] for c in first] == [f"user.user_000000{n}" for n in range(3)]
    # The header, three changes and the one line looked ahead: not the 50,000 others.
    assert counting.lines_read <= 5


class LockstepChanges:
    """The fresh plan's changes, checking as each one is handed out that the saved file has
    been read no further than that change (plus the header and a line of look-ahead)."""

    def __init__(self, changes: list[Change], reader: type[CountingReader]) -> None:
        self.changes, self.reader, self.checked = changes, reader, 0

    def __iter__(self) -> Iterator[Change]:
        start = self.reader.lines_read
        for index, change in enumerate(self.changes):
            assert self.reader.lines_read - start <= index + 3
            self.checked += 1
            yield change


def test_apply_checks_a_50000_change_plan_a_line_at_a_time(saved_file, plan, session, counting):
    saved = read_saved_plan(saved_file)
    verdict = verify_seal(saved, session)
    assert not verdict.changes_edited
    fresh = LockstepChanges(list(plan.changes), counting)
    fresh_plan = big_plan(cast(Any, fresh))
    gc.collect()
    tracemalloc.start()
    try:
        check_saved_plan(saved, verdict, fresh_plan, session)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fresh.checked == COUNT
    # The file is megabytes; checking it held a few lines of it at a time.
    assert saved_file.stat().st_size > 10_000_000
    assert peak < 2_000_000, f"peak {peak:,} bytes while checking"


def test_reading_and_sealing_a_50000_change_plan_holds_no_change_list(saved_file, session):
    gc.collect()
    tracemalloc.start()
    try:
        saved = read_saved_plan(saved_file)
        verify_seal(saved, session)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"peak {peak:,} bytes while reading"


def _rewrite_line(path: Path, index: int, change: dict[str, Any]) -> None:
    lines = path.read_bytes().splitlines()
    lines[index + 1] = canonical(change)
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_an_entry_edited_deep_in_the_file_is_named(saved_file, plan, session, tmp_path):
    edited = tmp_path / "plan.json"
    edited.write_bytes(saved_file.read_bytes())
    entry = json.loads(edited.read_bytes().splitlines()[40_001])
    _rewrite_line(edited, 40_000, {**entry, "action": "delete"})
    saved = read_saved_plan(edited)
    verdict = verify_seal(saved, session)
    assert verdict.changes_edited
    with pytest.raises(SavedPlanError, match=r"the plan file was edited: changes\[40000\] "):
        check_saved_plan(saved, verdict, plan, session)


def test_many_moved_changes_are_counted_and_the_first_named(saved_file, session):
    """The live state moved under 12,000 changes (their fields changed, some vanished, new
    ones came): the refusal names the first five in the file's order and counts the rest."""
    fresh = [user_create(n) for n in range(COUNT)]
    for n in range(10_000, 20_000):
        fresh[n] = user_create(n + COUNT)  # another user in that place
    del fresh[30_000:32_000]
    moved = big_plan(fresh, live="live-2")
    saved = read_saved_plan(saved_file)
    verdict = verify_seal(saved, session)
    expected = ", ".join(f"user.user_{n:07d}" for n in range(10_000, 10_005))
    with pytest.raises(SavedPlanError) as refused:
        check_saved_plan(saved, verdict, moved, session)
    assert f"the live state changed since this plan was made ({expected} and 21995 more)" in (
        str(refused.value)
    )


def test_a_plan_cut_at_a_line_break_is_refused_as_cut_short(saved_file, tmp_path):
    cut = tmp_path / "plan.json"
    lines = saved_file.read_bytes().splitlines(keepends=True)
    cut.write_bytes(b"".join(lines[:-1]))
    with pytest.raises(
        SavedPlanError,
        match=rf"plan\.json:{COUNT + 1}: the saved plan ends "
        "without its seal line; it is damaged or cut short",
    ):
        read_saved_plan(cut)
