"""The shortcuts that make a large plan fast give exactly what the long way gives.

Each test pins one shortcut against the general code it stands in for: plain creates
spooled from their stored state (``EncodedCreate``), the text plan's groups read from the
spool's runs and block offsets, the live state's fingerprint hashed in batches, the source's
spec values asked of the index in SQL, and a shown plan that skips the live fingerprint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random

import pytest

from authform.engine import spool as spool_module
from authform.engine.codec import change_from, change_state, dump_resource
from authform.engine.field_diff import created_field_states, field_changes
from authform.engine.index import IndexedResources, StateIndex
from authform.engine.ordering import order_changes
from authform.engine.plan import (
    Action,
    Change,
    CreateBlock,
    EncodedCreate,
    PlanOptions,
    Policy,
    diff_kind,
    plan_changes,
)
from authform.engine.planner import plan_index
from authform.engine.spool import ChangeSpool
from authform.render.markdown import render_plan_markdown
from authform.render.summary import listed_groups
from authform.render.text import render_plan
from authform.resources import Kind, Resource, spec_values
from stream.test_streamed_plan import CAPS, instructions, member, org, random_state, role, user


def options(**settings) -> PlanOptions:
    return PlanOptions(
        **{
            "managed": set(Kind) - {Kind.REDIRECT_URI, Kind.CORS_ORIGIN, Kind.SOCIAL_CONNECTION},
            "capabilities": CAPS,
            "policy": Policy(allow_delete=True),
            "manual_instructions": instructions,
            "force": True,
        }
        | settings
    )


def test_a_plain_create_reads_back_as_the_change_the_long_way_builds():
    desired = Resource(
        Kind.USER,
        "u1",
        {"email": "zoë@x.io", "first_name": "Zoë", "last_name": None, "tags": ["b", "a"]},
        create_only={"password_hash": "$2b$04$abc", "password_hash_type": "bcrypt"},
        origin={"file": "users.csv", "row": 2},
    )
    state = change_state(Change(Action.CREATE, Kind.USER, "u1", desired))[3]
    encoded = EncodedCreate(Kind.USER, "u1", state, created_field_states(desired.spec))
    long_way = Change(
        Action.CREATE, Kind.USER, "u1", desired=desired, fields=field_changes({}, desired.spec)
    )
    assert change_from(change_state(encoded)) == long_way
    assert encoded.as_change() == long_way
    assert (encoded.address, encoded.counts_as, encoded.is_write) == ("user.u1", None, True)
    assert encoded.desired == desired and encoded.fields == long_way.fields
    # Whatever changes a create copies an ordinary one.
    held = dataclasses.replace(encoded.as_change(), blocked="held")
    assert held.blocked == "held" and held.desired == desired


@pytest.mark.parametrize("seed", range(4))
def test_a_plan_with_plain_creates_equals_one_whose_creates_are_built(seed, monkeypatch):
    """The same random states planned twice: once as the planner does, once with every
    create built the long way (``CreateBlock`` and ``EncodedCreate`` turned off)."""
    desired, live = random_state(seed)
    fast = plan_changes(desired, live, options())
    fast_changes = list(fast.changes)
    assert any(c.action is Action.CREATE for c in fast_changes)

    class BuiltTheLongWay(EncodedCreate):
        __slots__ = ()

        def __new__(cls, *parts):  # an ordinary Change, so __init__ is not called
            return EncodedCreate(*parts).as_change()

    monkeypatch.setattr("authform.engine.plan.EncodedCreate", BuiltTheLongWay)
    monkeypatch.setattr(
        "authform.engine.planner.diff_kind",
        lambda *args, **settings: diff_kind(*args, **(settings | {"blocks": False})),
    )
    slow = plan_changes(desired, live, options())
    assert fast_changes == list(slow.changes)
    assert fast.digest() == slow.digest()
    assert fast.refusals == slow.refusals and fast.missing_roles == slow.missing_roles


def test_a_membership_of_a_held_user_is_held_though_its_create_was_encoded():
    """A user's create held back (its email is still held by a live user whose delete is
    not allowed) holds back the membership that needs it: ``_hold_dependents`` builds the
    encoded create to mark it."""
    desired = [user("new", "taken@x.io"), org("o1"), member("new", "o1")]
    live = [user("old", "taken@x.io", pid="1"), org("o1", pid="o")]
    plan = plan_changes(desired, live, options(policy=Policy(allow_delete=False)))
    by_address = {c.address: c for c in plan.changes}
    assert by_address["user.new"].blocked
    assert by_address["membership.new@o1"].blocked == "it needs user.new, which is not applied"
    assert by_address["membership.new@o1"].desired == member("new", "o1")


def spool_of(changes: list[Change]) -> ChangeSpool:
    spool = ChangeSpool()
    spool.extend(changes)
    return spool.seal()


def some_changes(count: int) -> list[Change]:
    """Runs of several kinds and actions, long and short, across block boundaries."""
    rng = random.Random(count)
    changes: list[Change] = []
    while len(changes) < count:
        kind = rng.choice([Kind.USER, Kind.ORGANIZATION, Kind.MEMBERSHIP])
        action = rng.choice([Action.CREATE, Action.UPDATE, Action.DELETE])
        for _ in range(rng.choice([1, 3, 49, 50, 51, 700])):
            n = len(changes)
            changes.append(Change(action, kind, f"k{n}", desired=Resource(kind, f"k{n}", {})))
    return changes[:count]


@pytest.mark.parametrize("limit", [None, 1, 50])
def test_the_groups_read_from_runs_are_the_groups_a_full_scan_finds(limit):
    changes = some_changes(5_000)
    spool = spool_of(changes)
    assert spool.runs is not None
    assert listed_groups(spool, limit) == listed_groups(changes, limit)


def test_read_range_reads_any_range_of_the_spool():
    changes = some_changes(1_300)
    spool = spool_of(changes)
    for start, stop in [(0, 1), (0, 1_300), (511, 513), (512, 1_024), (1_299, 2_000), (7, 7)]:
        assert list(spool.read_range(start, stop)) == changes[start:stop]
    assert list(spool.states()) == [change_state(c) for c in changes]


def test_blocks_of_plain_creates_read_back_as_the_creates_they_stand_for():
    """A ``CreateBlock`` is spooled as its items' bytes; read back (in order, by range, as
    states) it is the creates the long way builds, counted and grouped alike, across
    block boundaries and beside ordinary changes."""
    users = [user(f"u{n:04}", f"u{n}@x.io") for n in range(1_200)]
    creates = [
        Change(Action.CREATE, Kind.USER, r.key, desired=r, fields=field_changes({}, r.spec))
        for r in users
    ]
    others = some_changes(700)
    blocks = [
        CreateBlock(Kind.USER, [dump_resource(r) for r in users[at : at + size]])
        for at, size in [(0, 1), (1, 600), (601, 599)]
    ]
    spool = ChangeSpool()
    spool.extend([*others[:300], *blocks, *others[300:]])
    spool.seal()
    expected = [*others[:300], *creates, *others[300:]]
    assert len(spool) == len(expected) and list(spool) == expected
    assert list(spool.change_states()) == [change_state(c) for c in expected]
    for start, stop in [(0, 1), (299, 302), (511, 1_537), (1_499, 1_501), (1_890, 3_000)]:
        assert list(spool.read_range(start, stop)) == expected[start:stop]
    assert spool.by_action == spool_of(expected).by_action
    assert spool.by_threshold == spool_of(expected).by_threshold
    assert spool.runs == spool_of(expected).runs
    assert listed_groups(spool, 50) == listed_groups(expected, 50)


def test_past_max_runs_the_spool_stops_keeping_them_and_the_summary_scans(monkeypatch):
    monkeypatch.setattr(spool_module, "MAX_RUNS", 3)
    actions = [Action.CREATE, Action.UPDATE] * 4
    changes = [Change(a, Kind.USER, f"u{n}") for n, a in enumerate(actions)]
    spool = spool_of(changes)
    assert spool.runs is None
    assert listed_groups(spool, 50) == listed_groups(changes, 50)


def test_the_text_plan_of_a_spooled_plan_is_the_text_of_the_same_plan_in_a_list():
    desired, live = random_state(7)
    plan = plan_changes(desired, live, options())
    listed = dataclasses.replace(plan, changes=list(plan.changes))
    assert render_plan(plan) == render_plan(listed)
    assert render_plan(plan, max_per_group=2) == render_plan(listed, max_per_group=2)


def documented_live_fingerprint(live: list[Resource]) -> str:
    """``StateIndex.live_fingerprint``'s formula as written before it was batched."""
    digest = hashlib.sha256()
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
    for item in sorted(live, key=lambda r: (r.kind.order, r.key)):
        digest.update(json.dumps([item.kind.order, item.key, item.provider_id]).encode())
        digest.update(encoder.encode(item.spec).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def test_the_live_fingerprint_keeps_its_formula_for_any_text():
    keys = ["plain", 'quo"te', "back\\slash", "zoë", "用户", "line\nbreak", "\u2028", "\x01"]
    live = [
        user(f"{key}{n}", f"{n}@x.io", pid=None if n % 3 == 0 else f"id-{key}")
        for n, key in enumerate(keys * 3)
    ] + [role("admin", pid="r1"), org("Ünïcode", pid="o1")]
    index = StateIndex()
    try:
        index.add_live(live)
        assert index.live_fingerprint() == documented_live_fingerprint(live)
        users = [r for r in live if r.kind is Kind.USER]
        assert index.live_fingerprint([Kind.USER]) == documented_live_fingerprint(users)
    finally:
        index.close()


def test_a_plan_only_shown_skips_the_live_fingerprint_and_a_saved_one_has_it():
    desired, live = random_state(2)
    index = StateIndex()
    try:
        index.add_desired(desired)
        index.add_live(live)
        shown = plan_index(index, options(fingerprint_live=False))
        saved = plan_index(index, options())
        assert shown.live_fingerprint == ""
        assert saved.live_fingerprint == index.live_fingerprint()
        assert list(shown.changes) == list(saved.changes)
    finally:
        index.close()


def test_spec_values_in_sql_are_the_values_of_the_items():
    desired = [
        member("u1", "o1"),
        member("u2", "o1"),
        member("u3", "ö2"),
        Resource(Kind.MEMBERSHIP, "odd", {"user": "u4", "organization": None}),
        org("o9"),
    ]
    index = StateIndex()
    try:
        whole = IndexedResources(index, index.add_desired(desired))
        part = IndexedResources(index, index.add_desired([member("u5", "o5")], section=1))
        assert spec_values(whole, Kind.MEMBERSHIP, "organization") == {"o1", "ö2"}
        assert spec_values(desired, Kind.MEMBERSHIP, "organization") == {"o1", "ö2"}
        assert spec_values(part, Kind.MEMBERSHIP, "organization") == {"o5"}
        assert spec_values(IndexedResources(index), Kind.MEMBERSHIP, "organization") == {
            "o1",
            "ö2",
            "o5",
        }
    finally:
        index.close()


def test_order_changes_still_takes_ordinary_changes():
    """The list entry point (``order_changes``) never sees an encoded create, and its
    order is the planner's."""
    desired, live = random_state(5)
    plan = plan_changes(desired, live, options())
    assert order_changes(list(plan.changes)) == list(plan.changes)


@pytest.mark.parametrize("budget", [2_000, 6_000, 60_000])
@pytest.mark.parametrize("limit", [None, 1, 30])
def test_the_markdown_of_a_spooled_plan_is_the_markdown_of_the_same_plan_in_a_list(budget, limit):
    """Read from the spool's runs, the comment lists, counts and leaves out exactly what
    the one pass over a list does, manual steps included."""
    desired, live = random_state(11)
    more = [user(f"bulk{n}", f"bulk{n}@x.io") for n in range(700)]
    plan = plan_changes(desired + more, live, options())
    assert plan.count(Action.MANUAL) and plan.changes.runs is not None  # type: ignore[attr-defined]
    listed = dataclasses.replace(plan, changes=list(plan.changes))
    spooled = render_plan_markdown(plan, max_per_group=limit, budget=budget)
    assert spooled == render_plan_markdown(listed, max_per_group=limit, budget=budget)
