"""The users' fast lane: a block of the plainest users (``CleanUsers``) judged at once.

A block imports whole when every user in it would import with nothing to report: its one
address is usable as it is (the check ``email_problem`` makes first, over the whole column
in one match) and its digest, where there is one, is a well-formed bcrypt digest, which every
target takes. Each user is then exactly what ``users._convert`` makes of it (one address,
verified and primary, whatever the email policy; no caveat, no re-enroll notice), so its
index row is built here from the columns. Anything else sends the block's records down the
exact path, which reports each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from authform.engine.codec import create_only_state, dump_imported_states
from authform.engine.index import canonical_texts
from authform.importing.emails import PLAIN_ADDRESS
from authform.importing.passwords import BCRYPT_WELL_FORMED, accepted_hashers
from authform.provenance import display_path
from authform.resources import Kind
from authform.sources.records import BcryptHash, CleanUsers
from authform.sources.screening import each_fullmatches

# ``email_problem``'s quick acceptance, and a bcrypt digest ``bcrypt_problem`` finds nothing
# wrong with, each for a run of values joined by newlines.
_ADDRESSES = re.compile(f"(?:(?:{PLAIN_ADDRESS.pattern})\\n)*(?:{PLAIN_ADDRESS.pattern})")
_DIGESTS = re.compile(f"(?:(?:{BCRYPT_WELL_FORMED.pattern})\\n)*(?:{BCRYPT_WELL_FORMED.pattern})")
_MAX_ADDRESS = 254


@dataclass(slots=True)
class PlainUsers:
    """A block's users as the index rows they import as (keys, canonical specs, stored
    states), with each chosen address and whether a digest goes with it."""

    keys: tuple[str, ...]
    specs_json: list[str]
    states: list[bytes]
    emails: list[str]
    with_password: list[bool]


def plain_users(block: CleanUsers, target: str) -> PlainUsers | None:
    """The block's users as they import, or None when any of them would not import as is
    (an address ``email_problem`` does not accept at once, a digest not of bcrypt's form
    with a cost of 04-31, a hasher cell not ``bcrypt``)."""
    if max(map(len, block.emails)) > _MAX_ADDRESS:
        return None
    emails = "\n".join(block.emails).lower().split("\n")  # ASCII: lowered as each alone
    if not each_fullmatches(_ADDRESSES, emails):
        return None
    digests = block.digests
    with_password = [bool(digest) for digest in digests]
    if any(with_password):
        if "bcrypt" not in accepted_hashers(target):
            return None
        present = [digest for digest in digests if digest]
        hashers = {hasher for hasher, has in zip(block.hashers, with_password, strict=True) if has}
        if hashers != {"bcrypt"} or not each_fullmatches(_DIGESTS, present):
            return None
    file = display_path(block.file)
    names = zip(emails, block.first_names, block.last_names, strict=True)
    if target == "kavachos":
        # ``users.kavachos_profile`` of a CSV user: no image, no OAuth link.
        specs: list[dict[str, Any]] = [
            {
                "email": email,
                "first_name": first,
                "last_name": last,
                "email_verified": True,
                "image_url": "",
                "oauth_accounts": [],
            }
            for email, first, last in names
        ]
        spec_json = _KAVACHOS_SPEC_JSON
    else:
        specs = [
            {"email": email, "first_name": first, "last_name": last, "email_verified": True}
            for email, first, last in names
        ]
        spec_json = _SPEC_JSON
    (hash_name, hash_class, _), hash_type = _BCRYPT_CREATE_ONLY
    states = dump_imported_states(
        Kind.USER,
        block.ids,
        specs,
        [{"file": file, "row": line} for line in block.lines],
        [((hash_name, hash_class, digest), hash_type) if digest else {} for digest in digests],
    )
    return PlainUsers(
        block.ids,
        list(spec_json.of_columns(emails, block.first_names, block.last_names)),
        states,
        emails,
        with_password,
    )


# The canonical JSON of a plain user's spec, from its address and names (see ``_convert``).
_SPEC_JSON = canonical_texts("email", "first_name", "last_name", constants={"email_verified": True})
_KAVACHOS_SPEC_JSON = canonical_texts(
    "email",
    "first_name",
    "last_name",
    constants={"email_verified": True, "image_url": "", "oauth_accounts": []},
)
# A bcrypt digest's ``create_only`` as stored, its digest left to fill in.
_BCRYPT_CREATE_ONLY = create_only_state(
    {"password_hash": BcryptHash("-"), "password_hash_type": "bcrypt"}
)
