"""Clerk's key rules, checked offline when a manifest targets Clerk: each violation at the
offending value's position, naming the value and the rule."""

from __future__ import annotations

from authform.manifest import load_manifest

from .conftest import FIXTURE_ENV, Problems, Write

CLERK = "version: 1\ntarget: {provider: clerk, api_key: sk_test_123}\n"
WORKOS = "version: 1\ntarget: {provider: workos, api_key: sk_test_123}\n"


def test_permission_and_role_keys_follow_clerks_formats(write: Write, problems: Problems) -> None:
    body = """\
        permissions:
          - {slug: "org:billing:manage", name: Fine}
          - {slug: "billing:manage", name: No prefix}
          - {slug: "org:reports", name: No action}
          - {slug: "org:sys_profile:manage", name: Reserved}
          - {slug: "org:a.b:read", name: Dot}
        roles:
          - {slug: "org:admin", name: Fine}
          - {slug: admin, name: No prefix}
          - {slug: "org:billing:admin", name: Colon}
        """
    write("m.yaml", CLERK, body)
    assert problems("m.yaml") == [
        "m.yaml:5:12: permissions[1].slug: permission 'billing:manage' is not a valid Clerk "
        "permission key: Clerk requires 'org:<feature>:<action>', each part lowercase letters, "
        "digits and '_' (e.g. 'org:billing:manage')",
        "m.yaml:6:12: permissions[2].slug: permission 'org:reports' is not a valid Clerk "
        "permission key: Clerk requires 'org:<feature>:<action>', each part lowercase letters, "
        "digits and '_' (e.g. 'org:billing:manage')",
        "m.yaml:7:12: permissions[3].slug: permission 'org:sys_profile:manage' uses the prefix "
        "'org:sys_', which Clerk reserves for its own system permissions; authform leaves "
        "those as they are, so pick another key",
        "m.yaml:8:12: permissions[4].slug: permission 'org:a.b:read' is not a valid Clerk "
        "permission key: Clerk requires 'org:<feature>:<action>', each part lowercase letters, "
        "digits and '_' (e.g. 'org:billing:manage')",
        "m.yaml:11:12: roles[1].slug: role 'admin' is not a valid Clerk role key: Clerk "
        "requires 'org:' followed by lowercase letters, digits and '_' (e.g. 'org:admin')",
        "m.yaml:12:12: roles[2].slug: role 'org:billing:admin' is not a valid Clerk role key: "
        "Clerk requires 'org:' followed by lowercase letters, digits and '_' (e.g. 'org:admin')",
    ]
    # The same manifest is valid for WorkOS: these rules are Clerk's.
    write("w.yaml", WORKOS, body)
    assert load_manifest("w.yaml", env=FIXTURE_ENV).manifest.roles is not None


def test_references_are_checked_where_their_definitions_are_not_managed(
    write: Write, problems: Problems
) -> None:
    write(
        "m.yaml",
        CLERK,
        """\
        roles:
          - {slug: "org:admin", name: Admin, permissions: ["billing:manage", "org:sys_x:read"]}
        users:
          source: {kind: clerk-json, path: users.json}
          role_map: {"org:admin": "org:admin", "viewer": viewer}
        """,
    )
    found = problems("m.yaml")
    assert [line.split(": ", 2)[:2] for line in found] == [
        ["m.yaml:4:52", "roles[0].permissions[0]"],
        ["m.yaml:4:70", "roles[0].permissions[1]"],
        ["m.yaml:7:50", "users.role_map.viewer"],  # roles are defined: "unknown role" says it
    ]
    assert "reserves for its own system permissions" in found[1]
    assert "unknown role 'viewer'" in found[2]
    write(
        "n.yaml",
        CLERK,
        """\
        users:
          source: {kind: clerk-json, path: users.json}
          role_map: {"org:admin": "org:admin", "viewer": viewer}
        """,
    )
    assert problems("n.yaml") == [
        "n.yaml:5:50: users.role_map.viewer: role 'viewer' is not a valid Clerk role key: Clerk "
        "requires 'org:' followed by lowercase letters, digits and '_' (e.g. 'org:admin')"
    ]


def test_organization_keys_are_clerk_slugs(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        CLERK,
        """\
        organizations:
          - {key: acme-inc, name: Fine}
          - {key: Acme, name: Upper case}
          - {key: org_2aAcme, name: A Clerk id}
          - {key: "a--b", name: Double dash}
        """,
    )
    found = problems("m.yaml")
    assert [line.split(": ", 2)[:2] for line in found] == [
        ["m.yaml:5:11", "organizations[1].key"],
        ["m.yaml:6:11", "organizations[2].key"],
        ["m.yaml:7:11", "organizations[3].key"],
    ]
    assert "'Acme' is not a valid Clerk slug" in found[0]
    assert "lowercase letters, digits and single dashes" in found[0]


def test_values_the_general_rules_refuse_are_reported_once(
    write: Write, problems: Problems
) -> None:
    write(
        "m.yaml",
        CLERK,
        """\
        permissions:
          - {slug: "Org:Billing", name: Upper}
        """,
    )
    found = problems("m.yaml")
    assert len(found) == 1 and "invalid permission slug 'Org:Billing'" in found[0]
