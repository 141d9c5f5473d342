"""Before any write: the canary logins `verify` will try must work with what is imported.

A canary of ``verify.password_logins`` whose account comes from the user source with a
bcrypt digest can be checked now, offline, with bcrypt: if its password does not match the
exported digest, the import would go through and ``verify`` would fail afterwards, with
thousands of users already written. The plan refuses instead, naming the canary, before any
request that writes. Canaries whose account is not imported, or whose digest is another
hasher's, are not checked here (``verify`` still signs them in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import bcrypt

from authform.importing.passwords import bcrypt_problem
from authform.resources import Kind, Resource, of_kind


def canary_digest_refusals(
    desired: Iterable[Resource], logins: Sequence[tuple[str, str]]
) -> list[str]:
    """One refusal per canary ``(email, password)`` whose imported bcrypt digest it does not
    match. Never shows the password or the digest."""
    if not logins:
        return []
    wanted = {email.strip().lower() for email, _ in logins}
    users = {
        str(user.spec.get("email", "")).lower(): user
        for user in of_kind(desired, Kind.USER)
        if str(user.spec.get("email", "")).lower() in wanted
    }
    refusals = []
    for email, password in logins:
        user = users.get(email.strip().lower())
        if user is None or user.create_only.get("password_hash_type") != "bcrypt":
            continue
        digest = str(user.create_only.get("password_hash", ""))
        if not _matches(password, digest):
            refusals.append(
                f"verify.password_logins: the password of canary {email} does not match the "
                f"bcrypt digest user {user.key} has in the source, so verify would fail after "
                "the import; set the canary's password variable to that user's password, or "
                "choose another canary"
            )
    return refusals


def _matches(password: str, digest: str) -> bool:
    # A digest bcrypt cannot read matches nothing. Checked first: bcrypt 4.1 panics (an
    # exception no `except Exception` catches) on some malformed digests.
    if bcrypt_problem(digest) is not None:
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), digest.encode("ascii"))
    except ValueError:
        return False
