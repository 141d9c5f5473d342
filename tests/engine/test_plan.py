"""The diff: what changes, in what order, and what is refused — no I/O involved."""

from __future__ import annotations

from authform.engine.field_diff import field_changes
from authform.engine.plan import Action, Policy, plan_changes
from authform.providers.base import KindSupport, ProviderCapabilities
from authform.render.values import describe_field
from authform.resources import Kind, Resource, normalize_spec

CAPS = ProviderCapabilities(
    name="test",
    support={
        Kind.PERMISSION: KindSupport(),
        Kind.ROLE: KindSupport(delete=False),
        Kind.ORGANIZATION: KindSupport(),
        Kind.REDIRECT_URI: KindSupport(update=False),
        Kind.SOCIAL_CONNECTION: KindSupport(manual=True),
    },
)


def instructions(desired, live):
    return [f"do it by hand: {(desired or live).address}"]


def perm(slug, name="N", pid=None):
    return Resource(Kind.PERMISSION, slug, {"slug": slug, "name": name, "description": ""}, pid)


def role(slug, permissions, name="R", pid=None):
    spec = normalize_spec(
        {"slug": slug, "name": name, "description": "", "permissions": permissions}
    )
    return Resource(Kind.ROLE, slug, spec, pid)


def org(key, name, domains=(), metadata=None, pid=None, unkeyed=False):
    spec = normalize_spec(
        {"name": name, "domains": [dict(d) for d in domains], "metadata": metadata or {}}
    )
    return Resource(Kind.ORGANIZATION, key, spec, pid, observed={"unkeyed": unkeyed})


def make_plan(desired, live, managed=None, policy=None, force=False):
    kinds = managed or {r.kind for r in [*desired, *live]}
    return plan_changes(
        desired,
        live,
        managed=kinds,
        capabilities=CAPS,
        policy=policy or Policy(),
        manual_instructions=instructions,
        force=force,
    )


def test_equal_state_with_reordered_lists_plans_nothing():
    desired = [role("admin", ["a", "b", "c"])]
    live = [role("admin", ["c", "a", "b"], pid="role_1")]
    assert make_plan(desired, live).changes == []


def test_creates_follow_dependency_order_and_deletes_come_last_in_reverse():
    desired = [role("admin", ["p1"]), perm("p1"), org("acme", "Acme")]
    live = [perm("old", pid="perm_9"), org("gone", "Gone", pid="org_9")]
    plan = make_plan(desired, live, policy=Policy(allow_delete=True))
    assert [(c.action, c.address) for c in plan.changes] == [
        (Action.CREATE, "permission.p1"),
        (Action.CREATE, "role.admin"),
        (Action.CREATE, "organization.acme"),
        (Action.DELETE, "organization.gone"),
        (Action.DELETE, "permission.old"),
    ]


def test_update_names_each_changed_field_with_old_and_new():
    desired = [
        org("acme", "Acme Inc", [{"domain": "acme.com", "state": "verified"}], {"tier": "gold"})
    ]
    live = [
        org(
            "acme",
            "Acme",
            [{"domain": "acme.com", "state": "pending"}],
            {"tier": "silver", "x": "1"},
            pid="org_1",
        )
    ]
    (change,) = make_plan(desired, live).changes
    assert change.action is Action.UPDATE
    fields = {f.path: (f.old, f.new) for f in change.fields}
    assert fields["name"] == ("Acme", "Acme Inc")
    assert fields["metadata.tier"] == ("silver", "gold")
    assert fields["metadata.x"] == ("1", None)
    # a change inside one domain is named by that domain, not by the whole list
    assert fields["domains[acme.com].state"] == ("pending", "verified")
    assert "domains" not in fields


def test_deletes_are_planned_but_blocked_unless_allowed():
    plan = make_plan([], [perm("stray", pid="perm_1")], managed={Kind.PERMISSION})
    (change,) = plan.changes
    assert change.action is Action.DELETE
    assert change.blocked and "policy.allow_delete" in change.blocked
    assert not change.is_write


def test_a_delete_the_api_cannot_do_becomes_a_manual_step():
    plan = make_plan([], [role("legacy", [], pid="role_1")], policy=Policy(allow_delete=True))
    (change,) = plan.changes
    assert change.action is Action.MANUAL
    assert change.instructions == ("do it by hand: role.legacy",)


def test_a_field_the_api_cannot_update_is_a_replace():
    caps_with_immutable = ProviderCapabilities(
        "t", {Kind.PERMISSION: KindSupport(immutable_fields=frozenset({"name"}))}
    )
    plan = plan_changes(
        [perm("p", "new")],
        [perm("p", "old", pid="perm_1")],
        managed={Kind.PERMISSION},
        capabilities=caps_with_immutable,
        policy=Policy(),
        manual_instructions=instructions,
    )
    assert [c.action for c in plan.changes] == [Action.REPLACE]


def test_dashboard_only_kinds_are_manual_and_absent_when_in_place():
    desired = [
        Resource(Kind.SOCIAL_CONNECTION, "google", {"provider": "google", "client_id": "c1"})
    ]
    (change,) = make_plan(desired, []).changes
    assert change.action is Action.MANUAL and change.instructions
    live = [Resource(Kind.SOCIAL_CONNECTION, "google", {"provider": "google", "client_id": "c1"})]
    assert make_plan(desired, live).changes == []


def test_delete_threshold_refuses_large_share_unless_forced():
    live = [perm(f"p{i}", pid=f"perm_{i}") for i in range(10)]
    desired = live[:6]  # 4 of 10 would go: 40% > 30%
    policy = Policy(allow_delete=True)
    plan = make_plan(desired, live, policy=policy)
    assert plan.refused
    assert plan.refusals == [
        "permissions: would delete 4 of 10 existing (40% > 30% allowed by "
        "policy.max_delete_percent); re-run with --force if this is intended"
    ]
    assert not make_plan(desired, live, policy=policy, force=True).refused


def test_threshold_ignores_small_kinds_and_blocked_deletes():
    live = [perm(f"p{i}", pid=f"perm_{i}") for i in range(9)]
    assert not make_plan([], live, policy=Policy(allow_delete=True)).refused
    live10 = [perm(f"p{i}", pid=f"perm_{i}") for i in range(10)]
    assert not make_plan([], live10).refused  # deletes not allowed: nothing would be deleted


def test_update_threshold():
    live = [perm(f"p{i}", "old", pid=f"perm_{i}") for i in range(10)]
    desired = [perm(f"p{i}", "new" if i < 4 else "old") for i in range(10)]
    assert make_plan(desired, live).refused


def test_an_unkeyed_item_with_the_same_name_is_adopted_once():
    live = [org("(no external_id) org_1", "Acme", pid="org_1", unkeyed=True)]
    (change,) = make_plan([org("acme", "Acme")], live).changes
    assert change.action is Action.UPDATE
    assert change.live.provider_id == "org_1"
    assert change.fields[0].path == "(key)"
    # two candidates: never guess, create instead (and the unkeyed ones are deletes)
    live2 = live + [org("(no external_id) org_2", "Acme", pid="org_2", unkeyed=True)]
    actions = [c.action for c in make_plan([org("acme", "Acme")], live2).changes]
    assert actions == [Action.CREATE, Action.DELETE, Action.DELETE]


def test_digest_changes_with_the_changes_and_fingerprint_with_live_state():
    a = make_plan([perm("p1")], [])
    b = make_plan([perm("p1")], [])
    c = make_plan([perm("p1", "other")], [])
    assert a.digest() == b.digest() != c.digest()
    d = make_plan([perm("p1")], [perm("p2", pid="perm_2")])
    assert a.live_fingerprint != d.live_fingerprint


def test_nested_changes_have_readable_paths_and_keep_sets_whole():
    """deepdiff breaks nested values down (issue 10, item 8): items of a list of mappings by
    their natural key, mappings by key; a list of plain values (a role's permissions) is an
    order-free set, one change shown as + and -; a reorder is no change at all."""
    old = {
        "domains": [
            {"domain": "acme.com", "state": "pending"},
            {"domain": "old.example", "state": "verified"},
        ],
        "metadata": {"tier": "free", "region": "eu"},
        "permissions": ["a:read", "b:write"],
    }
    new = {
        "domains": [
            {"domain": "new.example", "state": "pending"},
            {"domain": "acme.com", "state": "verified"},
        ],
        "metadata": {"region": "eu", "tier": "gold", "seats": "10"},
        "permissions": ["b:write", "c:admin"],
    }
    changes = {c.path: (c.old, c.new) for c in field_changes(old, new)}
    assert changes == {
        "domains[acme.com].state": ("pending", "verified"),
        "domains[new.example]": (None, {"domain": "new.example", "state": "pending"}),
        "domains[old.example]": ({"domain": "old.example", "state": "verified"}, None),
        "metadata.seats": (None, "10"),
        "metadata.tier": ("free", "gold"),
        "permissions": (["a:read", "b:write"], ["b:write", "c:admin"]),
    }
    assert {c.field for c in field_changes(old, new)} == {"domains", "metadata", "permissions"}
    reordered = {
        **old,
        "domains": list(reversed(old["domains"])),
        "permissions": ["b:write", "a:read"],
    }
    assert field_changes(old, reordered) == ()
    # how the renderings describe them
    described = {c.path: describe_field(c) for c in field_changes(old, new)}
    assert described["domains[new.example]"] == '+ {"domain": "new.example", "state": "pending"}'
    assert described["domains[old.example]"] == '- {"domain": "old.example", "state": "verified"}'
    assert described["domains[acme.com].state"] == '"pending" → "verified"'
    assert described["permissions"] == '+ "c:admin", - "a:read"'


def test_a_kind_as_large_on_both_sides_is_skipped_only_when_nothing_differs():
    """The planner skips reading the pairs of a kind whose live and desired sides have as
    many items, none live alone and none differing (a no-change plan); each way of being
    the same size and still changing is planned."""
    desired = [org("a", "A"), org("b", "B")]
    same = [org("a", "A", pid="org_1"), org("b", "B", pid="org_2")]
    assert list(make_plan(desired, same).changes) == []
    renamed = [org("a", "A", pid="org_1"), org("b", "Bee", pid="org_2")]
    assert [(c.action, c.address) for c in make_plan(desired, renamed).changes] == [
        (Action.UPDATE, "organization.b")
    ]
    swapped = [org("a", "A", pid="org_1"), org("c", "C", pid="org_3")]
    plan = make_plan(desired, swapped, policy=Policy(allow_delete=True))
    assert [(c.action, c.address) for c in plan.changes] == [
        (Action.CREATE, "organization.b"),
        (Action.DELETE, "organization.c"),
    ]
    # Nothing live alone nor differing, but fewer live items: the missing one is created.
    fewer = make_plan(desired, same[:1])
    assert [(c.action, c.address) for c in fewer.changes] == [(Action.CREATE, "organization.b")]
    twice = [org("a", "A"), org("a", "A")]  # a key given twice, live has it once and another
    plan = make_plan(twice, same, policy=Policy(allow_delete=True))
    assert [(c.action, c.address) for c in plan.changes] == [(Action.DELETE, "organization.b")]
