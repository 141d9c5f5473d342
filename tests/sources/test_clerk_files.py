import json

import pytest

from authform.sources import (
    MalformedRecord,
    SourceError,
    SourceMembership,
    SourceOrganization,
    read_clerk_memberships,
    read_clerk_organizations,
)

from . import FIXTURES


def write(tmp_path, name, items):
    path = tmp_path / name
    path.write_text(items if isinstance(items, str) else json.dumps(items), encoding="utf-8")
    return path


def test_fixture_organizations():
    orgs = list(read_clerk_organizations(FIXTURES / "organizations.json"))
    assert orgs == [
        SourceOrganization(
            "org_2aAcme000000000000000001",
            "organizations.json:item 1 (line 2)",
            "Acme Inc",
            "acme",
            {"tier": "enterprise"},
        ),
        SourceOrganization(
            "org_2aGlobx000000000000000002",
            "organizations.json:item 2 (line 15)",
            "Globex",
            "globex",
            {},
        ),
        SourceOrganization(
            "org_2aEmpty000000000000000003",
            "organizations.json:item 3 (line 26)",
            "Empty Org",
            "empty-org",
            {},
        ),
    ]


def test_fixture_memberships():
    members = list(read_clerk_memberships(FIXTURES / "memberships.json"))
    assert all(isinstance(m, SourceMembership) for m in members)
    assert [(m.user_id[-3:], m.organization_id[-1:], m.role) for m in members] == [
        ("001", "1", "org:admin"),
        ("002", "1", "org:member"),
        ("005", "1", "org:member"),
        ("003", "2", "admin"),
        ("006", "2", "basic_member"),
        ("999", "2", "org:member"),
        ("011", "2", "org:member"),
    ]
    assert members[0].id == "orgmem_00010001"
    assert members[0].origin == "memberships.json:item 1 (line 2)"


def test_malformed_organizations(tmp_path):
    path = write(
        tmp_path,
        "orgs.json",
        [
            {"object": "organization", "id": "org_1", "name": "One", "public_metadata": None},
            {"name": "No id"},
            {"id": "org_3", "name": "  "},
            {"id": "org_4", "name": "Four", "public_metadata": [1]},
            {"id": "org_5", "name": "Five", "object": "user"},
            7,
        ],
    )
    records = list(read_clerk_organizations(path))
    assert records[0] == SourceOrganization("org_1", "orgs.json:item 1 (line 1)", "One", None, {})
    assert [(r.source_id, r.problem) for r in records[1:] if isinstance(r, MalformedRecord)] == [
        (None, "the organization object has no id"),
        ("org_3", "the organization has no name"),
        ("org_4", "public_metadata is an array, expected an object"),
        ("org_5", "object is 'user', expected 'organization'"),
        (None, "expected an object, found a number"),
    ]


def test_flat_membership_rows_and_malformed_ones(tmp_path):
    path = write(
        tmp_path,
        "members.json",
        [
            {"user_id": "user_1", "organization_id": "org_1", "role": "org:admin"},
            {"user_id": "user_2", "org_id": "org_1", "role": "org:member"},
            {"organization": {"id": "org_1"}, "role": "org:member"},
            {"public_user_data": {"user_id": "user_4"}, "role": "org:member"},
            {"user_id": "user_5", "organization_id": "org_1"},
            {
                "user_id": "user_6",
                "organization_id": "org_1",
                "role": "x",
                "object": "organization",
            },
        ],
    )
    records = list(read_clerk_memberships(path))
    assert [(m.user_id, m.organization_id, m.role) for m in records[:2]] == [
        ("user_1", "org_1", "org:admin"),
        ("user_2", "org_1", "org:member"),
    ]
    assert [(r.source_id, r.problem) for r in records[2:]] == [
        (None, "the membership names no user id"),
        (None, "the membership names no organization id"),
        ("user_5@org_1", "the membership has no role"),
        ("user_6@org_1", "object is 'organization', expected 'organization_membership'"),
    ]


def test_swapped_files_are_refused(tmp_path):
    with pytest.raises(
        SourceError, match="holds 'organization_membership' objects, expected 'organization'"
    ):
        list(read_clerk_organizations(FIXTURES / "memberships.json"))
    with pytest.raises(
        SourceError, match="holds 'organization' objects, expected 'organization_membership'"
    ):
        list(read_clerk_memberships(FIXTURES / "organizations.json"))


def test_not_an_array(tmp_path):
    path = write(tmp_path, "orgs.json", {"data": [], "total_count": 0})
    with pytest.raises(
        SourceError, match=r"orgs\.json: expected a JSON array, found a JSON object"
    ):
        list(read_clerk_organizations(path))


API_MEMBERSHIP = {
    "object": "organization_membership",
    "id": "orgmem_1",
    "role": "org:admin",
    "organization": {"id": "org_1"},
    "public_user_data": {"user_id": "user_1"},
}


def _with(**changes):
    item = json.loads(json.dumps(API_MEMBERSHIP))
    for name, value in changes.items():
        if value is _DROP:
            item.pop(name)
        else:
            item[name] = value
    return item


_DROP = object()


@pytest.mark.parametrize(
    "item",
    [
        API_MEMBERSHIP,
        _with(id=" orgmem_1 ", role=" org:admin "),
        _with(organization={"id": "  org_1 "}, public_user_data={"user_id": " user_1\t"}),
        _with(object=_DROP),
        _with(object="organization"),
        _with(object=3),
        _with(id=_DROP),
        _with(id=7),
        _with(role=""),
        _with(role=None),
        _with(organization={"id": ""}, organization_id="org_2"),
        _with(organization={"id": 5}, org_id="org_3"),
        _with(organization="org_1", organization_id="org_4"),
        _with(public_user_data={"user_id": "  "}, user_id="user_2"),
        _with(public_user_data=None, user_id="user_3"),
        _with(public_user_data=_DROP),
        _with(organization=_DROP),
        {"user_id": "user_1", "organization_id": "org_1", "role": "org:admin"},
    ],
)
def test_a_membership_object_reads_the_same_on_the_plain_path_and_the_full_one(item):
    """An object of the API's own shape is read without the fallbacks (nearly every item of
    an export); whatever it holds, the outcome is the full reading's, which a mapping that
    is not a ``dict`` always takes."""
    from types import MappingProxyType

    from authform.sources.clerk_files import membership_from_json

    assert membership_from_json(item, "m.json:item 1") == membership_from_json(
        MappingProxyType(item), "m.json:item 1"
    )
