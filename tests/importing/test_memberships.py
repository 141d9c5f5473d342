from authform.importing import DEFAULT_ROLE_MAP, build_import_set
from authform.resources import Kind, Resource, membership_key
from authform.sources import MalformedRecord

from .factories import member, org, user


def build(memberships, role_map=None):
    users = [
        user("user_1", "a@x.io"),
        user("user_2", "b@x.io"),
        user("user_p", phone_numbers=("+1",)),
    ]
    orgs = [
        org("org_1"),
        MalformedRecord(
            "organization", "orgs.json:item 2 (line 5)", "no name", source_id="org_bad"
        ),
    ]
    return build_import_set(users, orgs, memberships, role_map=role_map)


def codes(result):
    return [(s.source_id, s.code) for s in result.skipped if s.kind == "membership"]


def test_default_role_map_covers_current_and_legacy_keys():
    assert DEFAULT_ROLE_MAP == {
        "org:admin": "admin",
        "org:member": "member",
        "admin": "admin",
        "basic_member": "member",
    }


def test_a_membership_resource():
    result = build([member("user_1", role="basic_member")])
    assert result.memberships == [
        Resource(
            kind=Kind.MEMBERSHIP,
            key=membership_key("user_1", "org_1"),
            spec={"user": "user_1", "organization": "org_1", "role": "member"},
        )
    ]


def test_every_reason_a_membership_is_left_out_and_the_rest_go_on():
    result = build(
        [
            member("user_p"),
            member("user_ghost"),
            member("user_1", "org_bad"),
            member("user_1", "org_missing"),
            member("user_1", role="org:billing"),
            member("user_1", role="org:admin"),
            member("user_1", role="org:member"),
            MalformedRecord(
                "membership",
                "m.json:item 8 (line 30)",
                "the membership has no role",
                source_id="user_2@org_1",
            ),
            member("user_2"),
        ]
    )
    assert [(m.key, m.spec["role"]) for m in result.memberships] == [
        ("user_1@org_1", "admin"),
        ("user_2@org_1", "member"),
    ]
    assert codes(result) == [
        ("user_p@org_1", "user_skipped"),
        ("user_ghost@org_1", "user_not_in_export"),
        ("user_1@org_bad", "organization_skipped"),
        ("user_1@org_missing", "organization_not_in_export"),
        ("user_1@org_1", "unmapped_role"),
        ("user_1@org_1", "duplicate_membership"),
        ("user_2@org_1", "malformed_record"),
    ]
    reasons = {s.code: s.reason for s in result.skipped}
    assert reasons["unmapped_role"] == (
        "role 'org:billing' has no target role: add it to users.role_map in the manifest"
    )
    assert (
        reasons["organization_skipped"]
        == "its organization org_bad is not imported (malformed_record)"
    )
    assert reasons["organization_not_in_export"] == (
        "its organization org_missing is not in the organizations export"
    )
    assert "(role 'org:admin')" in reasons["duplicate_membership"]
    counts = result.counts
    assert (counts.memberships_total, counts.memberships, counts.memberships_skipped) == (9, 2, 7)


def test_role_map_adds_custom_roles_and_overrides_defaults():
    result = build(
        [member("user_1", role="org:billing"), member("user_2", role="admin")],
        role_map={"org:billing": "billing-admin", "admin": "owner"},
    )
    assert [m.spec["role"] for m in result.memberships] == ["billing-admin", "owner"]
