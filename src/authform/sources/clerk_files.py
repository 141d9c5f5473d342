"""Organizations and memberships saved from Clerk's Backend API, one JSON array per file.

Each item is the API's own object (``GET /v1/organizations``, ``GET /v1/organization_memberships``)
so a plain ``jq '.data'`` of the responses is a valid input. Memberships also accept the flat
``{user_id, organization_id, role}`` rows that hand-written export scripts produce. A file whose
first item is the other kind of object (the two files swapped in the manifest) is refused
outright rather than reported as hundreds of bad records.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from authform.sources.errors import SourceError, open_source_text
from authform.sources.json_array import (
    DEFAULT_BLOCK_CHARS,
    ArrayItem,
    ItemBlock,
    describe_json_type,
    iter_json_array,
    iter_json_array_blocks,
)
from authform.sources.records import (
    CleanMemberships,
    MalformedRecord,
    MembershipEntry,
    MembershipRecord,
    OrganizationRecord,
    RecordKind,
    RecordOrigin,
    SourceMembership,
    SourceOrganization,
    row_origin,
)
from authform.sources.screening import memberships_clear

T = TypeVar("T")


def read_clerk_organizations(path: str | os.PathLike[str]) -> Iterator[OrganizationRecord]:
    """Yield each organization, or a ``MalformedRecord`` for a bad item."""
    return _read(path, "organization", "organization", organization_from_json)


def read_clerk_memberships(path: str | os.PathLike[str]) -> Iterator[MembershipRecord]:
    """Yield each membership, or a ``MalformedRecord`` for a bad item."""
    return _read(path, "membership", "organization_membership", membership_from_json)


def read_clerk_membership_blocks(
    path: str | os.PathLike[str], *, block_chars: int = DEFAULT_BLOCK_CHARS
) -> Iterator[MembershipEntry]:
    """``read_clerk_memberships``, with each run of clean memberships of the API's plain
    shape (nearly all of an export) given as one ``CleanMemberships`` block: the fast lane.
    A block holding anything else (another shape, a flat row, a value the screen refuses)
    is yielded as its records, one by one, exactly as ``read_clerk_memberships`` reads
    them."""
    name, file = Path(path).name, str(path)

    def record(item: ArrayItem) -> MembershipRecord:
        return _item_record(item, path, name, file, "membership", _MEMBERSHIP, membership_from_json)

    with open_source_text(path) as fp:
        for entry in iter_json_array_blocks(fp, file, block_chars=block_chars):
            if isinstance(entry, ArrayItem):
                yield record(entry)
                continue
            block = entry

            def records(block: ItemBlock = block) -> Iterator[MembershipRecord]:
                return map(record, block.items(file))

            clean = _clean_memberships(block, file, records)
            if clean is None:
                yield from records()
            else:
                yield clean


_MEMBERSHIP = "organization_membership"


def _clean_memberships(
    block: ItemBlock, file: str, records: Callable[[], Iterator[MembershipRecord]]
) -> CleanMemberships | None:
    """The block as columns when every item is an object of the API's plain shape whose
    membership ``_plain_membership`` reads as is (its texts need no trimming) and the screen
    clears (``memberships_clear``); else None."""
    values = block.values
    try:
        objects = {value["object"] for value in values}
        users = [value["public_user_data"]["user_id"] for value in values]
        organizations = [value["organization"]["id"] for value in values]
        roles = [value["role"] for value in values]
        ids = [value["id"] for value in values]
        distinct_roles = set(roles)
    except (KeyError, TypeError, IndexError):
        return None  # an item of another shape (a flat row, a list, a missing field)
    if (
        objects != {_MEMBERSHIP}
        or not all(type(role) is str and role and role == role.strip() for role in distinct_roles)
        or not memberships_clear(users, organizations, ids, distinct_roles)
    ):
        return None
    return CleanMemberships(file, block.first, users, organizations, roles, records)


def _read(
    path: str | os.PathLike[str],
    kind: RecordKind,
    expected: str,
    parse: Callable[[Any, str], T],
) -> Iterator[T | MalformedRecord]:
    """Each item of the export's JSON array, read by ``parse``; a file whose first item is
    another kind of object (``expected`` is Clerk's ``object`` name) is refused whole."""
    name, file = Path(path).name, str(path)
    with open_source_text(path) as fp:
        for item in iter_json_array(fp, file):
            yield _item_record(item, path, name, file, kind, expected, parse)


def _item_record(
    item: ArrayItem,
    path: str | os.PathLike[str],
    name: str,
    file: str,
    kind: RecordKind,
    expected: str,
    parse: Callable[[Any, str], T],
) -> T | MalformedRecord:
    """One item of an export's array as ``_read`` reads it (``name`` is the file's name,
    ``file`` its path as given)."""
    origin = row_origin(f"{name}:item {item.number} (line {item.line})", file, item.number)
    if item.error is not None:
        return MalformedRecord(kind, origin, item.error)
    if item.number == 1:
        _refuse_swapped_file(path, item.value, expected)
    return parse(item.value, origin)


def clerk_object(
    obj: Any, kind: RecordKind, expected: str, origin: str
) -> tuple[Mapping[str, Any], str] | MalformedRecord:
    """``obj`` as one Clerk object of type ``expected`` (its ``object`` field, when present)
    with its id, or the ``MalformedRecord`` that says why it is not one."""
    if not isinstance(obj, Mapping):
        return _malformed(kind, origin, f"expected an object, found {describe_json_type(obj)}")
    object_id = text_field(obj.get("id"))
    if not object_id:
        return _malformed(kind, origin, f"the {kind} object has no id")
    if (problem := _wrong_object(obj, expected)) is not None:
        return _malformed(kind, origin, problem, object_id)
    return obj, object_id


def organization_from_json(obj: Any, origin: str) -> OrganizationRecord:
    """Read one Backend API ``organization`` object."""
    identified = clerk_object(obj, "organization", "organization", origin)
    if isinstance(identified, MalformedRecord):
        return identified
    obj, org_id = identified
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        return _malformed("organization", origin, "the organization has no name", org_id)
    metadata = obj.get("public_metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        return _malformed(
            "organization",
            origin,
            f"public_metadata is {describe_json_type(metadata)}, expected an object",
            org_id,
        )
    return SourceOrganization(
        id=org_id,
        origin=origin,
        name=name,
        slug=text_field(obj.get("slug")) or None,
        public_metadata=dict(metadata),
    )


def membership_from_json(obj: Any, origin: str) -> MembershipRecord:
    """Read one ``organization_membership`` object, or a flat ``{user_id, organization_id}`` row.

    (A decoded JSON object is a ``dict``: each ``type(...) is dict`` test spares the slower
    ``Mapping`` check, and an export has two memberships for every user.)"""
    if type(obj) is dict:
        plain = _plain_membership(obj, origin)
        if plain is not None:
            return plain
    elif not isinstance(obj, Mapping):
        return _malformed(
            "membership", origin, f"expected an object, found {describe_json_type(obj)}"
        )
    organization = obj.get("organization")
    org_id = (
        text_field(organization.get("id"))
        if type(organization) is dict or isinstance(organization, Mapping)
        else ""
    )
    org_id = org_id or text_field(obj.get("organization_id")) or text_field(obj.get("org_id"))
    user_data = obj.get("public_user_data")
    user_id = (
        text_field(user_data.get("user_id"))
        if type(user_data) is dict or isinstance(user_data, Mapping)
        else ""
    )
    user_id = user_id or text_field(obj.get("user_id"))
    source_id = f"{user_id}@{org_id}" if user_id and org_id else None
    if (problem := _wrong_object(obj, "organization_membership")) is not None:
        return _malformed("membership", origin, problem, source_id)
    if not org_id:
        return _malformed("membership", origin, "the membership names no organization id")
    if not user_id:
        return _malformed("membership", origin, "the membership names no user id")
    role = text_field(obj.get("role"))
    if not role:
        return _malformed("membership", origin, "the membership has no role", source_id)
    return SourceMembership(
        user_id=user_id,
        organization_id=org_id,
        role=role,
        origin=origin,
        id=text_field(obj.get("id")),
    )


def _plain_membership(obj: dict[str, Any], origin: str) -> SourceMembership | None:
    """The membership of an object of the API's own shape (what nearly every item of an
    export is), read without the fallbacks; None sends anything else (a flat row, a missing
    or non-text field) to ``membership_from_json``'s full reading, which decides exactly as
    it would have for this object too."""
    organization = obj.get("organization")
    user_data = obj.get("public_user_data")
    if type(organization) is not dict or type(user_data) is not dict:
        return None
    org_id, user_id = organization.get("id"), user_data.get("user_id")
    role, item_id = obj.get("role"), obj.get("id")
    if (
        type(org_id) is not str
        or type(user_id) is not str
        or type(role) is not str
        or type(item_id) is not str
        or obj.get("object") != "organization_membership"
    ):
        return None
    org_id, user_id, role = org_id.strip(), user_id.strip(), role.strip()
    if not (org_id and user_id and role):
        return None
    return SourceMembership(user_id, org_id, role, origin, item_id.strip())


def json_export_items(
    path: str | os.PathLike[str], kind: RecordKind
) -> Iterator[tuple[RecordOrigin, int, Any | MalformedRecord]]:
    """(origin, 1-based index, value) of each item of a JSON export's array, the value a
    ``MalformedRecord`` of ``kind`` where the item cannot be read. Raises ``SourceError`` (on
    first iteration) when the file is not a readable JSON array."""
    name, file = Path(path).name, str(path)
    with open_source_text(path) as fp:
        for index, line, value, error in iter_json_array(fp, file):
            origin = row_origin(f"{name}:item {index} (line {line})", file, index)
            if error is not None:
                yield origin, index, MalformedRecord(kind, origin, error)
            else:
                yield origin, index, value


def _refuse_swapped_file(path: str | os.PathLike[str], value: Any, expected: str) -> None:
    """Refuse the file whose first item (``value``) is another kind of Clerk object."""
    if not isinstance(value, Mapping):
        return
    found = value.get("object")
    if isinstance(found, str) and found != expected:
        raise SourceError(
            f"{path}: holds {found[:40]!r} objects, expected {expected!r} "
            "(are the organizations and memberships files swapped?)",
            path=path,
        )


def _wrong_object(obj: Mapping[str, Any], expected: str) -> str | None:
    found = obj.get("object")
    if found is None or found == expected:
        return None
    shown = found[:40] if isinstance(found, str) else describe_json_type(found)
    return f"object is {shown!r}, expected {expected!r}"


def _malformed(
    kind: RecordKind, origin: str, problem: str, source_id: str | None = None
) -> MalformedRecord:
    return MalformedRecord(kind, origin, problem, source_id=source_id)


def text_field(value: Any) -> str:
    """A text field of a Clerk object, trimmed; anything but a string reads as empty."""
    return value.strip() if isinstance(value, str) else ""
