"""A command's on-disk index, its provider's ids and its spools (issue 12): a real apply of a
Clerk export into the WorkOS emulator goes through them, and none outlives the command."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import shutil
import tempfile
from pathlib import Path

from authform.applying import run_apply
from authform.providers.ids import IndexedIds, MemoryIds
from authform.render.progress import ProgressReporter
from authform.resources import Kind
from authform.workflow import open_session

from .manifests import WORKOS_TARGET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clerk"

IMPORT_MANIFEST = (
    WORKOS_TARGET
    + """\
roles: [{slug: admin, name: Admin}, {slug: member, name: Member}]
users:
  source: {kind: clerk-csv, path: export/users.csv, organizations: export/organizations.json,
           memberships: export/memberships.json}
  reports_dir: REPORTS
"""
)


def test_an_import_applies_through_the_index_and_leaves_nothing_behind(cli, tmp_path, monkeypatch):
    export = cli.folder / "export"
    shutil.copytree(FIXTURES, export)
    reports = tmp_path / "reports"
    cli.write(IMPORT_MANIFEST.replace("REPORTS", str(reports)))
    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)
    spools = tmp_path / "spools"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))

    async def body():
        async with open_session(cli.folder) as session:
            assert isinstance(session.provider.ids, IndexedIds)
            plan = await session.plan()
            outcome = await run_apply(session, plan, ProgressReporter(io.StringIO(), tty=False))
            index_folder = session.index.folder
            second = await session.plan()
            return plan, outcome, second, index_folder

    plan, outcome, second, index_folder = asyncio.run(body())
    assert outcome.ok, list(outcome.result.failed)
    assert not index_folder.exists()
    written = sum(1 for c in plan.changes if c.is_write)
    assert len(outcome.result.applied) == written > 0
    # The memberships were created with ids the provider found through the on-disk store,
    # and the mapping file lists every imported user and organization in key order.
    mapping = json.loads((reports / "id-mapping.json").read_text())
    users = [c.key for c in plan.changes if c.kind is Kind.USER]
    assert list(mapping["users"]) == sorted(users)
    assert not second.has_changes
    del plan, outcome, second
    gc.collect()
    assert list(spools.iterdir()) == []


def test_memory_and_disk_ids_answer_alike(tmp_path):
    from authform.engine.index import StateIndex

    index = StateIndex()
    try:
        for store in (MemoryIds(), IndexedIds(index.db)):
            store[Kind.USER]["user_b"] = "usr_2"
            store[Kind.USER]["user_a"] = "usr_1"
            store[Kind.USER]["(no external_id) usr_3"] = "usr_3"
            assert store[Kind.USER].get("user_a") == "usr_1"
            assert store[Kind.USER].get("user_z") is None
            assert store.key_for(Kind.USER, "usr_2") == "user_b"
            assert store.key_for(Kind.ORGANIZATION, "usr_2") is None
            assert dict(store.keyed(Kind.USER).items()) == {"user_a": "usr_1", "user_b": "usr_2"}
            assert list(store.keyed(Kind.USER)) == ["user_a", "user_b"]
    finally:
        index.close()


def test_ids_remembered_a_batch_at_a_time_and_looked_up_by_provider_id_at_once():
    """A read remembers its items' ids in batches (``remembering``) and a page of memberships
    looks up its users' keys in one call (``keys_for``): the same answers as one statement
    per item, on both stores, and every id written once the block ends, however it ends."""
    from authform.engine.index import StateIndex
    from authform.providers.ids import remembering

    index = StateIndex()
    try:
        for store in (MemoryIds(), IndexedIds(index.db)):
            count = 1_234  # more than one batch, and a partial last one
            with remembering(store, Kind.USER) as remember:
                for n in range(count):
                    remember(f"user_{n:05d}", f"usr_{n}")
            wanted = [f"usr_{n}" for n in range(0, count, 7)] + ["usr_missing", "usr_7"]
            found = store.keys_for(Kind.USER, wanted)
            assert found == {
                f"usr_{n}": f"user_{n:05d}" for n in range(0, count, 7)
            }  # the unknown id is absent; a repeated one answered once
            assert found == {
                pid: key for pid in wanted if (key := store.key_for(Kind.USER, pid)) is not None
            }
            assert store.keys_for(Kind.ORGANIZATION, ["usr_1"]) == {}
            assert store[Kind.USER]["user_01233"] == "usr_1233"
            try:
                with remembering(store, Kind.ORGANIZATION) as remember:
                    remember("acme", "org_1")
                    raise RuntimeError("the read failed")
            except RuntimeError:
                pass
            assert store.keys_for(Kind.ORGANIZATION, ["org_1"]) == {"org_1": "acme"}
    finally:
        index.close()
