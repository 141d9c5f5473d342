"""Replaces are deletes, unique values are freed before they are claimed, and memberships
only name roles that will exist: the planner's rules, with no I/O (issue 9, findings 1, 5)."""

from __future__ import annotations

from authform.engine.apply import _phases
from authform.engine.plan import Action, Policy, plan_changes
from authform.providers.base import KindSupport, ProviderCapabilities
from authform.render.text import render_plan
from authform.resources import Kind, Resource, normalize_spec

CAPS = ProviderCapabilities(
    name="test",
    support={
        Kind.ROLE: KindSupport(),
        # A kind whose name cannot be changed in place: a changed name is a replace.
        Kind.ORGANIZATION: KindSupport(immutable_fields=frozenset({"name"})),
        # As on Scalekit: the API cannot change a user's email.
        Kind.USER: KindSupport(immutable_fields=frozenset({"email"})),
        Kind.MEMBERSHIP: KindSupport(immutable_fields=frozenset({"user", "organization"})),
    },
)
MUTABLE_ORGS = ProviderCapabilities(
    name="test", support={**CAPS.support, Kind.ORGANIZATION: KindSupport()}
)


def instructions(desired, live):
    return [f"do it by hand: {(desired or live).address}"]


def org(key, name, domains=(), pid=None):
    spec = normalize_spec(
        {"name": name, "domains": [{"domain": d, "state": "verified"} for d in domains]}
    )
    return Resource(Kind.ORGANIZATION, key, spec, pid, observed={"unkeyed": False})


def user(key, email, first="A", pid=None):
    spec = {"email": email, "first_name": first, "last_name": "B", "email_verified": True}
    return Resource(Kind.USER, key, spec, pid, observed={"unkeyed": False})


def role(slug, pid=None):
    spec = {"slug": slug, "name": slug, "description": "", "permissions": []}
    return Resource(Kind.ROLE, slug, spec, pid)


def member(user_key, org_key, role_slug):
    spec = {"user": user_key, "organization": org_key, "role": role_slug}
    return Resource(Kind.MEMBERSHIP, f"{user_key}@{org_key}", spec)


def plan(desired, live, *, allow_delete=False, caps=CAPS, force=False, read=None):
    return plan_changes(
        desired,
        live,
        managed={r.kind for r in [*desired, *live]} - set(read or ()),
        capabilities=caps,
        policy=Policy(allow_delete=allow_delete),
        manual_instructions=instructions,
        force=force,
        read=None if read is None else {r.kind for r in [*desired, *live]},
    )


def summary(p):
    return [(c.action, c.address, c.blocked is not None) for c in p.changes]


# --------------------------------------------------------------- finding 1: a replace is a delete


def test_a_replace_is_not_applied_unless_deletes_are_allowed():
    p = plan([org("acme", "Acme Inc")], [org("acme", "Acme", pid="org_1")])
    (change,) = p.changes
    assert change.action is Action.REPLACE
    assert change.blocked is not None and "policy.allow_delete" in change.blocked
    assert not change.is_write
    assert "not applied" in render_plan(p, colour=False)

    allowed = plan([org("acme", "Acme Inc")], [org("acme", "Acme", pid="org_1")], allow_delete=True)
    assert allowed.changes[0].action is Action.REPLACE and allowed.changes[0].is_write


def test_a_replace_counts_toward_the_delete_threshold_not_the_update_one():
    live = [org(f"o{n}", f"Old {n}", pid=f"org_{n}") for n in range(10)]
    desired = [org(f"o{n}", f"New {n}" if n < 4 else f"Old {n}") for n in range(10)]
    p = plan(desired, live, allow_delete=True)
    assert [c.counts_as for c in p.changes] == ["delete"] * 4
    assert p.refused
    assert any("would delete 4 of 10" in r for r in p.refusals), p.refusals
    assert not any("would update" in r for r in p.refusals)


def test_a_user_is_never_replaced_an_immutable_email_is_a_manual_step():
    live = [user("u1", "old@example.com", pid="usr_1")]
    for allow_delete in (False, True):
        p = plan([user("u1", "new@example.com")], live, allow_delete=allow_delete)
        (change,) = p.changes
        assert change.action is Action.MANUAL, change
        assert "never deletes and recreates a user" in (change.note or "")
        assert change.instructions == ("do it by hand: user.u1",)
        assert [f.path for f in change.fields] == ["email"]


def test_a_user_email_the_api_can_update_is_an_update_in_place():
    live = [user("u1", "old@example.com", pid="usr_1")]
    caps = ProviderCapabilities(name="t", support={Kind.USER: KindSupport()})
    p = plan([user("u1", "new@example.com")], live, caps=caps)
    assert summary(p) == [(Action.UPDATE, "user.u1", False)]


# ------------------------------------------------- finding 5: free a unique value before claiming


def test_a_renamed_key_holding_a_domain_deletes_first_when_deletes_are_allowed():
    desired = [org("acme-inc", "Acme", ["acme.com"]), org("other", "Other")]
    live = [org("acme", "Acme", ["acme.com"], pid="org_1")]
    p = plan(desired, live, allow_delete=True, caps=MUTABLE_ORGS)
    assert summary(p) == [
        (Action.DELETE, "organization.acme", False),
        (Action.CREATE, "organization.other", False),
        (Action.CREATE, "organization.acme-inc", False),
    ]
    create = p.changes[2]
    assert create.after == ("organization.acme",)
    # Apply runs the delete in a phase of its own, before the creates.
    phases = [[c.address for c in phase] for phase in _phases(p.changes)]
    assert phases == [["organization.acme"], ["organization.other", "organization.acme-inc"]]


def test_a_claimed_value_whose_holder_stays_blocks_the_create_and_what_needs_it():
    desired = [
        org("acme-inc", "Acme", ["acme.com"]),
        user("u2", "ada@example.com"),
        member("u2", "acme-inc", "admin"),
        role("admin"),
    ]
    live = [
        org("acme", "Acme", ["ACME.com"], pid="org_1"),
        user("u1", "Ada@Example.com", pid="usr_1"),
        role("admin", pid="role_1"),
    ]
    p = plan(desired, live, caps=MUTABLE_ORGS)
    by_address = {c.address: c for c in p.changes}
    create_org = by_address["organization.acme-inc"]
    assert create_org.blocked == (
        "its domain acme.com is still held by organization.acme, whose delete is not applied "
        "(deletes are not allowed (set policy.allow_delete: true to delete))"
    )
    assert "ada@example.com is still held by user.u1" in (by_address["user.u2"].blocked or "")
    assert by_address["membership.u2@acme-inc"].blocked == (
        "it needs user.u2, which is not applied"
    )
    assert not [c for c in p.changes if c.is_write]


def test_an_update_that_frees_an_email_runs_before_the_create_that_takes_it():
    caps = ProviderCapabilities(name="t", support={Kind.USER: KindSupport()})
    desired = [user("u1", "new@example.com"), user("u2", "old@example.com")]
    live = [user("u1", "old@example.com", pid="usr_1")]
    p = plan(desired, live, caps=caps)
    assert summary(p) == [(Action.UPDATE, "user.u1", False), (Action.CREATE, "user.u2", False)]
    assert p.changes[1].after == ("user.u1",)
    assert len(_phases(p.changes)) == 2


def test_no_wait_when_nothing_else_holds_the_value():
    p = plan([org("a", "A", ["a.com"]), org("b", "B", ["b.com"])], [], caps=MUTABLE_ORGS)
    assert all(c.after == () and c.blocked is None for c in p.changes)
    assert len(_phases(p.changes)) == 1


# --------------------------------------------------- finding 5: memberships name existing roles


def test_a_membership_naming_a_role_that_is_neither_live_nor_planned_refuses_the_plan():
    desired = [org("acme", "Acme"), user("u1", "a@x.com"), member("u1", "acme", "billing")]
    p = plan(desired, [role("member", pid="r1")], read={Kind.ROLE})
    assert [(m.role, m.memberships) for m in p.missing_roles] == [("billing", ("u1@acme",))]
    assert p.refused
    assert "name role 'billing', which neither exists in test nor is planned" in p.refusals[0]
    forced = plan(desired, [role("member", pid="r1")], read={Kind.ROLE}, force=True)
    assert forced.refused, "--force must not override a missing role"


def test_a_live_or_planned_role_satisfies_memberships():
    desired = [org("acme", "Acme"), user("u1", "a@x.com"), member("u1", "acme", "member")]
    assert plan(desired, [role("member", pid="r1")], read={Kind.ROLE}).missing_roles == []
    assert plan([*desired, role("member")], []).missing_roles == []


def test_a_role_about_to_be_deleted_does_not_satisfy_memberships():
    desired = [
        role("admin"),
        org("acme", "Acme"),
        user("u1", "a@x.com"),
        member("u1", "acme", "member"),
    ]
    live = [role("admin", pid="r1"), role("member", pid="r2")]
    assert plan(desired, live).missing_roles == []  # the delete is not allowed: it stays
    doomed = plan(desired, live, allow_delete=True)
    assert [m.role for m in doomed.missing_roles] == ["member"]


def test_a_membership_depends_on_its_role():
    from authform.resources import dependencies

    assert "role.admin" in dependencies(member("u1", "acme", "admin"))
