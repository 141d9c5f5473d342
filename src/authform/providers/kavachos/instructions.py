"""What KavachOS keeps in code, as steps a person takes, and what the plan must say up front.

KavachOS has no table for redirect URIs, allowed origins or social connections: they live in
the application's ``createKavach({...})`` call. The plan shows each as a manual step with the
configuration to write. API names follow KavachOS 0.2.1 as its code has them (the migration
guide's ``kavachos/plugins``, ``emailAndPassword`` and ``verifyLegacyHash`` do not exist):
``oauth`` and ``organization`` come from ``kavachos/auth``, ``oauth`` takes a map from provider
id to provider instance, and its callback path is ``/auth/oauth/callback/<provider>``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from authform.providers.kavachos.desired import DesiredFacts
from authform.providers.kavachos.live import SEED_ROLES
from authform.resources import Kind, Resource
from authform.social import SOCIAL_PROVIDERS

CONFIG_FILE = "the file that calls createKavach (e.g. lib/kavach.ts)"


# The settings KavachOS keeps in the application, not in a table: the step for one item
# ({item}), to add or remove ({verb}).
KEPT_IN_CODE: dict[Kind, tuple[str, ...]] = {
    Kind.REDIRECT_URI: (
        "KavachOS has no redirect-URI table: {verb} {item} in the list of post-sign-in "
        f"redirects your application checks ({CONFIG_FILE} and the route handler that "
        "redirects after sign-in).",
        "Also {verb} it in each OAuth provider's console if it is an OAuth callback.",
    ),
    Kind.CORS_ORIGIN: (
        "KavachOS has no CORS table: {verb} {item} in the allowed origins of the server that "
        f"mounts KavachOS's route handler (next to {CONFIG_FILE}), e.g. the `origin` list of "
        "your CORS middleware.",
    ),
}


def manual_instructions(desired: Resource | None, live: Resource | None) -> list[str]:
    resource = desired or live
    assert resource is not None
    removing = desired is None
    if resource.kind is Kind.SOCIAL_CONNECTION:
        social = SOCIAL_PROVIDERS.get(resource.key)
        label = social.label if social else resource.key
        if removing:
            return [f"In {CONFIG_FILE}, remove `{resource.key}` from oauth({{ providers }})."]
        client_id = resource.spec.get("client_id", "")
        factory = f"create{resource.key[:1].upper()}{resource.key[1:]}Provider"
        return [
            f"KavachOS configures {label} sign-in in code, not in its database. In {CONFIG_FILE}:",
            "  import { oauth } from 'kavachos/auth';",
            "  createKavach({ ..., plugins: [oauth({ providers: {",
            f"    {resource.key}: {factory}({{ clientId: '{client_id}', "
            f"clientSecret: process.env.{resource.key.upper()}_CLIENT_SECRET! }}),",
            "  } })] })",
            f"In the {label} OAuth app whose client id is {client_id}, allow the callback "
            f"<your baseUrl>/auth/oauth/callback/{resource.key}.",
            "Users' existing links were imported into kavach_oauth_accounts under the id "
            f"'{resource.key}', so the first sign-in finds them.",
        ]
    kept_in_code = KEPT_IN_CODE.get(resource.kind)
    if kept_in_code is not None:
        return [
            line.format(item=resource.key, verb=("remove" if removing else "add"))
            for line in kept_in_code
        ]
    return [f"Change {resource.address} in your KavachOS application by hand."]


# What happens to those digests, per target.legacy_passwords (reset: True).
LEGACY_PASSWORDS = {
    False: "target.legacy_passwords is keep: your application must verify bcrypt once and "
    "rehash into KavachOS's format before signing in (the check is in the README); set it to "
    "reset to mark them for a password reset instead.",
    True: "target.legacy_passwords is reset: the digests are not written; those users are "
    "marked force_password_reset and must reset their password through the email plugin's "
    "reset flow.",
}


def plan_caveats(
    desired: DesiredFacts, *, reset_passwords: bool, postgres_native_types: bool
) -> list[str]:
    """Facts a reviewer needs before any write (see ``KavachOSProvider.plan_caveats``)."""
    notes: list[str] = []
    if digests := desired.password_digests:
        notes.append(
            f"KavachOS: {digests} user(s) {'have' if reset_passwords else 'keep'} a bcrypt "
            "digest that KavachOS alone will not "
            "accept (its email sign-in verifies only its own scrypt format and has no "
            "legacy-hash hook). " + LEGACY_PASSWORDS[reset_passwords]
        )
    if desired.permissions:
        notes.append(
            f"KavachOS: {len(desired.permissions)} permission(s) have no table of their own: "
            "they are written as strings in each organization's role rows (kavach_org_roles); "
            "names and descriptions are not stored."
        )
    roles = list(desired.roles.values())
    if roles:
        notes.append(
            "KavachOS: roles are rows per organization (kavach_org_roles), beside the four "
            "KavachOS seeds (owner, admin, member, viewer); role names and descriptions are "
            "not stored."
        )
        for role in roles:
            if role.key in SEED_ROLES and sorted(SEED_ROLES[role.key]) != list(
                role.spec["permissions"]
            ):
                seeded = ", ".join(SEED_ROLES[role.key]) or "none"
                notes.append(
                    f"KavachOS: role {role.key} replaces KavachOS's seeded {role.key} "
                    f"permissions ({seeded}) in every organization; list them in the "
                    "manifest to keep them."
                )
    if desired.domains:
        notes.append(
            f"KavachOS: organizations have no domains; the {desired.domains} domain(s) are "
            "kept in each organization's metadata.authform.domains, which KavachOS does not "
            "act on."
        )
    notes += _role_coverage(desired.membership_roles, set(desired.roles))
    if postgres_native_types:
        notes.append(
            "KavachOS: this PostgreSQL database has KavachOS 0.2.1's own column types "
            "(TIMESTAMPTZ, BOOLEAN, JSONB), written as such; KavachOS 0.2.1's runtime "
            "cannot sign users in against them (it sends integer timestamps). Its "
            "SQLite-flavoured tables (INTEGER/TEXT) are the setup it runs on."
        )
    return notes


def _role_coverage(membership_roles: Counter[str], manifest_roles: set[str]) -> list[str]:
    """Memberships whose role will have no row in the organization: KavachOS's
    ``addMember``/``hasPermission`` would not know it."""
    known = manifest_roles | set(SEED_ROLES)
    return [
        f"KavachOS: {count} membership(s) have role {role!r}, which no organization has a "
        "role row for; add it under `roles` (or map it in users.role_map)."
        for role, count in sorted(membership_roles.items())
        if role not in known
    ]


def owner_caveat(unowned: Sequence[str]) -> list[str]:
    if not unowned:
        return []
    shown = ", ".join(unowned[:5]) + (f" and {len(unowned) - 5} more" if len(unowned) > 5 else "")
    return [
        f"KavachOS: {len(unowned)} organization(s) have no member to own them ({shown}); "
        "KavachOS requires an owner (kavach_organizations.owner_id) and authform will not "
        "pick one, so apply leaves each as a manual step (nothing written for it): give "
        "it a member in the user source, or create it in your app with "
        "kavach.org.create({ name, slug, ownerId })."
    ]


def ownerless_organization_steps(key: str, name: str, slug: str) -> list[str]:
    """What a person does for an organization KavachOS cannot hold without an owner."""
    return [
        f"KavachOS requires an owner for every organization, and {key} has no member in the "
        "user source to be it. Either give it a member there and run apply again, or create "
        "it in your application, ownerId being the KavachOS user id of who should own it:",
        f"  await kavach.org.create({{ name: {json.dumps(name)}, slug: {json.dumps(slug)}, "
        "ownerId });",
        "An organization created that way has no authform key: the next plan adopts it by name.",
    ]
