"""Plans for the Markdown tests, built directly (no diff needed): small ones whose rendering
is pinned in golden files, and one of any size."""

from __future__ import annotations

from authform.engine.field_diff import FieldChange
from authform.engine.plan import Action, Change, Plan
from authform.resources import Kind, Resource

MANAGED = [Kind.PERMISSION, Kind.ROLE, Kind.ORGANIZATION, Kind.USER, Kind.MEMBERSHIP]
HASH = "$2b$10$rCUC3m0NZNiOTcIgm15yout/fI5HqM0avbC9bxZ1cEP2lWBEfd1c2"


def user_create(n: int) -> Change:
    spec = {"email": f"person{n}@example.com", "first_name": f"First{n}", "last_name": "Last"}
    desired = Resource(
        Kind.USER,
        f"user_{n:07d}",
        spec,
        create_only={"password_hash": HASH, "password_hash_type": "bcrypt"},
    )
    fields = tuple(FieldChange(name, None, value) for name, value in spec.items())
    return Change(Action.CREATE, Kind.USER, desired.key, desired=desired, fields=fields)


def membership_create(n: int, org: int) -> Change:
    key = f"user_{n:07d}/org_{org:05d}"
    spec = {"role": "member"}
    desired = Resource(Kind.MEMBERSHIP, key, spec)
    return Change(
        Action.CREATE,
        Kind.MEMBERSHIP,
        key,
        desired=desired,
        fields=(FieldChange("role", None, "member"),),
    )


def org_update(n: int, name: str) -> Change:
    live = Resource(Kind.ORGANIZATION, f"org{n}", {"name": f"Org {n}"}, provider_id=f"o{n}")
    desired = Resource(Kind.ORGANIZATION, f"org{n}", {"name": name})
    return Change(
        Action.UPDATE,
        Kind.ORGANIZATION,
        f"org{n}",
        desired=desired,
        live=live,
        fields=(FieldChange("name", f"Org {n}", name),),
    )


def social_manual(provider: str) -> Change:
    desired = Resource(Kind.SOCIAL_CONNECTION, provider, {"provider": provider, "client_id": "c1"})
    return Change(
        Action.MANUAL,
        Kind.SOCIAL_CONNECTION,
        provider,
        desired=desired,
        instructions=(f"Open the dashboard and enable {provider}", "Paste client id c1 | here"),
    )


def role_delete(slug: str) -> Change:
    live = Resource(Kind.ROLE, slug, {"slug": slug, "name": slug}, provider_id=slug)
    return Change(Action.DELETE, Kind.ROLE, slug, live=live, blocked="deletes are not allowed")


def plan_of(changes: list[Change], **extra: object) -> Plan:
    return Plan("workos", MANAGED, changes, live_fingerprint="x", **extra)  # type: ignore[arg-type]


def small_plans() -> dict[str, Plan]:
    """Plans whose Markdown is pinned, byte for byte, to what it was before the size cap."""
    return {
        "mixed": plan_of(
            [
                org_update(1, "Acme | Inc"),
                user_create(1),
                membership_create(1, 1),
                role_delete("owner"),
                social_manual("google"),
            ],
            notes=["Import: 1 user, 1 membership", "Skipped: 0"],
            refusals=["would delete 1 of 1 existing roles"],
            environment="staging",
        ),
        "grouped": plan_of(
            [user_create(n) for n in range(45)] + [membership_create(n, 1) for n in range(40)]
        ),
        "empty": plan_of([]),
    }


def huge_plan(count: int) -> Plan:
    """``count`` changes in many alternating runs (every run its own group), long notes,
    one manual step per hundred changes and long field values: every part of the rendering
    has more than fits."""
    changes: list[Change] = []
    n = 0
    while len(changes) < count:
        changes += [user_create(n + i) for i in range(40)]
        changes += [membership_create(n + i, i) for i in range(40)]
        changes.append(org_update(n, "Name " + "x" * 3000 + " ```"))
        changes += [social_manual(f"provider{n}")] + [role_delete(f"role{n}")]
        n += 40
    notes = [f"note {i}: " + "y" * 200 for i in range(2000)]
    refusals = [f"refusal {i}" for i in range(3000)]
    return plan_of(changes[:count], notes=notes, refusals=refusals)
