"""A read leaves the users' KavachOS ids to be remembered when first asked for
(``DeferredIds``): a plan writes none of them to the store, and an apply's writes and the
import's id mapping still find every one."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from authform.providers.ids import DeferredIds, MemoryIds
from authform.providers.kavachos.provider import KavachOSProvider
from authform.resources import Kind

from .conftest import KavachCli
from .test_import import ACME, ADA, GLOBEX, GRACE, LINUS, OLIVIA, UNA


def test_a_read_remembers_no_user_id_until_one_is_asked_for(kavach_cli: KavachCli) -> None:
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    store = MemoryIds()

    async def read() -> None:
        provider = KavachOSProvider(database_url=kavach_cli.db.url)
        provider.remember_ids_in(store)
        try:
            await provider.read({Kind.USER, Kind.ORGANIZATION, Kind.MEMBERSHIP}, [])
            assert store[Kind.USER] == {}  # the read wrote none
            assert set(store[Kind.ORGANIZATION]) == {ACME, GLOBEX}
            assert provider.ids.known(Kind.USER, [GRACE]) == {GRACE: GRACE}
            assert set(store[Kind.USER]) == {ADA, GRACE, LINUS, OLIVIA, UNA}  # all, at once
            assert set(provider.id_mapping()["users"]) == {ADA, GRACE, LINUS, OLIVIA, UNA}
        finally:
            await provider.aclose()

    asyncio.run(read())


def test_an_apply_after_the_read_finds_the_users_it_did_not_write(
    kavach_cli: KavachCli,
) -> None:
    """The memberships recreated name users the apply does not write: their ids come from
    the read, remembered only now."""
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    db = kavach_cli.db
    db.execute(f"DELETE FROM kavach_org_members WHERE user_id = '{GRACE}'")
    plan = kavach_cli.run("plan", "--detailed-exitcode", str(manifest))
    assert plan.exit_code == 2, plan.output
    assert f"membership.{GRACE}@{ACME}" in plan.output
    applied = kavach_cli.run("apply", "--auto-approve", str(manifest))
    assert applied.exit_code == 0, applied.output
    assert "Traceback" not in applied.output
    assert db.query(f"SELECT org_id FROM kavach_org_members WHERE user_id = '{GRACE}'") == [(ACME,)]
    assert kavach_cli.run("plan", "--detailed-exitcode", str(manifest)).exit_code == 0


def test_deferred_ids_are_remembered_once_and_before_what_a_write_learns() -> None:
    store = MemoryIds()
    ids = DeferredIds(store)
    asked = []

    def read_again() -> list[tuple[str, str]]:
        asked.append(1)
        return [("user_a", "kv_1"), ("user_b", "kv_2")]

    ids.defer(Kind.USER, read_again)
    assert ids.deferred and store[Kind.USER] == {} and asked == []
    ids.remember(Kind.USER, [("user_b", "kv_9")])  # a write's: newer than the read's
    assert store[Kind.USER] == {"user_a": "kv_1", "user_b": "kv_9"}
    assert ids.known(Kind.USER, ["user_a", "user_b"]) == {"user_a": "kv_1", "user_b": "kv_9"}
    assert asked == [1] and not ids.deferred
    ids.defer(Kind.USER, read_again)  # a second read replaces what the first deferred
    ids.remember_deferred()
    assert asked == [1, 1] and store[Kind.USER]["user_b"] == "kv_2"


def test_a_use_of_deferred_ids_while_another_thread_remembers_them_waits_for_all() -> None:
    """The engine hands a batch of writes over while another is being built: a use of the
    users' ids while the first use is remembering them must find every one, not the part
    remembered so far; and a read of them that fails is tried again at the next use."""
    store = MemoryIds()
    ids = DeferredIds(store)
    started = threading.Event()

    def slow_read() -> Iterator[tuple[str, str]]:
        for n in range(2_000):
            if n == 600:  # past a first page of pairs remembered
                started.set()
                time.sleep(0.2)
            yield f"user_{n}", f"kv_{n}"

    ids.defer(Kind.USER, slow_read)
    first = threading.Thread(target=ids.remember_deferred)
    first.start()
    assert started.wait(5)
    assert ids.deferred  # still being remembered
    assert len(ids.known(Kind.USER, [f"user_{n}" for n in range(2_000)])) == 2_000
    first.join()
    assert not ids.deferred

    def failing_read() -> Iterator[tuple[str, str]]:
        yield "user_x", "kv_x"
        raise RuntimeError("connection lost")

    ids.defer(Kind.ORGANIZATION, failing_read)
    with pytest.raises(RuntimeError):
        ids.known(Kind.ORGANIZATION, ["user_x"])
    assert ids.deferred  # still to be remembered: the next use reads them again
    ids.defer(Kind.ORGANIZATION, lambda: [("org_a", "kv_a")])
    assert ids.known(Kind.ORGANIZATION, ["org_a"]) == {"org_a": "kv_a"}
