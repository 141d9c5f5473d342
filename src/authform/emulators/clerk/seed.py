"""The Clerk emulator's seed: its sections for the shared loader (``emulators.seeding``).

Seeds describe state, not requests: they may set ids and timestamps, hold password digests
the API would refuse (an export's malformed one), addresses that differ only in case, and
memberships of users that no longer exist (``dangling_user: true``), because real exports
hold all of these. Timestamps are Unix ms or RFC 3339 strings. Items whose id (or slug)
already exists are skipped, so seeding a persistent database on every start is harmless.

```yaml
roles: [{key: basic_member, name: Member, permissions: []}]   # added to org:admin/member
users:
  - id: user_2aAda0000000000000000001                # optional
    first_name: Ada
    email_addresses:                                  # strings, or objects:
      - {email_address: ada@example.com, verified: true}
      - {email_address: ada@old.example, reserved: true}
    primary_email_address: ada@example.com            # default: first verified
    phone_numbers: [{phone_number: "+15555550111", reserved_for_second_factor: true}]
    password_digest: "$2a$10$…"                      # or password: plaintext
    password_hasher: bcrypt
    totp_secret: JBSWY3DPEHPK3PXP
    public_metadata: {plan: pro}
    external_accounts: [{provider: oauth_google, email_address: ada@example.com}]
    created_at: 1700000000000
organizations:
  - {id: org_2aAcme…, name: Acme Inc, slug: acme, public_metadata: {tier: gold}}
memberships:
  - {organization: acme, user_id: user_2aAda…, role: "org:admin"}   # id or slug
  - {organization: acme, user_id: user_2aGone…, role: "org:member", dangling_user: true}
```
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Final, Protocol

from ..seeding import SeedSection
from ..store import SqliteStore
from .family import Stated, clerk_id, now_ms, parse_rfc3339_ms
from .forms import Form, names
from .memberships import CREATE_MEMBERSHIP, Memberships
from .organizations import CREATE_ORGANIZATION, Organizations
from .passwords import hash_password
from .roles import Roles
from .users import METADATA, NewIdentification, NewUser, Users


class SeedTarget(Protocol):
    """What seeding reaches of the backend: its store and resource families."""

    store: SqliteStore
    roles: Roles
    users: Users
    organizations: Organizations
    memberships: Memberships


# A seed user's fields: those a NewUser takes as they are, its times, and the rest.
SEED_USER_AS_IS: Final = names("external_id first_name last_name locale backup_codes")
SEED_USER_TIMES: Final = ("created_at", "updated_at", "last_sign_in_at", "last_active_at")
SEED_USER_FIELDS: Final = frozenset(
    [*SEED_USER_AS_IS, *SEED_USER_TIMES, *METADATA]
    + list(names("id username email_addresses phone_numbers password password_digest"))
    + list(names("primary_email_address primary_phone_number password_hasher totp_secret"))
    + list(names("external_accounts banned locked"))
)
# Answer fields a saved GET /v1/organizations page holds that a create does not take.
SEED_READ_ONLY_FIELDS: Final = names(
    "object id created_at updated_at image_url has_image members_count "
    "pending_invitations_count missing_member_with_elevated_permissions last_active_at"
)


def _mapping(item: Any, section: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise ValueError(f"seed {section} items must be mappings, not {item!r}")
    return item


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"seed item {item!r} needs {key!r}")
    return value.strip()


def _time(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    parsed = parse_rfc3339_ms(value) if isinstance(value, str) else None
    if parsed is None:
        text = f"seed {key} must be Unix milliseconds or an RFC 3339 date-time: {value!r}"
        raise ValueError(text)
    return parsed


def _stated(item: Mapping[str, Any], item_id: str | None) -> Stated:
    return Stated(item_id, _time(item, "created_at"), _time(item, "updated_at"))


def seed_role(backend: SeedTarget, item: Any) -> None:
    role = _mapping(item, "roles")
    key = _text(role, "key")
    backend.roles.add(key, str(role.get("name") or key), role.get("permissions") or [])


def _identifications(user: Mapping[str, Any], key: str, kind: str) -> list[NewIdentification]:
    """A seed user's ``email_addresses`` or ``phone_numbers``: strings, or objects."""
    found = []
    for entry in user.get(key) or []:
        spec = {kind: entry} if isinstance(entry, str) else dict(entry)
        value = spec.get(kind)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"seed user {user['id']}: each of {key} needs {kind!r}")
        status = "reserved" if spec.get("reserved") else "verified"
        status = "unverified" if spec.get("verified") is False else status
        second_factor = bool(spec.get("reserved_for_second_factor"))
        default = bool(spec.get("default_second_factor"))
        found.append(NewIdentification(kind, value.strip(), status, second_factor, default))
    return found


def seed_user(item: Mapping[str, Any]) -> NewUser:
    """A seed ``users`` item as a ``NewUser`` (see the module's documentation for the shape)."""
    unknown = set(item) - SEED_USER_FIELDS
    if unknown:
        raise ValueError(f"seed user: unknown fields {', '.join(sorted(unknown))}")
    item = {**item, "id": str(item.get("id") or "") or clerk_id("user_")}
    emails = _identifications(item, "email_addresses", "email_address")
    digest, hasher = item.get("password_digest") or None, item.get("password_hasher") or None
    if item.get("password"):
        digest, hasher = hash_password(str(item["password"])), "bcrypt"
    columns: dict[str, Any] = {key: item.get(key) for key in ("id", *SEED_USER_AS_IS)}
    columns.update({key: _time(item, key) for key in SEED_USER_TIMES})
    columns.update({key: dict(item.get(key) or {}) for key in METADATA})
    columns.update({key: item.get(key) or None for key in ("username", "totp_secret")})
    columns.update({key: bool(item.get(key)) for key in ("banned", "locked")})
    columns["password_digest"] = digest
    columns["password_hasher"] = (hasher or "bcrypt") if digest else None
    columns["external_accounts"] = [
        _external_account(account, emails, item, columns["created_at"] or now_ms())
        for account in item.get("external_accounts") or []
    ]
    phones = _identifications(item, "phone_numbers", "phone_number")
    primaries = (item.get("primary_email_address"), item.get("primary_phone_number"))
    return NewUser(columns, emails, phones, *primaries)


def _external_account(
    account: Any, emails: list[NewIdentification], user: Mapping[str, Any], created_at: int
) -> dict[str, Any]:
    """An ``ExternalAccountWithVerification``; the matching email address is linked to it
    and marked verified from OAuth, as a social sign-up leaves them."""
    if not isinstance(account, dict) or not isinstance(account.get("provider"), str):
        raise ValueError("seed external account needs a provider such as oauth_google")
    provider = account["provider"]
    if not re.fullmatch(r"oauth_[a-z]+", provider):
        raise ValueError(f"seed external account provider {provider!r} must look like oauth_x")
    email = str(account.get("email_address") or "")
    account_id, identification_id = clerk_id("eac_"), clerk_id("idn_")
    for identification in emails:
        if email and identification.value.lower() == email.lower():
            identification_id = identification.id
            identification.linked_to.append({"type": provider, "id": account_id})
            identification.verification_strategy = f"from_{provider}"
    verification = {"status": "verified", "strategy": provider, "attempts": None}
    return {
        "object": "external_account",
        "id": account_id,
        "provider": provider,
        "identification_id": identification_id,
        "provider_user_id": str(account.get("provider_user_id") or secrets.token_hex(8)),
        "approved_scopes": str(account.get("approved_scopes") or "email profile openid"),
        "email_address": email,
        "email_address_verified": True,
        **{key: str(account.get(key, user.get(key)) or "") for key in ("first_name", "last_name")},
        **dict.fromkeys(("image_url", "phone_number", "label")),
        "username": account.get("username"),
        "public_metadata": {},
        "created_at": created_at,
        "updated_at": created_at,
        "verification": {"object": "verification_oauth", **verification, "expire_at": created_at},
    }


def seed_users(backend: SeedTarget, item: Any) -> None:
    user = seed_user(_mapping(item, "users"))
    if backend.store.find("clerk_users", "id", user.columns["id"]) is None:
        backend.users.insert_user(user, check_identifiers=False)


def seed_organization(backend: SeedTarget, item: Any) -> None:
    item = _mapping(item, "organizations")
    org_id = str(item.get("id") or "") or None
    if backend.store.one(
        "SELECT 1 FROM clerk_organizations WHERE id = ? OR slug = ?", [org_id, item.get("slug")]
    ):
        return
    # Read-only answer fields are dropped, so a saved GET /v1/organizations page seeds as it
    # is; admin_delete_enabled only an update can set, and a seed states it directly.
    body = {key: value for key, value in item.items() if key not in SEED_READ_ONLY_FIELDS}
    admin_delete = body.pop("admin_delete_enabled", None)
    form = Form(body, CREATE_ORGANIZATION)
    backend.organizations.check(form, None)
    organization_id = backend.organizations.created(form, _stated(item, org_id))
    if admin_delete is not None:
        backend.store.execute(
            "UPDATE clerk_organizations SET admin_delete_enabled = ? WHERE id = ?",
            [bool(admin_delete), organization_id],
        )


def seed_membership(backend: SeedTarget, item: Any) -> None:
    item = _mapping(item, "memberships")
    organization = backend.organizations.find(item.get("organization") or "")
    user_id, store = _text(item, "user_id"), backend.store
    if store.one(
        "SELECT 1 FROM clerk_memberships WHERE organization_id = ? AND user_id = ?",
        [organization["id"], user_id],
    ):
        return
    dangling = bool(item.get("dangling_user"))
    if not dangling and store.find("clerk_users", "id", user_id) is None:
        raise ValueError(
            f"seed membership: no user {user_id!r} (set dangling_user: true to keep a "
            "membership whose user was deleted)"
        )
    body = {"user_id": user_id, "role": _text(item, "role")}
    body.update({key: item[key] for key in ("public_metadata", "private_metadata") if key in item})
    form, stated = Form(body, CREATE_MEMBERSHIP), _stated(item, item.get("id"))
    backend.memberships.add(organization["id"], form, stated, dangling=dangling)


# In order: roles before the memberships that use them, users and organizations before theirs.
SEED_SECTIONS: Final = (
    SeedSection("roles", seed_role),
    SeedSection("users", seed_users),
    SeedSection("organizations", seed_organization),
    SeedSection("memberships", seed_membership),
)
