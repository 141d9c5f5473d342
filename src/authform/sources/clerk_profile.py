"""The parts of a Clerk user object beyond identity: profile image and OAuth links.

Shared by the JSON export reader and the Backend API source, which carry the same
``image_url`` and ``external_accounts`` shapes (the dashboard CSV export has neither).
Values are checked for type and trimmed only; what a target does with them (KavachOS strips
Clerk's ``oauth_`` prefix) is the importer's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authform.sources.json_array import describe_json_type
from authform.sources.records import ExternalAccount


class MalformedProfile(ValueError):
    """A profile field has an unusable type; the message names the field, never a value."""


def image_url(obj: Mapping[str, Any]) -> str:
    """Clerk's ``image_url`` (or the older ``profile_image_url``), "" when absent."""
    for key in ("image_url", "profile_image_url"):
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise MalformedProfile(f"{key} is {describe_json_type(value)}, expected a string")
        if value.strip():
            return value.strip()
    return ""


def external_accounts(obj: Mapping[str, Any]) -> tuple[ExternalAccount, ...]:
    """Each OAuth link once, in source order; an entry without both names is malformed."""
    value = obj.get("external_accounts")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedProfile(f"external_accounts is {describe_json_type(value)}, expected a list")
    accounts: dict[tuple[str, str], ExternalAccount] = {}
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise MalformedProfile(
                f"external_accounts[{index}] is {describe_json_type(entry)}, expected an object"
            )
        provider = entry.get("provider")
        account_id = entry.get("provider_user_id")
        if not isinstance(provider, str) or not provider.strip():
            raise MalformedProfile(f"external_accounts[{index}] has no provider")
        if not isinstance(account_id, str | int) or not str(account_id).strip():
            raise MalformedProfile(f"external_accounts[{index}] has no provider_user_id")
        account = ExternalAccount(provider.strip(), str(account_id).strip())
        accounts.setdefault((account.provider, account.provider_user_id), account)
    return tuple(accounts.values())
