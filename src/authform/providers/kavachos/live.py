"""Read a KavachOS database into authform's canonical resources.

What authform manages is recognisable in the rows themselves, so no state file is needed:
users whose ``external_provider`` is ``clerk`` are keyed by ``external_id`` (their Clerk id);
organizations carry ``metadata.authform.key``. Anything else KavachOS holds (people who signed
up natively, organizations made in the app) is read as *unkeyed*: adopted by email or name
when the manifest names exactly one match, otherwise shown as a delete the policy blocks.

Role rows are per organization in KavachOS; a manifest role is present when every managed
organization holds it with the manifest's permissions, and the plan names the first
organization that does not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from authform.providers.kavachos.codec import Codec
from authform.providers.kavachos.database import Database
from authform.providers.kavachos.schema import EMAIL_ACCOUNTS
from authform.resources import Kind, Resource, membership_key, normalize_spec, unkeyed_key

CLERK = "clerk"
AUTHFORM_METADATA = "authform"  # organization metadata key holding authform's own facts

# The roles ``kavach.org.create`` seeds in every organization (auth/organization.ts).
SEED_ROLES: Mapping[str, tuple[str, ...]] = {
    "owner": (
        "org:manage",
        "org:delete",
        "members:invite",
        "members:remove",
        "members:roles",
        "agents:create",
        "agents:revoke",
        "agents:manage",
        "roles:manage",
    ),
    "admin": (
        "members:invite",
        "members:remove",
        "agents:create",
        "agents:revoke",
        "agents:manage",
    ),
    "member": ("agents:create", "agents:manage"),
    "viewer": (),
}


# Shared, never mutated: one dict per live user would be 100,000 dicts in a large import.
_UNKEYED = {True: {"unkeyed": True}, False: {"unkeyed": False}}


@dataclass(frozen=True)
class OAuthRow:
    id: str
    user_id: str
    provider: str
    account_id: str


@dataclass
class LiveIndex:
    """Ids and rows the writers need: natural key → KavachOS id, and what already exists."""

    user_ids: dict[str, str] = field(default_factory=dict)
    org_ids: dict[str, str] = field(default_factory=dict)
    slugs: dict[str, str] = field(default_factory=dict)  # slug → organization id
    user_metadata: dict[str, Any] = field(default_factory=dict)  # user id → non-empty metadata
    org_metadata: dict[str, Any] = field(default_factory=dict)  # org id → metadata
    password_users: set[str] = field(default_factory=set)  # user ids with an email account
    oauth_by_pair: dict[tuple[str, str], list[OAuthRow]] = field(default_factory=dict)
    oauth_by_user: dict[str, list[OAuthRow]] = field(default_factory=dict)
    role_rows: dict[tuple[str, str], str] = field(default_factory=dict)  # (org, name) → id
    # (org, user) → id of membership rows the read could not key (an unkeyed user's, which
    # a create must update rather than duplicate); keyed rows are live resources already.
    member_rows: dict[tuple[str, str], str] = field(default_factory=dict)


def read_users(
    db: Database, codec: Codec, index: LiveIndex, desired: Mapping[str, Resource]
) -> list[Resource]:
    verified_account: dict[str, bool] = {}
    if codec.has_table(EMAIL_ACCOUNTS):
        for user_id, verified in db.fetch(
            "SELECT user_id, email_verified FROM kavach_email_accounts"
        ):
            verified_account[user_id] = codec.bool_value(verified)
    index.password_users = set(verified_account)
    for row_id, user_id, provider, account_id in db.fetch(
        "SELECT id, user_id, provider, provider_account_id FROM kavach_oauth_accounts"
    ):
        row = OAuthRow(row_id, user_id, provider, str(account_id))
        index.oauth_by_pair.setdefault((row.provider, row.account_id), []).append(row)
        index.oauth_by_user.setdefault(user_id, []).append(row)
    live = []
    for user_id, email, name, external_id, external_provider, metadata, verified in db.rows(
        "SELECT id, email, name, external_id, external_provider, metadata, email_verified "
        "FROM kavach_users"
    ):
        keyed = external_provider == CLERK and bool(external_id)
        key = external_id if keyed else unkeyed_key(user_id)
        index.user_ids[key] = user_id
        meta = codec.json_value(metadata)
        if meta:
            index.user_metadata[user_id] = meta
        email_verified = codec.bool_value(verified) and verified_account.get(user_id, True)
        want = desired.get(key)
        first, last = _names(name, want)
        spec: dict[str, Any] = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "email_verified": email_verified,
        }
        if want is None or "image_url" in want.spec:
            spec["image_url"] = meta.get("image_url", "") if isinstance(meta, dict) else ""
        if want is None or "oauth_accounts" in want.spec:
            spec["oauth_accounts"] = _oauth_spec(index.oauth_by_user.get(user_id, []), want)
        # Built canonical (the one list sorted), so no normalize_spec walk per user: specs
        # compare as dicts, whose order does not matter.
        live.append(
            Resource(Kind.USER, key, spec, provider_id=user_id, observed=_UNKEYED[not keyed])
        )
    return live


def display_name(first: str, last: str) -> str | None:
    """KavachOS has one ``name`` column: the Clerk first and last name, joined."""
    joined = " ".join(part for part in (first.strip(), last.strip()) if part)
    return joined or None


def _names(name: Any, want: Resource | None) -> tuple[str, str]:
    """First and last name as the manifest would say them: the desired pair when the joined
    name is what the row holds, else the whole name as the first name (it was changed)."""
    stored = name if isinstance(name, str) else ""
    if want is not None:
        first, last = want.spec.get("first_name", ""), want.spec.get("last_name", "")
        if (display_name(first, last) or "") == stored:
            return first, last
    return stored, ""


def _oauth_spec(rows: Sequence[OAuthRow], want: Resource | None) -> list[dict[str, str]]:
    """The user's links that the source names (each row, so a duplicate shows as a change).
    Links the user added in KavachOS after the import are theirs, not drift."""
    if not rows:
        return []  # nearly every user of a large import: no set to build
    named = {
        (link["provider"], link["provider_account_id"])
        for link in (want.spec.get("oauth_accounts", []) if want is not None else [])
    }
    return [
        {"provider": provider, "provider_account_id": account}
        for provider, account in sorted((r.provider, r.account_id) for r in rows)
        if (provider, account) in named
    ]


def read_organizations(db: Database, codec: Codec, index: LiveIndex) -> list[Resource]:
    live = []
    for org_id, name, slug, metadata in db.fetch(
        "SELECT id, name, slug, metadata FROM kavach_organizations"
    ):
        index.slugs[slug] = org_id
        meta = codec.json_value(metadata)
        meta = dict(meta) if isinstance(meta, dict) else {}
        index.org_metadata[org_id] = meta
        own = meta.pop(AUTHFORM_METADATA, None)
        key = own.get("key") if isinstance(own, dict) else None
        keyed = isinstance(key, str) and bool(key)
        resource_key = str(key) if keyed else unkeyed_key(org_id, "authform key")
        index.org_ids[resource_key] = org_id
        domains = own.get("domains", []) if isinstance(own, dict) else []
        live.append(
            Resource(
                Kind.ORGANIZATION,
                resource_key,
                normalize_spec({"name": name, "domains": domains, "metadata": meta}),
                provider_id=org_id,
                observed={"unkeyed": not keyed, "slug": slug},
            )
        )
    return live


def managed_org_ids(index: LiveIndex) -> dict[str, str]:
    """Organization id → key, for the organizations authform manages (keyed ones)."""
    return {org_id: key for key, org_id in index.org_ids.items() if not key.startswith("(no ")}


def read_roles(
    db: Database, codec: Codec, index: LiveIndex, desired: Mapping[str, Resource]
) -> list[Resource]:
    managed = managed_org_ids(index)
    per_role: dict[str, dict[str, list[str]]] = defaultdict(dict)  # name → org id → perms
    for role_id, org_id, name, permissions in db.fetch(
        "SELECT id, org_id, name, permissions FROM kavach_org_roles"
    ):
        index.role_rows[(org_id, name)] = role_id
        if org_id in managed:
            value = codec.json_value(permissions)
            per_role[name][org_id] = (
                sorted(str(p) for p in value) if isinstance(value, list) else []
            )
    # KavachOS's seeds are its own, beside the manifest's roles: never listed (so never a
    # delete) when the manifest declares roles; listed when it declares none, since then
    # roles are read only to check that every role a membership names exists, and every
    # organization has them (KavachOS's org.create and authform's write them).
    names = set(desired) | {n for n in per_role if n not in SEED_ROLES}
    if not desired:
        names |= set(SEED_ROLES)
    live = []
    for name in sorted(names):
        want = desired.get(name)
        expected = list(want.spec["permissions"]) if want is not None else None
        rows = per_role.get(name, {})
        missing = sorted(managed[o] for o in managed if o not in rows)
        differing = [(managed[o], perms) for o, perms in sorted(rows.items()) if perms != expected]
        if want is None:
            permissions = next(iter(rows.values()), sorted(SEED_ROLES.get(name, ())))
        elif differing:
            permissions = differing[0][1]
        else:
            permissions = expected or []
        spec: dict[str, Any] = {
            "slug": name,
            # KavachOS role rows hold a name and permissions only (a plan caveat says so).
            "name": want.spec["name"] if want is not None else name,
            "description": want.spec["description"] if want is not None else "",
            "permissions": permissions,
        }
        if missing and want is not None:
            spec["missing_in_organizations"] = len(missing)
        observed = {"probe": f"role rows in all {len(managed)} managed organizations"}
        if differing and want is not None:
            observed["probe"] = f"organization {differing[0][0]} differs"
        live.append(Resource(Kind.ROLE, name, normalize_spec(spec), observed=observed))
    return live


def read_memberships(db: Database, index: LiveIndex) -> list[Resource]:
    managed = managed_org_ids(index)
    user_keys = {user_id: key for key, user_id in index.user_ids.items()}
    live = []
    for member_id, org_id, user_id, role in db.rows(
        "SELECT id, org_id, user_id, role FROM kavach_org_members"
    ):
        org_key = managed.get(org_id)
        user_key = user_keys.get(user_id)
        if org_key is None or user_key is None or user_key.startswith("(no "):
            index.member_rows[(org_id, user_id)] = member_id
        if org_key is None:
            continue
        user_key = user_key or unkeyed_key(user_id)
        live.append(
            Resource(
                Kind.MEMBERSHIP,
                membership_key(user_key, org_key),
                {"user": user_key, "organization": org_key, "role": role},
                provider_id=member_id,
            )
        )
    return live


def present_as_desired(kind: Kind, desired: Sequence[Resource], why: str) -> list[Resource]:
    """Kinds KavachOS has no rows for but that need none (a permission is any string a role
    row lists): present by definition; ``why`` is what verify reports."""
    return [
        Resource(kind, r.key, r.spec, observed={"probe": why}) for r in desired if r.kind is kind
    ]
