"""What only a person can do in Scalekit's dashboard, and what the plan says Scalekit will
not carry: the manual steps of the kinds its API cannot change, and the plan's caveats."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from authform.providers.api_provider import ManualSteps
from authform.providers.dashboard_steps import SocialLoginSteps, dashboard_steps
from authform.providers.desired_directory import DesiredDirectory, KeySample
from authform.resources import Kind, Resource, of_kind

DASHBOARD = "https://app.scalekit.com"

# Scalekit's own limits on organization metadata (API reference, UpdateOrganization).
METADATA_MAX_PAIRS = 10
METADATA_KEY_LENGTH = (3, 25)
METADATA_VALUE_LENGTH = (1, 256)


def plan_caveats(desired: Iterable[Resource], directory: DesiredDirectory) -> list[str]:
    """What Scalekit will not carry, counted before anything is written. Users are counted
    in ``directory`` (the desired users on disk, loaded from ``desired``), the other kinds
    read one kind at a time: nothing here grows with the users."""
    caveats: list[str] = []
    with_hash = directory.users_with_hash()
    if with_hash.total:
        caveats.append(
            f"Scalekit: {with_hash.total} user(s) have a password hash that Scalekit's API "
            "cannot import (Scalekit's Solutions team imports hashes on request): they "
            "are created without a password and need a password reset or another sign-in "
            f"method ({_sample(with_hash)})."
        )
    unverified = directory.unverified_users()
    if unverified:
        caveats.append(
            f"Scalekit: {unverified} user(s) are unverified in the source, but Scalekit "
            "marks users created without an invitation email as verified and no API field "
            "sets it: email_verified is not compared on Scalekit."
        )
    orphans = directory.users_without_membership()
    if orphans.total:
        caveats.append(
            f"Scalekit: {orphans.total} user(s) have no organization membership; Scalekit "
            "creates users only inside an organization, so creating them will fail "
            f"({_sample(orphans)})."
        )
    permissions = list(of_kind(desired, Kind.PERMISSION))
    if permissions:
        caveats.append(
            f"Scalekit: permissions have no display name, so the name of "
            f"{len(permissions)} permission(s) is neither sent nor compared (slug and "
            "description are)."
        )
    pending = KeySample.of(
        f"{r.key}:{d['domain']}"
        for r in of_kind(desired, Kind.ORGANIZATION)
        for d in r.spec.get("domains") or []
        if d.get("state") == "pending"
    )
    if pending.total:
        caveats.append(
            f"Scalekit: {pending.total} domain(s) are declared pending, but domains added "
            "through Scalekit's API are admin-verified (no DNS challenge): they will be "
            f"verified ({_sample(pending)})."
        )
    bad_metadata = KeySample.of(
        (
            r.key
            for r in of_kind(desired, Kind.ORGANIZATION)
            if metadata_problems(r.spec.get("metadata") or {})
        ),
        smallest=True,
    )
    if bad_metadata.total:
        caveats.append(
            f"Scalekit: {bad_metadata.total} organization(s) have metadata Scalekit refuses "
            f"(at most {METADATA_MAX_PAIRS} pairs, keys of 3-25 and values of 1-256 "
            f"characters): their creates or updates will fail ({_sample(bad_metadata)})."
        )
    if any(True for _ in of_kind(desired, Kind.REDIRECT_URI)):
        caveats.append(
            "Scalekit: redirect URLs are set in the dashboard and cannot be listed; each one "
            "the manifest names is checked through the authorization endpoint, and URLs it "
            "does not name are invisible to authform (never deleted)."
        )
    cors = list(of_kind(desired, Kind.CORS_ORIGIN))
    if cors:
        caveats.append(
            f"Scalekit: there is no CORS-origin setting; the {len(cors)} cors_origins entry "
            "(or entries) stay manual steps until removed from the manifest."
        )
    return caveats


def metadata_problems(metadata: Mapping[str, Any]) -> list[str]:
    """Why Scalekit would refuse an organization's metadata (empty when it would not)."""
    problems = []
    if len(metadata) > METADATA_MAX_PAIRS:
        problems.append(f"{len(metadata)} pairs (at most {METADATA_MAX_PAIRS})")
    low_key, high_key = METADATA_KEY_LENGTH
    low_value, high_value = METADATA_VALUE_LENGTH
    for key, value in metadata.items():
        if not low_key <= len(key) <= high_key:
            problems.append(f"key {key!r} is not {low_key}-{high_key} characters")
        if not isinstance(value, str) or not low_value <= len(value) <= high_value:
            problems.append(f"value of {key!r} is not {low_value}-{high_value} characters")
    return problems


def _sample(sample: KeySample) -> str:
    shown = ", ".join(sample.first)
    hidden = sample.total - len(sample.first)
    return shown + (f", … and {hidden} more" if hidden > 0 else "")


# ---- what only a person can do (the ``manual_steps`` table) -----------------------------


SOCIAL_LOGIN = SocialLoginSteps(
    enable="In the Scalekit Dashboard ({dashboard}), open Authentication → Auth Methods → "
    "Social logins and configure {label}.",
    own_client="Use your own OAuth credentials",
    callback="Copy the callback URL Scalekit shows there and add it",
    confirm="it opens the authorization URL with provider={name} and expects a redirect to "
    "{label} carrying that client id",
    disable="In the Scalekit Dashboard, open Authentication → Auth Methods → Social logins "
    "and disable {label}.",
)

# Scalekit has no CORS-origin setting at all: adding and removing one are the same advice.
NO_CORS_SETTING = dashboard_steps(
    "Scalekit has no CORS-origin setting (none in its API, none in its dashboard), so "
    "nothing can be configured for {key}: a browser app there signs users in by redirecting "
    "to Scalekit's hosted login, whose callback belongs under Authentication → Redirects.",
    "Remove cors_origins from a manifest that targets Scalekit; until then this step stays "
    "pending.",
)


def _user_email_steps(desired: Resource, live: Resource) -> list[str]:
    """What to do about a user whose email changed: Scalekit's API cannot change it, and
    authform will not delete and recreate the user to get there."""
    old, new = live.spec.get("email"), desired.spec.get("email")
    return [
        f"Scalekit's API cannot change a user's email address (PATCH /api/v1/users/{{id}} has "
        f"no email field): {desired.address} ({live.provider_id}) is {old}, the source says "
        f"{new}.",
        "authform does not delete and recreate the user to change it: the new user would "
        "get a new id and lose its sessions, second factors, identities and its line in the "
        "id mapping.",
        f"Change the address in the Scalekit Dashboard ({DASHBOARD}, Users → {old}) if your "
        "environment allows it; otherwise, if losing the user's id is acceptable, delete the "
        "user there and run `authform apply` again to create it with the new address.",
        "Until then the user keeps its current address, and its other fields wait with it.",
    ]


MANUAL_STEPS = {
    Kind.SOCIAL_CONNECTION: SOCIAL_LOGIN.manual_steps(dashboard=DASHBOARD),
    Kind.REDIRECT_URI: ManualSteps(
        add=dashboard_steps(
            "In the Scalekit Dashboard ({dashboard}), open Authentication → Redirects and add "
            "{key} to the Allowed Callback URLs (Scalekit's API has no endpoint for redirect "
            "URLs).",
            "Run `authform verify` to confirm: it asks the authorization endpoint to use that "
            "URL and expects it to be accepted.",
            dashboard=DASHBOARD,
        ),
        remove=dashboard_steps(
            "In the Scalekit Dashboard, open Authentication → Redirects and remove {key} from "
            "the Allowed Callback URLs."
        ),
    ),
    Kind.CORS_ORIGIN: ManualSteps(add=NO_CORS_SETTING, remove=NO_CORS_SETTING),
    Kind.USER: ManualSteps(change=_user_email_steps),
}
