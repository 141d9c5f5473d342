"""The rows each change writes, encoded for the columns found (see ``codec``).

Pure functions of the desired resource, what the read found (``LiveIndex``) and the codec:
no I/O here, so what a change writes can be read in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from authform.providers.base import ProviderError
from authform.providers.kavachos import statements as sql
from authform.providers.kavachos.codec import Codec
from authform.providers.kavachos.live import (
    AUTHFORM_METADATA,
    CLERK,
    SEED_ROLES,
    LiveIndex,
    OAuthRow,
    Pair,
    display_name,
)
from authform.providers.kavachos.schema import (
    EMAIL_ACCOUNTS,
    OAUTH_ACCOUNTS,
    ORG_MEMBERS,
    ORG_ROLES,
    ORGANIZATIONS,
    USERS,
)
from authform.providers.kavachos.writer import Change
from authform.resources import Resource

# A password digest no password matches: it has no ':' so KavachOS's scrypt check rejects it
# cleanly (INVALID_CREDENTIALS), and the email plugin's reset flow can replace it.
RESET_MARKER = "!password-reset-required"
# KavachOS's organization API accepts only lowercase-hyphen slugs.
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# A flag column's two encoded values, as (false, true).
Flag = tuple[Any, Any]


class Stamped:
    """What the rows of one batch share, encoded once for the columns found: the batch's
    time in each timestamp column's encoding, both values of each flag column, a user's
    metadata when it holds nothing (most users' does) and each role's permissions. An
    import writes hundreds of thousands of rows; encoding these per row (``Codec.put``)
    cost more than building the rows. A table that is not written has None for them."""

    def __init__(self, codec: Codec, now: float) -> None:
        self.codec = codec
        self.now = now
        put = _put_where_written(codec)
        self.user_created = put(USERS, "created_at", now)
        self.user_updated = put(USERS, "updated_at", now)
        self.user_verified: Flag = (
            put(USERS, "email_verified", False),
            put(USERS, "email_verified", True),
        )
        self.user_reset: Flag = (
            put(USERS, "force_password_reset", False),
            put(USERS, "force_password_reset", True),
        )
        self.empty_user_metadata = put(USERS, "metadata", {})
        self.has_email_accounts = codec.has_table(EMAIL_ACCOUNTS)
        self.email_created = put(EMAIL_ACCOUNTS, "created_at", now)
        self.email_updated = put(EMAIL_ACCOUNTS, "updated_at", now)
        self.email_verified: Flag = (
            put(EMAIL_ACCOUNTS, "email_verified", False),
            put(EMAIL_ACCOUNTS, "email_verified", True),
        )
        self.oauth_created = put(OAUTH_ACCOUNTS, "created_at", now)
        self.oauth_updated = put(OAUTH_ACCOUNTS, "updated_at", now)
        self.organization_created = put(ORGANIZATIONS, "created_at", now)
        self.organization_updated = put(ORGANIZATIONS, "updated_at", now)
        self.member_joined = put(ORG_MEMBERS, "joined_at", now)
        self._permissions: dict[tuple[str, ...], Any] = {}

    def permissions(self, permissions: Sequence[str]) -> Any:
        """A role row's ``permissions`` (sorted), encoded once per set in a batch."""
        key = tuple(permissions)
        encoded = self._permissions.get(key)
        if encoded is None:
            encoded = self._permissions[key] = self.codec.put(
                ORG_ROLES, "permissions", sorted(permissions)
            )
        return encoded


def _put_where_written(codec: Codec) -> Any:
    """``codec.put``, giving None for a table the codec does not write."""

    def put(table: str, column: str, value: Any) -> Any:
        return codec.put(table, column, value) if codec.has_table(table) else None

    return put


def _flag(pair: Flag, value: Any) -> Any:
    """``value`` in a flag column whose encoded values are ``pair`` (as ``Codec.put``:
    None stays None, anything else counts as true or false)."""
    return None if value is None else pair[1] if value else pair[0]


def user_writes(
    change: Change,
    desired: Resource,
    live: Resource | None,
    stamped: Stamped,
    links: Mapping[Pair, Sequence[OAuthRow]],
    *,
    reset_passwords: bool,
) -> str:
    """The user's row with its password row and OAuth links; returns its KavachOS id.

    A new user (``live`` None) is keyed by its Clerk id, as the reference's guide asks; an
    existing one is updated in place, profile fields only (also how an unkeyed user is
    adopted: it gets our key), keeping the metadata keys the application added (the read
    left them in ``observed``). A password row is written only where none is: KavachOS may
    have rehashed it since. ``links`` holds the rows of the links the user names."""
    user_id = desired.key if live is None else live.provider_id
    assert user_id is not None
    observed = live.observed if live is not None else {}
    spec = desired.spec
    digest = desired.create_only.get("password_hash")
    verified = spec["email_verified"]
    current = observed.get("metadata")
    if not current and not spec.get("image_url"):
        metadata = stamped.empty_user_metadata  # nothing to keep, no image: most users
    else:
        metadata = stamped.codec.put(USERS, "metadata", _user_metadata(spec, current))
    profile = (
        spec["email"],
        display_name(spec["first_name"], spec["last_name"]),
        desired.key,
        CLERK,
        metadata,
        _flag(stamped.user_verified, verified),
    )
    if live is None:
        reset = _flag(stamped.user_reset, bool(digest) and reset_passwords)
        stamps = (stamped.user_created, stamped.user_updated)
        change.add(sql.INSERT_USER, (user_id, *profile, reset, *stamps))
    else:
        change.add(sql.UPDATE_USER, (*profile, stamped.user_updated, user_id))
    if stamped.has_email_accounts:
        if observed.get("password_row"):
            change.add(
                sql.UPDATE_EMAIL_VERIFIED,
                (_flag(stamped.email_verified, verified), stamped.email_updated, user_id),
            )
        elif digest:
            marker = RESET_MARKER if reset_passwords else str(digest)
            _password_row(change, user_id, marker, verified, stamped)
    if spec.get("oauth_accounts"):
        _oauth_links(change, user_id, spec, stamped, links)
    return user_id


def named_links(user: Resource) -> list[Pair]:
    """The (provider, account) pairs of the links a desired user names."""
    return [
        (link["provider"], link["provider_account_id"])
        for link in user.spec.get("oauth_accounts", [])
    ]


def _user_metadata(spec: Mapping[str, Any], current: Any) -> dict[str, Any]:
    """The row's metadata with the image URL set (KavachOS has no image column); keys the
    application keeps there are left as they are."""
    metadata = dict(current) if isinstance(current, dict) else {}
    if spec.get("image_url"):
        metadata["image_url"] = spec["image_url"]
    else:
        metadata.pop("image_url", None)
    return metadata


def _password_row(
    change: Change, user_id: str, digest: str, verified: Any, stamped: Stamped
) -> None:
    change.add(
        sql.INSERT_EMAIL_ACCOUNT,
        (
            sql.derived_id("eml", user_id),
            user_id,
            digest,
            # The email plugin refuses unverified sign-ins by default (requireVerification).
            _flag(stamped.email_verified, verified),
            stamped.email_created,
            stamped.email_updated,
        ),
    )


def _oauth_links(
    change: Change,
    user_id: str,
    spec: Mapping[str, Any],
    stamped: Stamped,
    links: Mapping[Pair, Sequence[OAuthRow]],
) -> None:
    """Each named link exactly once: missing ones inserted, extra copies removed. A link that
    already belongs to another user is refused: KavachOS would sign whichever it finds first
    into that account."""
    for link in spec.get("oauth_accounts", []):
        pair = (link["provider"], link["provider_account_id"])
        rows = links.get(pair, [])
        others = sorted({r.user_id for r in rows if r.user_id != user_id})
        if others:
            raise ProviderError(
                f"the {pair[0]} account {pair[1]} is already linked to KavachOS user "
                f"{others[0]}; unlink it there (kavach_oauth_accounts) or drop it from the source"
            )
        mine = [r for r in rows if r.user_id == user_id]
        for extra in mine[1:]:
            change.add(sql.DELETE_OAUTH_ROW, [extra.id])
        if not mine:
            change.add(
                sql.INSERT_OAUTH,
                [
                    sql.derived_id("oac", pair[0], pair[1]),
                    user_id,
                    pair[0],
                    pair[1],
                    "",  # access_token is NOT NULL and Clerk exports no tokens
                    stamped.oauth_created,
                    stamped.oauth_updated,
                ],
            )


def organization_metadata(key: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's metadata plus authform's key and the domains (KavachOS has no domain
    column; they are kept here so ``verify`` and ``drift`` can read them back)."""
    return {
        **dict(spec["metadata"]),
        AUTHFORM_METADATA: {"key": key, "domains": [dict(d) for d in spec["domains"]]},
    }


def slug_for(key: str, spec: Mapping[str, Any], index: LiveIndex, org_id: str) -> str:
    """A slug KavachOS accepts, unique in the table: Clerk's slug when there was one, else
    the key or name made lowercase-hyphen; on a clash, a suffix derived from the key."""
    metadata = spec.get("metadata") or {}
    base = _slugify(str(metadata.get("clerk_slug") or "")) or _slugify(key)
    base = base or _slugify(str(spec.get("name", ""))) or "org"
    holder = index.slugs.get(base)
    if holder is None or holder == org_id:
        return base
    return f"{base}-{sql.derived_id('s', key)[2:10]}"


def _slugify(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def organization_writes(
    change: Change,
    desired: Resource,
    owner_id: str,
    roles: Mapping[str, Sequence[str]],
    stamped: Stamped,
    index: LiveIndex,
) -> str:
    org_id = desired.key
    slug = slug_for(desired.key, desired.spec, index, org_id)
    index.slugs[slug] = org_id
    metadata = organization_metadata(desired.key, desired.spec)
    change.add(
        sql.UPSERT_ORG,
        (
            org_id,
            desired.spec["name"],
            slug,
            owner_id,
            stamped.codec.put(ORGANIZATIONS, "metadata", metadata),
            stamped.organization_created,
            stamped.organization_updated,
        ),
    )
    # KavachOS's addMember refuses a role without a row in the organization: the four seeds
    # ``org.create`` makes, then the manifest's roles (which win over a seed of the same name).
    for name, permissions in SEED_ROLES.items():
        if name not in roles:
            change.add(
                sql.INSERT_SEED_ROLE,
                (
                    sql.derived_id("rol", org_id, name),
                    org_id,
                    name,
                    stamped.permissions(permissions),
                ),
            )
    for name, granted in roles.items():
        role_row_writes(change, org_id, name, granted, stamped, index)
    return org_id


def organization_update_writes(
    change: Change, live: Resource, desired: Resource, stamped: Stamped
) -> str:
    assert live.provider_id is not None
    metadata = organization_metadata(desired.key, desired.spec)
    change.add(
        sql.UPDATE_ORG,
        (
            desired.spec["name"],
            stamped.codec.put(ORGANIZATIONS, "metadata", metadata),
            stamped.organization_updated,
            live.provider_id,
        ),
    )
    return live.provider_id


def role_row_writes(
    change: Change,
    org_id: str,
    name: str,
    permissions: Sequence[str],
    stamped: Stamped,
    index: LiveIndex,
) -> None:
    row_id = index.role_rows.get((org_id, name)) or sql.derived_id("rol", org_id, name)
    change.add(sql.UPSERT_ROLE, (row_id, org_id, name, stamped.permissions(permissions)))


def membership_writes(
    change: Change,
    org_id: str,
    user_id: str,
    role: str,
    stamped: Stamped,
    index: LiveIndex,
) -> str:
    existing = index.member_rows.get((org_id, user_id))
    if existing is not None:
        change.add(sql.UPDATE_MEMBER_ROLE, (role, existing))
        return existing
    member_id = sql.derived_id("mem", org_id, user_id)
    change.add(sql.UPSERT_MEMBER, (member_id, org_id, user_id, role, stamped.member_joined))
    return member_id


def user_delete_writes(change: Change, user_id: str, codec: Codec) -> None:
    """The user and the rows authform writes for it. Sessions and owned organizations are
    KavachOS's and block the delete (its foreign keys say so) rather than being removed."""
    change.add(sql.DELETE_USER_MEMBERSHIPS, [user_id])
    change.add(sql.DELETE_USER_OAUTH, [user_id])
    if codec.has_table(EMAIL_ACCOUNTS):
        change.add(sql.DELETE_USER_EMAIL, [user_id])
    change.add(sql.DELETE_USER, [user_id])


def organization_delete_writes(change: Change, org_id: str) -> None:
    change.add(sql.DELETE_ORG_MEMBERS, [org_id])
    change.add(sql.DELETE_ORG_ROLES, [org_id])
    change.add(sql.DELETE_ORG, [org_id])
