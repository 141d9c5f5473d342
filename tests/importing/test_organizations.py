from authform.importing import build_import_set
from authform.importing.metadata import flatten_metadata
from authform.resources import Kind, Resource
from authform.sources import MalformedRecord

from .factories import org


def test_metadata_is_flattened_to_strings_and_the_slug_kept():
    result = build_import_set(
        [],
        [
            org(
                "org_1",
                "Acme",
                slug="acme",
                public_metadata={
                    "tier": "enterprise",
                    "seats": 25,
                    "trial": False,
                    "owner": None,
                    "tags": ["b", "a"],
                    "nested": {"z": 1, "a": "é"},
                },
            )
        ],
        [],
    )
    assert result.organizations == [
        Resource(
            kind=Kind.ORGANIZATION,
            key="org_1",
            spec={
                "name": "Acme",
                "domains": [],
                "metadata": {
                    "tier": "enterprise",
                    "seats": "25",
                    "trial": "false",
                    "owner": "null",
                    "tags": '["b","a"]',
                    "nested": '{"a":"é","z":1}',
                    "clerk_slug": "acme",
                },
            },
        )
    ]


def test_the_slug_wins_over_a_metadata_key_of_the_same_name():
    result = build_import_set(
        [], [org("org_1", slug="real", public_metadata={"clerk_slug": "stale"})], []
    )
    assert result.organizations[0].spec["metadata"] == {"clerk_slug": "real"}


def test_no_slug_no_metadata():
    result = build_import_set([], [org("org_1", "Plain")], [])
    assert result.organizations[0].spec == {"name": "Plain", "domains": [], "metadata": {}}


def test_flatten_keeps_strings_as_they_are():
    assert flatten_metadata({"a": "[1]", "b": ""}) == {"a": "[1]", "b": ""}


def test_malformed_and_duplicate_organizations():
    result = build_import_set(
        [],
        [
            org("org_1", "One"),
            MalformedRecord(
                "organization",
                "orgs.json:item 2 (line 9)",
                "the organization has no name",
                source_id="org_2",
            ),
            org("org_1", "One again"),
        ],
        [],
    )
    assert [(o.key, o.spec["name"]) for o in result.organizations] == [("org_1", "One")]
    assert [(s.kind, s.source_id, s.code) for s in result.skipped] == [
        ("organization", "org_2", "malformed_record"),
        ("organization", "org_1", "duplicate_organization"),
    ]
    assert (result.counts.orgs_total, result.counts.orgs, result.counts.orgs_skipped) == (3, 1, 2)
