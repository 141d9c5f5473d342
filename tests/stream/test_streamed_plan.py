"""The streaming plan (issue 12): both sides joined in an on-disk index, the changes spooled
to disk. These tests prove it keeps every rule of the in-memory plan it replaced: the order
apply runs in, the counts and thresholds, the digest's formula, and that nothing it spools
outlives the command."""

from __future__ import annotations

import gc
import hashlib
import json
import random
import tempfile
from pathlib import Path

import pytest

from authform.engine.index import StateIndex
from authform.engine.plan import Action, Change, PlanOptions, Policy, plan_changes
from authform.engine.planner import plan_index
from authform.engine.spool import ChangeSpool
from authform.providers.base import KindSupport, ProviderCapabilities
from authform.resources import Kind, Resource, normalize_spec

CAPS = ProviderCapabilities(
    name="test",
    support={
        Kind.PERMISSION: KindSupport(),
        Kind.ROLE: KindSupport(delete=False),
        Kind.ORGANIZATION: KindSupport(),
        Kind.USER: KindSupport(),
        Kind.MEMBERSHIP: KindSupport(immutable_fields=frozenset({"user", "organization"})),
    },
)


def instructions(desired, live):
    return [f"by hand: {(desired or live).address}"]


def org(key, domains=(), pid=None, name=None):
    spec = normalize_spec(
        {
            "name": name or key.title(),
            "domains": [{"domain": d, "state": "verified"} for d in domains],
        }
    )
    return Resource(Kind.ORGANIZATION, key, spec, pid, observed={"unkeyed": False})


def user(key, email, pid=None, first="A"):
    spec = {"email": email, "first_name": first, "last_name": "B", "email_verified": True}
    return Resource(Kind.USER, key, spec, pid, observed={"unkeyed": False})


def member(user_key, org_key, role="member", pid=None):
    spec = {"user": user_key, "organization": org_key, "role": role}
    return Resource(Kind.MEMBERSHIP, f"{user_key}@{org_key}", spec, pid)


def role(slug, pid=None, permissions=()):
    spec = {"slug": slug, "name": slug, "description": "", "permissions": sorted(permissions)}
    return Resource(Kind.ROLE, slug, spec, pid)


def random_state(seed: int) -> tuple[list[Resource], list[Resource]]:
    """Desired and live states that overlap, differ, rename keys that hold emails and
    domains, and delete: every path of the planner, in random order."""
    rng = random.Random(seed)
    desired: list[Resource] = [role("member"), role("admin", permissions=["p1"])]
    live: list[Resource] = [role("member", pid="r1"), role("stale", pid="r2")]
    desired.append(Resource(Kind.PERMISSION, "p1", {"slug": "p1", "name": "P", "description": ""}))
    for n in range(40):
        choice = rng.random()
        email = f"person{n}@example.com"
        if choice < 0.25:
            desired.append(user(f"u{n}", email))
        elif choice < 0.45:
            desired.append(user(f"u{n}", email))
            live.append(user(f"u{n}", email, pid=f"usr_{n}"))
        elif choice < 0.6:
            desired.append(user(f"u{n}", email, first="Changed"))
            live.append(user(f"u{n}", email, pid=f"usr_{n}"))
        elif choice < 0.75:  # renamed key: the old key still holds the email
            desired.append(user(f"new{n}", email))
            live.append(user(f"u{n}", email, pid=f"usr_{n}"))
        else:
            live.append(user(f"u{n}", email, pid=f"usr_{n}"))
    for n in range(12):
        domain = f"d{n}.example.com"
        if n % 3 == 0:
            desired.append(org(f"o{n}", [domain]))
        elif n % 3 == 1:
            desired.append(org(f"renamed{n}", [domain]))
            live.append(org(f"o{n}", [domain], pid=f"org_{n}"))
        else:
            desired.append(org(f"o{n}", [domain], name="Other"))
            live.append(org(f"o{n}", [domain], pid=f"org_{n}"))
    users = [r.key for r in desired if r.kind is Kind.USER]
    orgs = [r.key for r in desired if r.kind is Kind.ORGANIZATION]
    for u in users[:15]:
        desired.append(member(u, rng.choice(orgs), rng.choice(["member", "admin"])))
    rng.shuffle(desired)
    rng.shuffle(live)
    return desired, live


def position(change: Change, early: set[str], levels: dict[str, int]) -> tuple:
    """The documented order (engine/ordering.py), as one sort key over the whole plan."""
    if change.action is Action.DELETE and change.address not in early:
        return (1, -change.kind.order, 0, change.key)
    if change.action is Action.DELETE:
        return (0, change.kind.order, -1, change.key)
    return (0, change.kind.order, levels.get(change.address, 0), change.key)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("allow_delete", [False, True])
def test_the_streamed_order_is_the_documented_sort_of_the_whole_plan(seed, allow_delete):
    desired, live = random_state(seed)
    plan = plan_changes(
        desired,
        live,
        managed={r.kind for r in desired + live},
        capabilities=CAPS,
        policy=Policy(allow_delete=allow_delete),
        manual_instructions=instructions,
        force=True,
    )
    changes = list(plan.changes)
    early = {address for change in changes for address in change.after}
    levels = {c.address: 1 for c in changes if c.after}  # no chains in these states
    assert changes == sorted(changes, key=lambda c: position(c, early, levels))
    # Re-reading the spool gives the same changes; counts agree with a recount.
    assert list(plan.changes) == changes
    for action in Action:
        assert plan.count(action) == sum(1 for c in changes if c.action is action)
        assert plan.count(action, blocked=True) == sum(
            1 for c in changes if c.action is action and c.blocked
        )
    # The same inputs in another order give the same plan.
    again = plan_changes(
        list(reversed(desired)),
        list(reversed(live)),
        managed={r.kind for r in desired + live},
        capabilities=CAPS,
        policy=Policy(allow_delete=allow_delete),
        manual_instructions=instructions,
        force=True,
    )
    assert list(again.changes) == changes
    assert again.digest() == plan.digest()
    assert again.live_fingerprint == plan.live_fingerprint


def test_the_digest_keeps_the_formula_of_the_in_memory_plan():
    desired, live = random_state(3)
    plan = plan_changes(
        desired,
        live,
        managed={r.kind for r in desired + live},
        capabilities=CAPS,
        policy=Policy(allow_delete=True),
        manual_instructions=instructions,
        force=True,
    )
    payload = [
        {
            "action": c.action.value,
            "address": c.address,
            "fields": [
                [
                    f.path,
                    json.loads(json.dumps(f.old, sort_keys=True, default=str)),
                    json.loads(json.dumps(f.new, sort_keys=True, default=str)),
                ]
                for f in c.fields
            ],
            "blocked": c.blocked,
        }
        for c in plan.changes
    ]
    expected = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    assert plan.digest() == expected


def test_equal_pairs_never_leave_the_index_and_differing_ones_do():
    index = StateIndex()
    try:
        index.add_desired([user("a", "a@x.io"), user("b", "b@x.io"), user("c", "c@x.io")])
        index.add_live([user("a", "a@x.io", pid="1"), user("b", "b@x.io", pid="2", first="Old")])
        pairs = [(d.key, None if live is None else live.key) for d, live in index.pairs(Kind.USER)]
        assert pairs == [("b", "b"), ("c", None)]
        assert not index.may_free(Kind.ORGANIZATION)
        assert index.may_free(Kind.USER)  # b's live item differs from what is desired
    finally:
        index.close()


def test_every_resource_field_travels_through_the_index_and_the_spool():
    resource = Resource(
        Kind.USER,
        "u1",
        {"email": "a@x.io"},
        provider_id="usr_1",
        observed={"unkeyed": False, "probe": "ok"},
        create_only={"password_hash": "$2b$04$abc", "password_hash_type": "bcrypt"},
    )
    index = StateIndex()
    try:
        index.add_desired([resource])
        assert list(index.desired()) == [resource]
        spool = ChangeSpool()
        spool.append(Change(Action.CREATE, Kind.USER, "u1", desired=resource))
        assert list(spool)[0].desired == resource
    finally:
        index.close()


def test_nothing_spooled_outlives_the_plan(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    desired, live = random_state(1)
    plan = plan_changes(
        desired,
        live,
        managed={r.kind for r in desired + live},
        capabilities=CAPS,
        policy=Policy(),
        manual_instructions=instructions,
        force=True,
    )
    # The index is gone as soon as the plan is made; the plan's own spool lives with it.
    assert [p.name.split("-")[1] for p in tmp_path.iterdir()] == ["plan"]
    assert len(list(plan.changes)) == len(plan.changes) > 0
    del plan
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_a_plan_of_an_index_reads_only_what_it_manages():
    index = StateIndex()
    try:
        index.add_desired([member("u1", "o1", "ghost")])
        index.add_live([role("member", pid="r1")])
        plan = plan_index(
            index,
            PlanOptions(
                managed={Kind.MEMBERSHIP},
                capabilities=CAPS,
                policy=Policy(),
                manual_instructions=instructions,
                read={Kind.MEMBERSHIP, Kind.ROLE},
            ),
        )
        assert [(m.role, m.memberships) for m in plan.missing_roles] == [("ghost", ("u1@o1",))]
        assert plan.refused
    finally:
        index.close()
        assert not Path(index.folder).exists()
