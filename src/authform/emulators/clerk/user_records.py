"""Users as the emulator holds them (``NewUser``, from an API body or a seed item) and as the
API answers them (``User``, ``EmailAddress``, ``PhoneNumber`` and the ``public_user_data`` of a
membership), and the CreateUser body as a table of field rules."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ..store import from_json
from .family import clerk_id
from .forms import COUNT, FLAG, OBJECT, TEXT, TEXTS, TIME, Form, Rule, names
from .passwords import PASSWORD_FIELDS, check_password_fields

# What Clerk answers for an account without an uploaded image: an img.clerk.com URL whose
# path is a base64 JSON descriptor ({"type":"default"}).
DEFAULT_IMAGE_URL: Final = "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9"
EMAIL_ADDRESS: Final = Rule(
    "texts",
    pattern=re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    invalid="email_address must be a valid email address.",
)
TOTP_SECRET: Final = Rule(
    pattern=re.compile(r"[A-Za-z2-7]+=*"), invalid="totp_secret must be a base32-encoded secret."
)
USERNAME_LENGTH: Final = (4, 64)
PHONE_NUMBER: Final = Rule(
    "texts",
    pattern=re.compile(r"\+[1-9]\d{6,14}"),
    invalid="phone_number must be a valid phone number in E.164 format.",
)
METADATA: Final = ("public_metadata", "private_metadata", "unsafe_metadata")
# CreateUser's documented body (additionalProperties: false), by the type of its fields.
CREATE_USER: Final = {
    **dict.fromkeys(names("external_id first_name last_name locale username"), TEXT),
    "email_address": EMAIL_ADDRESS,
    "phone_number": PHONE_NUMBER,
    "web3_wallet": Rule("texts", unsupported="The emulator does not support web3 wallets."),
    **dict.fromkeys(
        names("email_address_identification_status phone_number_identification_status"), TEXTS
    ),
    **PASSWORD_FIELDS,
    "totp_secret": TOTP_SECRET,
    "backup_codes": TEXTS,
    **dict.fromkeys(METADATA, OBJECT),
    **dict.fromkeys(
        names(
            "skip_password_requirement delete_self_enabled create_organization_enabled "
            "bypass_client_trust banned locked skip_legal_checks skip_user_requirement"
        ),
        FLAG,
    ),
    "create_organizations_limit": COUNT,
    **dict.fromkeys(("legal_accepted_at", "created_at"), TIME),
}
# CreateUser fields stored as they are, in clerk_users columns of the same name (a field not
# sent takes the column's default: the document's defaults, e.g. delete_self_enabled true).
CREATE_USER_AS_IS: Final = names(
    "external_id username first_name last_name locale password_digest password_hasher totp_secret "
    "create_organizations_limit legal_accepted_at created_at backup_codes banned locked "
    "bypass_client_trust delete_self_enabled create_organization_enabled"
)


@dataclass
class NewIdentification:
    kind: str  # "email_address" | "phone_number"
    value: str
    status: str = "verified"  # "verified" | "unverified" | "reserved"
    reserved_for_second_factor: bool = False
    default_second_factor: bool = False
    verification_strategy: str | None = None
    linked_to: list[dict[str, str]] = field(default_factory=list)
    id: str = field(default_factory=lambda: clerk_id("idn_"))


@dataclass
class NewUser:
    """A user to store, from an API body or a seed item: its clerk_users columns (those not
    given take the table's defaults; JSON ones as values) and its identifications."""

    columns: dict[str, Any]
    emails: list[NewIdentification] = field(default_factory=list)
    phones: list[NewIdentification] = field(default_factory=list)
    primary_email: str | None = None
    primary_phone: str | None = None


def _statuses(form: Form, kind: str, count: int) -> list[str]:
    """``<kind>_identification_status``: one of verified/reserved per identifier sent."""
    name = f"{kind}_identification_status"
    statuses = form[name] or []
    if not statuses:
        return ["verified"] * count
    if len(statuses) != count:
        form.invalid(name, f"{name} must have exactly one item per {kind}.")
    elif any(status not in ("verified", "reserved") for status in statuses):
        form.invalid(name, f"{name} items must be 'verified' or 'reserved'.")
    else:
        return list(statuses)
    return ["verified"] * count


def parse_create_user(form: Form) -> NewUser:
    """A ``POST /v1/users`` body as a ``NewUser``; raises the 422 listing every problem. A
    plaintext password is left for the caller to hash (off the event loop)."""
    identifiers = {}
    for kind in ("email_address", "phone_number"):
        values = [value.strip() for value in form[kind] or []]
        statuses = _statuses(form, kind, len(values))
        identifiers[kind] = [
            NewIdentification(kind, value, status)
            for value, status in zip(values, statuses, strict=True)
        ]
    low, high = USERNAME_LENGTH
    if form["username"] is not None and not low <= len(form["username"]) <= high:
        text = f"Username must be between {low} and {high} characters long."
        form.fail("form_username_invalid_length", "username", "is invalid", text)
    check_password_fields(form)
    form.check()
    emails, phones = identifiers["email_address"], identifiers["phone_number"]
    # "The first email address will be set as the user's primary email address."
    first_email, first_phone = (items[0].value if items else None for items in (emails, phones))
    columns = {"id": clerk_id("user_"), **form.given(*CREATE_USER_AS_IS, *METADATA)}
    return NewUser(columns, emails, phones, first_email, first_phone)


# --------------------------------------------------------------------------- answers

# Fields every User answer carries with the same value here: what the emulator does not model.
USER_CONSTANTS: Final = {
    "object": "user",
    "profile_image_url": DEFAULT_IMAGE_URL,
    "image_url": DEFAULT_IMAGE_URL,
    "has_image": False,
    **dict.fromkeys(
        names(
            "primary_web3_wallet_id mfa_disabled_at lockout_expires_in_seconds "
            "verification_attempts_remaining"
        )
    ),
}
# (answered as empty lists, one new list per answer)
USER_EMPTY_LISTS: Final = names("web3_wallets passkeys saml_accounts enterprise_accounts")
# clerk_users columns a User answer copies as they are, and those it answers as booleans.
USER_ANSWERED_AS_IS: Final = names(
    "id external_id primary_email_address_id primary_phone_number_id username first_name "
    "last_name locale mfa_enabled_at password_last_updated_at last_sign_in_at updated_at "
    "created_at create_organizations_limit last_active_at legal_accepted_at"
)
USER_ANSWERED_AS_FLAGS: Final = names(
    "banned locked delete_self_enabled create_organization_enabled bypass_client_trust"
)


def verification_json(row: sqlite3.Row) -> dict[str, Any] | None:
    """The verification object of an email address or phone number.

    Clerk's answers carry ``object`` (``verification_admin``…) even though the document marks
    it optional: the SDK's union discriminates on it, so without it nothing parses.
    """
    status, strategy = row["status"], row["verification_strategy"]
    if status == "reserved":
        return None
    if status == "verified" and strategy and strategy.startswith("from_oauth_"):
        kind = "from_oauth"
    elif status == "verified":
        kind, strategy = "admin", "admin"
    else:
        kind = "otp"
        strategy = "email_code" if row["kind"] == "email_address" else "phone_code"
    return {
        "object": f"verification_{kind}",
        "status": status,
        "strategy": strategy,
        "attempts": None,
        "expire_at": None,
    }


def identification_json(row: sqlite3.Row) -> dict[str, Any]:
    """An ``EmailAddress`` or a ``PhoneNumber``."""
    answer = {
        "id": row["id"],
        "object": row["kind"],
        row["kind"]: row["value"],
        "reserved": row["status"] == "reserved",
        "verification": verification_json(row),
        "linked_to": from_json(row["linked_to"], []),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if row["kind"] == "phone_number":
        for flag in ("reserved_for_second_factor", "default_second_factor"):
            answer[flag] = bool(row[flag])
        answer["backup_codes"] = None
    return answer


def user_json(row: sqlite3.Row, identifications: Sequence[sqlite3.Row]) -> dict[str, Any]:
    """A ``User`` exactly as the document defines it. The digest, hasher, TOTP secret and
    backup codes stay in the database: the real API has no fields for them."""
    emails = [identification_json(i) for i in identifications if i["kind"] == "email_address"]
    phones = [identification_json(i) for i in identifications if i["kind"] == "phone_number"]
    totp, backup = row["totp_secret"] is not None, row["backup_codes"] is not None
    sms = any(phone["reserved_for_second_factor"] for phone in phones)
    return {
        **USER_CONSTANTS,
        **{name: [] for name in USER_EMPTY_LISTS},
        **{column: row[column] for column in USER_ANSWERED_AS_IS},
        **{column: bool(row[column]) for column in USER_ANSWERED_AS_FLAGS},
        **{column: from_json(row[column], {}) for column in METADATA},
        "email_addresses": emails,
        "phone_numbers": phones,
        "password_enabled": row["password_digest"] is not None,
        "two_factor_enabled": totp or backup or sms,
        "totp_enabled": totp,
        "backup_code_enabled": backup,
        "external_accounts": from_json(row["external_accounts"], []),
    }


def public_user_data(
    user_id: str, user: sqlite3.Row | None, identifiers: Mapping[str, str]
) -> dict[str, Any]:
    """The membership's ``public_user_data``; for a seeded membership whose user no longer
    exists, everything but the id is empty, as Clerk's own exports show such rows."""
    image = {"image_url": DEFAULT_IMAGE_URL, "has_image": False}
    if user is None:
        empty = dict.fromkeys(("first_name", "last_name", "profile_image_url", "username"))
        return {"user_id": user_id, **empty, **image, "identifier": None}
    identifier = (
        identifiers.get(user["primary_email_address_id"] or "")
        or identifiers.get(user["primary_phone_number_id"] or "")
        or user["username"]
    )
    return {
        "user_id": user_id,
        **{key: user[key] for key in ("first_name", "last_name", "username")},
        "profile_image_url": DEFAULT_IMAGE_URL,
        **image,
        "identifier": identifier,
        "banned": bool(user["banned"]),
    }
