"""Scalekit's naming and metadata rules, checked offline when a manifest targets Scalekit:
each violation at the offending value's position, naming the value and the rule."""

from __future__ import annotations

from authform.manifest import load_manifest

from .conftest import FIXTURE_ENV, Problems, Write

SCALEKIT = (
    "version: 1\n"
    "target: {provider: scalekit, api_key: s, client_id: c, base_url: 'https://a.scalekit.dev'}\n"
)
WORKOS = "version: 1\ntarget: {provider: workos, api_key: sk_test_123}\n"


def test_role_and_permission_names_follow_scalekits_alphabet(
    write: Write, problems: Problems
) -> None:
    body = """\
        permissions:
          - {slug: "billing:manage", name: Billing}
          - {slug: "reports.read", name: Reports}
          - {slug: "posts:*", name: Posts}
        roles:
          - {slug: org-admin, name: Org admin}
          - {slug: org_admin, name: Fine}
          - {slug: "a:b", name: Colon}
        """
    write("m.yaml", SCALEKIT, body)
    assert problems("m.yaml") == [
        "m.yaml:5:12: permissions[1].slug: permission slug 'reports.read' is not a valid "
        "Scalekit permission name: Scalekit allows only letters, digits, '_' and ':', "
        "1-64 characters",
        "m.yaml:6:12: permissions[2].slug: permission slug 'posts:*' is not a valid Scalekit "
        "permission name: Scalekit allows only letters, digits, '_' and ':', 1-64 characters",
        "m.yaml:8:12: roles[0].slug: role slug 'org-admin' is not a valid Scalekit role name: "
        "Scalekit allows only letters, digits and '_', 1-64 characters",
        "m.yaml:10:12: roles[2].slug: role slug 'a:b' is not a valid Scalekit role name: "
        "Scalekit allows only letters, digits and '_', 1-64 characters",
    ]
    # The same manifest is valid for WorkOS: these rules are Scalekit's.
    write("w.yaml", WORKOS, body)
    assert load_manifest("w.yaml", env=FIXTURE_ENV).manifest.roles is not None


def test_references_are_checked_where_their_definitions_are_not_managed(
    write: Write, problems: Problems
) -> None:
    write(
        "m.yaml",
        SCALEKIT,
        """\
        roles:
          - {slug: admin, name: Admin, permissions: ["billing.manage"]}
        users:
          source: {kind: clerk-json, path: users.json}
          role_map: {"org:admin": admin, "org:viewer": "read-only"}
        """,
    )
    found = problems("m.yaml")
    assert found == [
        "m.yaml:4:46: roles[0].permissions[0]: permission slug 'billing.manage' is not a valid "
        "Scalekit permission name: Scalekit allows only letters, digits, '_' and ':', "
        "1-64 characters",
        "m.yaml:7:48: users.role_map['org:viewer']: unknown role 'read-only' (defined: admin)",
    ]


def test_role_map_targets_are_checked_when_roles_are_unmanaged(
    write: Write, problems: Problems
) -> None:
    write(
        "m.yaml",
        SCALEKIT,
        """\
        users:
          source: {kind: clerk-json, path: users.json}
          role_map: {"org:admin": org-admin}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:5:27: users.role_map['org:admin']: role slug 'org-admin' is not a valid Scalekit "
        "role name: Scalekit allows only letters, digits and '_', 1-64 characters"
    ]


def test_organization_metadata_limits(write: Write, problems: Problems) -> None:
    pairs = ", ".join(f"key{i}: v" for i in range(11))
    write(
        "m.yaml",
        SCALEKIT,
        f"""\
        organizations:
          - key: acme
            name: Acme
            metadata:
              id: short key
              tier: ""
              region: {"x" * 257}
              fine_key: fine value
          - key: globex
            name: Globex
            metadata: {{{pairs}}}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:7:7: organizations[0].metadata.id: metadata key 'id' has 2 characters, but "
        "Scalekit requires 3-25",
        "m.yaml:8:13: organizations[0].metadata.tier: metadata value '' has 0 characters, but "
        "Scalekit requires 1-256",
        "m.yaml:9:15: organizations[0].metadata.region: metadata value "
        f"'{'x' * 57}... (257 characters)' has 257 characters, but Scalekit requires 1-256",
        "m.yaml:13:15: organizations[1].metadata: 11 metadata pairs, but Scalekit allows at "
        "most 10 per organization",
    ]


def test_values_the_general_rules_refuse_are_reported_once(
    write: Write, problems: Problems
) -> None:
    write(
        "m.yaml",
        SCALEKIT,
        """\
        roles:
          - {slug: Admin-Role, name: Admin}
        """,
    )
    found = problems("m.yaml")
    assert len(found) == 1 and "invalid role slug 'Admin-Role'" in found[0]


def test_a_valid_scalekit_manifest_loads(write: Write) -> None:
    write(
        "m.yaml",
        SCALEKIT,
        """\
        permissions: [{slug: "billing:manage", name: Billing}, {slug: reports_read, name: R}]
        roles: [{slug: billing_admin, name: Billing admin, permissions: ["billing:manage"]}]
        organizations:
          - {key: acme, name: Acme, metadata: {tier: enterprise, region: eu}}
        """,
    )
    manifest = load_manifest("m.yaml", env=FIXTURE_ENV).manifest
    assert [r.slug for r in manifest.roles or []] == ["billing_admin"]
