"""The older Clerk JSON export (from support): one array of user objects.

Its ``email_addresses`` is a pipe-separated string with no primary flag, so the importer has
to guess the primary and says so. Backend-API-shaped user objects (``email_addresses`` and
``phone_numbers`` as lists of objects, ``primary_email_address_id``) are read too: they are what
a script built on ``GET /v1/users`` saves, and they are the only shape that shows an SMS second
factor (``reserved_for_second_factor``). Addresses count as verified unless the object says
otherwise: the old export lists only addresses Clerk accepted for sign-in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from authform.sources.clerk_csv import split_multi_value
from authform.sources.clerk_files import json_export_items
from authform.sources.clerk_profile import MalformedProfile, external_accounts, image_url
from authform.sources.clerk_user_schema import is_api_user, user_schema_problem
from authform.sources.json_array import describe_json_type
from authform.sources.records import (
    MalformedRecord,
    PasswordDigest,
    SensitiveText,
    SourceEmail,
    SourceUser,
    UserRecord,
)


class _Malformed(ValueError):
    """A field of one user object has an unusable type; the message names the field only."""


def read_clerk_json(path: str | os.PathLike[str]) -> Iterator[UserRecord]:
    """Yield each user of a Clerk JSON export, or a ``MalformedRecord`` for a bad item.

    Raises ``SourceError`` (on first iteration) when the file is not a readable JSON array.
    """
    for origin, _, value in json_export_items(path, "user"):
        yield value if isinstance(value, MalformedRecord) else user_from_json(value, origin)


def user_from_json(obj: Any, origin: str) -> UserRecord:
    """Read one user object (old export or Backend API shape)."""
    if not isinstance(obj, Mapping):
        return MalformedRecord(
            "user", origin, f"expected a user object, found {describe_json_type(obj)}"
        )
    user_id = obj.get("id")
    if not isinstance(user_id, str) or not user_id.strip():
        return MalformedRecord("user", origin, "the user object has no id")
    user_id = user_id.strip()
    if is_api_user(obj) and (problem := user_schema_problem(obj)) is not None:
        return MalformedRecord("user", origin, problem, source_id=user_id)
    try:
        emails, primary = _emails(obj)
        phones, sms_second_factor = _phones(obj)
        totp = _optional_text(obj, "totp_secret").strip()
        digest = _optional_text(obj, "password_digest").strip()
        hasher = _optional_text(obj, "password_hasher").strip()
        totp_flag = obj.get("totp_enabled") is True
        user = SourceUser(
            id=user_id,
            origin=origin,
            first_name=_optional_text(obj, "first_name"),
            last_name=_optional_text(obj, "last_name"),
            username=_optional_text(obj, "username").strip(),
            emails=emails,
            primary_email=primary,
            phone_numbers=phones,
            sms_second_factor=sms_second_factor,
            totp_enabled=bool(totp) or totp_flag,
            totp_secret=SensitiveText(totp) if totp else None,
            password=PasswordDigest(hasher, SensitiveText(digest)) if digest else None,
            image_url=image_url(obj),
            external_accounts=external_accounts(obj),
        )
    except (_Malformed, MalformedProfile) as exc:
        return MalformedRecord("user", origin, str(exc), source_id=user_id)
    return user


def _emails(obj: Mapping[str, Any]) -> tuple[tuple[SourceEmail, ...], str | None]:
    listed_unverified = _addresses(obj, "unverified_email_addresses")
    unverified = {a.lower() for a in listed_unverified}
    primary_id = obj.get("primary_email_address_id")
    primary = _optional_text(obj, "primary_email_address").strip() or None
    emails: list[SourceEmail] = []
    for entry in _entries(obj, "email_addresses"):
        if isinstance(entry, str):
            emails.append(SourceEmail(entry, entry.lower() not in unverified))
            continue
        address = entry.get("email_address")
        if not isinstance(address, str) or not address.strip():
            raise _Malformed("an email_addresses entry has no email_address")
        address = address.strip()
        emails.append(SourceEmail(address, _verified(entry) and address.lower() not in unverified))
        if primary_id is not None and entry.get("id") == primary_id:
            primary = address
    for address in listed_unverified:
        if all(e.address.lower() != address.lower() for e in emails):
            emails.append(SourceEmail(address, False))
    return tuple(emails), primary


def _phones(obj: Mapping[str, Any]) -> tuple[tuple[str, ...], bool]:
    phones: list[str] = []
    sms_second_factor = False
    for entry in _entries(obj, "phone_numbers"):
        if isinstance(entry, str):
            phones.append(entry)
            continue
        number = entry.get("phone_number")
        if not isinstance(number, str) or not number.strip():
            raise _Malformed("a phone_numbers entry has no phone_number")
        phones.append(number.strip())
        if entry.get("reserved_for_second_factor") is True:
            sms_second_factor = True
    return tuple(dict.fromkeys(phones)), sms_second_factor


def _entries(obj: Mapping[str, Any], key: str) -> list[str | Mapping[str, Any]]:
    """A multi-value field as a list: a delimited string, a list of strings, or of objects."""
    value = obj.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return list(split_multi_value(value))
    if isinstance(value, list):
        entries: list[str | Mapping[str, Any]] = []
        for entry in value:
            if isinstance(entry, str):
                entries.extend(split_multi_value(entry))
            elif isinstance(entry, Mapping):
                entries.append(entry)
            else:
                raise _Malformed(
                    f"{key} holds {describe_json_type(entry)}, expected strings or objects"
                )
        return entries
    raise _Malformed(f"{key} is {describe_json_type(value)}, expected a string or a list")


def _addresses(obj: Mapping[str, Any], key: str) -> list[str]:
    return [e for e in _entries(obj, key) if isinstance(e, str)]


def _verified(entry: Mapping[str, Any]) -> bool:
    verification = entry.get("verification")
    if isinstance(verification, Mapping):
        status = verification.get("status")
        return status is None or status == "verified"
    return True


def _optional_text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise _Malformed(f"{key} is {describe_json_type(value)}, expected a string")
