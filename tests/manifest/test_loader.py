"""Loading manifests: files and folders, positions, merging, and every error reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from authform.manifest import Location, ManifestError, load_manifest
from authform.manifest import positions as positions_module
from authform.manifest.loader import START_A_MANIFEST
from authform.resources import Kind

from .conftest import DATA, FIXTURE_ENV, HEADER, Problems, Write

# --- valid input ---------------------------------------------------------------------------


def test_full_example_loads() -> None:
    loaded = load_manifest(DATA / "valid" / "full.yaml", env=FIXTURE_ENV)
    manifest = loaded.manifest
    assert loaded.files == [DATA / "valid" / "full.yaml"]
    assert manifest.version == 1
    assert manifest.target.provider == "workos"
    assert manifest.target.api_key is not None
    assert manifest.target.api_key.get_secret_value() == "sk_test_123"
    assert manifest.target.client_id == "client_123"
    assert [p.slug for p in manifest.permissions or []] == ["billing:manage", "reports:read"]
    assert [r.permissions for r in manifest.roles or []] == [
        ["reports:read", "billing:manage"],
        [],
    ]
    assert manifest.cors_origins == ["https://app.example.com", "http://localhost:3000"]
    social = manifest.social_connections or []
    assert social[0].client_secret is not None
    assert social[0].client_secret.get_secret_value() == "google-secret"
    orgs = manifest.organizations or []
    assert [(d.domain, d.state) for d in orgs[0].domains] == [
        ("acme.com", "verified"),
        ("acme.io", "pending"),
    ]
    assert orgs[0].metadata == {"tier": "gold", "region": "eu"}
    assert manifest.policy.allow_delete is False
    assert manifest.verify.password_logins[0].email == "canary@example.com"


def test_secrets_never_print() -> None:
    manifest = load_manifest(DATA / "valid" / "full.yaml", env=FIXTURE_ENV).manifest
    for text in (repr(manifest), str(manifest), manifest.model_dump_json()):
        assert "sk_test_123" not in text
        assert "correct horse" not in text
        assert "google-secret" not in text


def test_relative_paths_resolve_against_the_file_that_names_them() -> None:
    """Inputs are the manifest's; outputs (reports) are the working directory's, like --out,
    so they never land in the manifest folder."""
    users = load_manifest(DATA / "valid" / "full.yaml", env=FIXTURE_ENV).manifest.users
    assert users is not None
    base = DATA / "valid"
    assert users.source.kind == "clerk-csv"
    assert users.source.path == base / "exports" / "users.csv"
    assert users.source.organizations == base / "exports" / "organizations.json"
    assert users.mapping_file == Path("out") / "mapping.json"
    assert users.reports_dir == Path("out") / "reports"


def test_absolute_paths_are_kept(write: Write, tmp_path: Path) -> None:
    absolute = tmp_path / "elsewhere" / "users.csv"
    write("sub/m.yaml", HEADER, f"users: {{source: {{kind: clerk-csv, path: '{absolute}'}}}}\n")
    users = load_manifest("sub/m.yaml").manifest.users
    assert users is not None and users.source.kind == "clerk-csv"
    assert users.source.path == absolute


def test_minimal_manifest_manages_nothing() -> None:
    manifest = load_manifest(DATA / "valid" / "minimal.yaml", env=FIXTURE_ENV).manifest
    assert manifest.permissions is None and manifest.roles is None and manifest.users is None
    assert manifest.policy.max_delete_percent == 30
    assert manifest.policy.threshold_min_existing == 10


def test_anchors_merge_keys_and_extension_keys() -> None:
    manifest = load_manifest(DATA / "valid" / "anchors.yaml", env=FIXTURE_ENV).manifest
    orgs = manifest.organizations or []
    assert [(o.key, o.metadata) for o in orgs] == [
        ("acme", {"plan": "enterprise"}),
        ("initech", {"plan": "trial"}),  # explicit keys win over merged ones
    ]
    assert manifest.users is not None and manifest.users.source.kind == "clerk-api"


def test_positions_point_at_values(write: Write) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        roles:
          - slug: admin
            name: Admin
          - {slug: member, name: Member}
        """,
    )
    loaded = load_manifest("m.yaml")
    assert loaded.position("roles", 1, "slug") == Location("m.yaml", 6, 12)
    assert loaded.position("roles", 0) == Location("m.yaml", 4, 5)
    assert loaded.position("target", "provider") == Location("m.yaml", 2, 20)
    assert loaded.position("roles", 2) is None
    assert str(loaded.position("roles", 0, "name")) == "m.yaml:5:11"
    assert loaded.resource_position(Kind.ROLE, "member") == Location("m.yaml", 6, 5)
    assert loaded.resource_position(Kind.ROLE, "nobody") is None


# --- folders -------------------------------------------------------------------------------


def test_folder_merges_files_in_name_order() -> None:
    folder = DATA / "folder"
    loaded = load_manifest(folder, env=FIXTURE_ENV)
    assert [f.name for f in loaded.files] == [
        "00-target.yaml",
        "authorization.yaml",
        "more-authorization.yml",
        "organizations.yaml",
    ]
    manifest = loaded.manifest
    assert [p.slug for p in manifest.permissions or []] == ["billing:manage", "reports:read"]
    assert [r.slug for r in manifest.roles or []] == ["admin", "member"]
    assert manifest.policy.allow_delete is True
    assert (manifest.organizations or [])[0].domains[0].domain == "acme.com"
    # Merged indexes, positions in the file that holds the item.
    assert loaded.position("roles", 1, "slug") == Location(
        str(folder / "more-authorization.yml"), 4, 12
    )
    assert loaded.resource_position(Kind.PERMISSION, "reports:read") == Location(
        str(folder / "more-authorization.yml"), 2, 5
    )


def test_folder_errors_show_each_files_own_indexes(write: Write, problems: Problems) -> None:
    write("m/a.yaml", HEADER, "roles: [{slug: a, name: A}]\n")
    write("m/b.yaml", "roles:\n  - {slug: b, name: B}\n  - {slug: c, nam: C}\n")
    assert problems("m") == [
        "m/b.yaml:3:5: roles[1]: missing required key 'name'",
        "m/b.yaml:3:15: roles[1].nam: unknown key 'nam' (expected one of: description, name, "
        "permissions, slug); did you mean 'name'?",
    ]


def test_duplicate_items_across_files_name_both_places(write: Write, problems: Problems) -> None:
    write(
        "m/a.yaml",
        HEADER,
        """\
        permissions:
          - {slug: "billing:manage", name: Manage billing}
        organizations:
          - {key: acme, name: Acme, domains: [{domain: acme.com}]}
        redirect_uris: [https://app.example.com/cb]
        """,
    )
    write(
        "m/b.yaml",
        """\
        permissions:
          - {slug: "billing:manage", name: Billing again}
        organizations:
          - {key: acme, name: Acme again}
          - {key: other, name: Other, domains: [{domain: ACME.com}]}
        redirect_uris: [https://app.example.com/cb]
        """,
    )
    assert problems("m") == [
        "m/b.yaml:2:12: permissions[0].slug: duplicate permission 'billing:manage' "
        "(first defined at m/a.yaml:4:12)",
        "m/b.yaml:4:11: organizations[0].key: duplicate organization 'acme' "
        "(first defined at m/a.yaml:6:11)",
        "m/b.yaml:5:50: organizations[1].domains[0].domain: domain 'acme.com' already belongs "
        "to organization 'acme' (at m/a.yaml:6:48)",
        "m/b.yaml:6:17: redirect_uris[0]: duplicate redirect URI 'https://app.example.com/cb' "
        "(first defined at m/a.yaml:7:17)",
    ]


def test_single_sections_may_be_defined_once(write: Write, problems: Problems) -> None:
    write("m/a.yaml", HEADER, "policy: {allow_delete: true}\n")
    write("m/b.yaml", "version: 1\npolicy:\n  allow_delete: false\n")
    assert problems("m") == [
        "m/b.yaml:1:1: version: defined twice (first defined at m/a.yaml:1:1)",
        "m/b.yaml:2:1: policy: defined twice (first defined at m/a.yaml:3:1)",
    ]


def test_version_and_target_are_required_somewhere(write: Write, problems: Problems) -> None:
    write("m/roles.yaml", "roles: []\n")
    assert problems("m") == [
        "m: missing required key 'target' (no file in this folder defines it)",
        "m: missing required key 'version' (no file in this folder defines it)",
    ]
    write("single.yaml", "\n# comment\nroles: []\n")
    assert problems("single.yaml") == [
        "single.yaml:3:1: missing required key 'target'",
        "single.yaml:3:1: missing required key 'version'",
    ]


def test_empty_folder_and_missing_path(write: Write, problems: Problems) -> None:
    write("m/notes.txt", "not yaml\n")
    write("m/.hidden.yaml", HEADER)
    assert problems("m") == [
        f"m: no manifest files (*.yaml, *.yml) in this folder. {START_A_MANIFEST}"
    ]
    assert problems("nowhere") == [f"nowhere: no such file or directory. {START_A_MANIFEST}"]
    # a mistyped file name gets no advice about starting a manifest
    assert problems("nowhere.yaml") == ["nowhere.yaml: no such file or directory"]


def test_files_must_be_mappings(write: Write, problems: Problems) -> None:
    write("m/a.yaml", HEADER)
    write("m/b.yaml", "- roles\n")
    write("m/c.yaml", "just text\n")
    write("m/d.yaml", "# only a comment\n")
    assert problems("m") == [
        "m/b.yaml:1:1: expected a mapping of manifest sections, got a list",
        "m/c.yaml:1:1: expected a mapping of manifest sections, got 'just text'",
        "m/d.yaml: file is empty (expected a mapping of manifest sections)",
    ]


def test_a_broken_file_does_not_cause_follow_on_errors(write: Write, problems: Problems) -> None:
    # The permission may be defined in the unreadable file: no "unknown permission" guess.
    write("m/a.yaml", HEADER, "roles: [{slug: a, name: A, permissions: [x]}]\npermissions: []\n")
    write("m/b.yaml", "permissions: [{slug: x, name: X\n")
    assert problems("m") == [
        "m/b.yaml:2:1: invalid YAML: did not find expected ',' or '}' "
        "(while parsing a flow mapping at 1:15)"
        if positions_module.YAML_LOADER is not yaml.SafeLoader
        else "m/b.yaml:2:1: invalid YAML: expected ',' or '}', but got '<stream end>' "
        "(while parsing a flow mapping at 1:15)"
    ]


# --- YAML-level problems -------------------------------------------------------------------


def test_duplicate_key_within_a_mapping(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        permissions:
          - slug: a
            name: First
            name: Second
        policy: {allow_delete: true, allow_delete: false}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:6:5: permissions[0].name: duplicate key 'name' (first defined at m.yaml:5:5)",
        "m.yaml:7:30: policy.allow_delete: duplicate key 'allow_delete' "
        "(first defined at m.yaml:7:10)",
    ]


def test_syntax_error_position(write: Write, problems: Problems) -> None:
    write("m.yaml", HEADER, "roles:\n  - slug: a\n   name: b\n")
    expected = (
        "did not find expected '-' indicator"
        if positions_module.YAML_LOADER is not yaml.SafeLoader
        else "expected <block end>, but found '<block mapping start>'"
    )
    assert problems("m.yaml") == [
        f"m.yaml:5:4: invalid YAML: {expected} (while parsing a block collection at 4:3)"
    ]


def test_python_tags_are_refused(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        roles:
          - slug: !!python/object/apply:os.system ["touch pwned"]
            name: !!binary aGVsbG8=
          - !!set {a, b}
          - !custom x
        """,
    )
    note = "(manifests hold only strings, numbers, booleans, lists and mappings)"
    assert problems("m.yaml") == [
        f"m.yaml:4:11: roles[0].slug: unsupported YAML tag '!!python/object/apply:os.system' "
        f"{note}",
        f"m.yaml:5:11: roles[0].name: unsupported YAML tag '!!binary' {note}",
        f"m.yaml:6:5: roles[1]: unsupported YAML tag '!!set' {note}",
        f"m.yaml:7:5: roles[2]: unsupported YAML tag '!custom' {note}",
    ]
    assert not Path("pwned").exists()


def test_alias_bomb_is_bounded(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        x-lol:
          a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
          b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
          c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
          d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
          e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
          f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
          g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
          h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
          i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:8:6: x-lol.e: YAML aliases expand to more than 10000 values; refusing to "
        "expand further (is this a 'billion laughs' document?)"
    ]


def test_recursive_alias(write: Write, problems: Problems) -> None:
    write("m.yaml", HEADER, "x-loop: &loop [1, *loop]\n")
    assert problems("m.yaml") == [
        "m.yaml:3:9: x-loop[1]: recursive YAML alias (a value cannot contain itself)"
    ]


def test_deep_nesting(write: Write, problems: Problems) -> None:
    write("m.yaml", HEADER, "x-deep: " + "[" * 100 + "]" * 100 + "\n")
    assert problems("m.yaml") == [
        "m.yaml:3:49: x-deep" + "[0]" * 40 + ": nesting is too deep (at most 40 levels)"
    ]


def test_unreadable_bytes(write: Write, problems: Problems) -> None:
    Path("bad-utf8.yaml").write_bytes(HEADER.encode() + b"roles: [\xff]\n")
    assert problems("bad-utf8.yaml") == ["bad-utf8.yaml:3:9: file is not valid UTF-8 text"]
    write("nul.yaml", HEADER, "roles: [\x00]\n")
    assert problems("nul.yaml") == [
        "nul.yaml:3:9: invalid YAML: control character U+0000 is not allowed"
    ]


def test_byte_order_mark_is_accepted(write: Write) -> None:
    Path("bom.yaml").write_bytes(b"\xef\xbb\xbf" + HEADER.encode())
    assert load_manifest("bom.yaml").manifest.version == 1


def test_file_size_is_bounded(
    write: Write, problems: Problems, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(positions_module, "MAX_FILE_BYTES", 100)
    write("m.yaml", HEADER, "x-pad: '" + "a" * 100 + "'\n")
    assert problems("m.yaml") == ["m.yaml: file is too large (170 bytes; at most 100)"]


def test_multiple_documents_are_refused(write: Write, problems: Problems) -> None:
    write("m.yaml", HEADER, "---\nroles: []\n")
    assert problems("m.yaml") == [
        "m.yaml:3:1: invalid YAML: a second document ('---'); a manifest file holds one document"
    ]


def test_huge_integer_is_an_error_not_a_crash(write: Write, problems: Problems) -> None:
    write("m.yaml", HEADER, "policy: {max_delete_percent: " + "9" * 5000 + "}\n")
    [message] = problems("m.yaml")
    assert message.startswith("m.yaml:3:30: policy.max_delete_percent: cannot read '9999")
    assert message.endswith("... (5000 characters)' as an integer")


# --- schema-level problems -----------------------------------------------------------------


def test_unknown_keys_suggest_the_closest(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        rolez: []
        permissions:
          - {slug: a, namee: A}
        users:
          source: {kind: clerk-api, secret_key: sk, path: users.csv}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:3:1: unknown key 'rolez' (expected one of: cors_origins, drift, environments, "
        "organizations, permissions, policy, redirect_uris, roles, social_connections, target, "
        "users, verify, ... (1 more)); did you mean 'roles'?",
        "m.yaml:5:5: permissions[0]: missing required key 'name'",
        "m.yaml:5:15: permissions[0].namee: unknown key 'namee' (expected one of: description, "
        "name, slug); did you mean 'name'?",
        "m.yaml:7:45: users.source.path: unknown key 'path' (expected one of: base_url, csv, "
        "kind, secret_key)",
    ]


def test_wrong_types_point_at_the_value(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        roles:
          - {slug: no, name: NO}
          - slug: member
            name: 10
            permissions: {a: b}
        organizations: {key: acme}
        policy: {allow_delete: maybe, max_delete_percent: 12.5, threshold_min_existing: -1}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:4:12: roles[0].slug: expected a string, got boolean false (YAML reads no that "
        'way; quote it to mean the text: "no")',
        "m.yaml:4:22: roles[0].name: expected a string, got boolean false (YAML reads NO that "
        'way; quote it to mean the text: "NO")',
        "m.yaml:6:11: roles[1].name: expected a string, got integer 10 (YAML reads 10 that way; "
        'quote it to mean the text: "10")',
        "m.yaml:7:18: roles[1].permissions: expected a list, got a mapping",
        "m.yaml:8:16: organizations: expected a list, got a mapping",
        "m.yaml:9:24: policy.allow_delete: expected true or false, got string 'maybe'",
        "m.yaml:9:51: policy.max_delete_percent: expected a whole number, got number 12.5",
        "m.yaml:9:81: policy.threshold_min_existing: must be at least 0, got integer -1",
    ]


def test_invalid_choices(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        """\
        version: 2
        target: {provider: workoss, api_key: sk}
        organizations:
          - {key: acme, name: Acme, domains: [{domain: acme.com, state: verifyed}]}
        users:
          source: {kind: clerk-xml}
          email: [primary]
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:1:10: version: unsupported manifest version '2' (this authform reads version 1)",
        "m.yaml:2:20: target.provider: invalid provider 'workoss' (expected one of: clerk, "
        "kavachos, scalekit, workos); did you mean 'workos'?",
        "m.yaml:4:65: organizations[0].domains[0].state: invalid state 'verifyed' (expected one "
        "of: pending, verified); did you mean 'verified'?",
        "m.yaml:6:18: users.source.kind: invalid kind 'clerk-xml' (expected one of: "
        "clerk-api, clerk-csv, clerk-json); did you mean 'clerk-csv'?",
        "m.yaml:7:10: users.email: expected one of: first, primary, skip-multi, got a list",
    ]


def test_null_sections_are_refused(write: Write, problems: Problems) -> None:
    # An emptied `roles:` would otherwise mean "manage roles: delete them all".
    write("m.yaml", HEADER, "roles:\npolicy:\n")
    assert problems("m.yaml") == [
        "m.yaml:3:7: roles: expected a list, got null (write `roles: []` to manage roles with "
        "none defined, or remove the key to leave them unmanaged)",
        "m.yaml:4:8: policy: expected a mapping, got null (remove the key to omit it)",
    ]


def test_undefined_permission_reference(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        permissions:
          - {slug: "billing:manage", name: Manage billing}
          - {slug: "reports:read", name: Read reports}
        roles:
          - slug: admin
            name: Admin
            permissions: ["billing:mange", "reports:read", "reports:read"]
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:9:19: roles[0].permissions[0]: unknown permission 'billing:mange' "
        "(defined: billing:manage, reports:read); did you mean 'billing:manage'?",
        "m.yaml:9:52: roles[0].permissions[2]: permission 'reports:read' is listed twice "
        "(first at m.yaml:9:36)",
    ]


def test_references_are_not_checked_for_unmanaged_permissions(write: Write) -> None:
    write("m.yaml", HEADER, "roles: [{slug: admin, name: Admin, permissions: [live:only]}]\n")
    assert load_manifest("m.yaml").manifest.roles is not None


def test_empty_permissions_section_still_checks_references(
    write: Write, problems: Problems
) -> None:
    write("m.yaml", HEADER, "permissions: []\nroles: [{slug: a, name: A, permissions: [x]}]\n")
    assert problems("m.yaml") == [
        "m.yaml:4:42: roles[0].permissions[0]: unknown permission 'x' (no permissions are defined)"
    ]


def test_role_map_references_defined_roles(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        roles: [{slug: admin, name: Admin}, {slug: member, name: Member}]
        users:
          source: {kind: clerk-csv, path: users.csv}
          role_map: {"org:admin": admin, "org:member": membr}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:6:48: users.role_map['org:member']: unknown role 'membr' "
        "(defined: admin, member); did you mean 'member'?"
    ]


def test_duplicates_within_one_file(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        HEADER,
        """\
        roles: [{slug: admin, name: A}, {slug: admin, name: B}]
        cors_origins: [https://App.example.com, "https://app.example.com:443"]
        social_connections:
          - {provider: google, client_id: a}
          - {provider: google, client_id: b}
        organizations:
          - {key: acme, name: Acme, domains: [{domain: acme.com}, {domain: ACME.COM}]}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:3:40: roles[1].slug: duplicate role 'admin' (first defined at m.yaml:3:16)",
        "m.yaml:4:41: cors_origins[1]: duplicate CORS origin 'https://app.example.com' "
        "(first defined at m.yaml:4:16)",
        "m.yaml:7:16: social_connections[1].provider: duplicate social connection 'google' "
        "(first defined at m.yaml:6:16)",
        "m.yaml:9:68: organizations[0].domains[1].domain: duplicate domain 'acme.com' "
        "(first defined at m.yaml:9:48)",
    ]


def test_base_url_must_be_https_unless_loopback(write: Write, problems: Problems) -> None:
    write("a.yaml", HEADER.replace("}", ", base_url: 'http://api.example.com'}"))
    assert problems("a.yaml") == [
        "a.yaml:2:60: target.base_url: base_url must use https (http is allowed only for "
        "localhost, 127.0.0.0/8 and ::1), got 'http://api.example.com'"
    ]
    for url in ("http://localhost:8080", "http://127.0.0.5:1/api", "http://[::1]:9"):
        write("b.yaml", HEADER.replace("}", f", base_url: '{url}'}}"))
        assert load_manifest("b.yaml").manifest.target.base_url == url


def test_provider_credentials_are_required_unless_emulating(
    write: Write, problems: Problems
) -> None:
    write("m.yaml", "version: 1\ntarget: {provider: scalekit, client_id: abc}\n")
    assert problems("m.yaml") == [
        "m.yaml:2:9: target: missing required key 'api_key' for provider 'scalekit' "
        "(the Scalekit client secret)",
        "m.yaml:2:9: target: missing required key 'base_url' for provider 'scalekit' "
        "(your Scalekit environment URL)",
    ]
    assert load_manifest("m.yaml", emulate=True).manifest.target.provider == "scalekit"


def test_secret_values_never_appear_in_errors(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        """\
        version: 1
        target: {provider: workos, api_key: 123456789}
        verify:
          password_logins: [{email: a@example.com, password: "hunter2\\u0007"}]
        """,
    )
    found = problems("m.yaml")
    assert found == [
        "m.yaml:2:37: target.api_key: expected a string, got an integer",
        "m.yaml:4:54: verify.password_logins[0].password: contains a control character",
    ]
    assert not any("123456789" in p or "hunter2" in p for p in found)


def test_hostile_values_are_bounded_in_messages(write: Write, problems: Problems) -> None:
    long_name = "A" * 100_000
    write(
        "m.yaml",
        HEADER,
        f"permissions: [{{slug: a, name: {long_name}}}]\n",
        f"organizations: [{{key: '{'k' * 5000}', name: \"Acme\\u202eevil\"}}]\n",
        f"policy: {{{'p' * 1000}: 1}}\n",  # libyaml caps implicit keys at 1024
        f"{'z' * 300}: 1\n",
    )
    found = problems("m.yaml")
    assert found[:3] == [
        "m.yaml:3:31: permissions[0].name: too long: 100000 characters (at most 48)",
        "m.yaml:4:23: organizations[0].key: too long: 5000 characters (at most 64)",
        "m.yaml:4:5033: organizations[0].name: contains the control character U+202E",
    ]
    long_key = f"'{'p' * 57}... (1000 characters)'"
    assert found[3] == (
        f"m.yaml:5:10: policy[{long_key}]: unknown key {long_key} (expected one of: "
        "allow_delete, max_delete_percent, max_update_percent, threshold_min_existing)"
    )
    assert found[4].startswith("m.yaml:6:1: unknown key 'zzzzzzzz")
    assert "... (300 characters)'" in found[4]
    assert all(len(p) < 500 for p in found)


def test_all_errors_are_reported_together_sorted(write: Write, problems: Problems) -> None:
    write("m/b.yaml", "roles: [{slug: Bad, name: B}]\n")
    write(
        "m/a.yaml",
        """\
        version: 1
        target: {provider: workos, api_key: "${env:MISSING}"}
        permissions: [{slug: ok, name: OK, extra: 1}]
        cors_origins: [https://app.example.com/path]
        """,
    )
    assert problems("m", env={}) == [
        "m/a.yaml:2:37: target.api_key: environment variable MISSING is not set",
        "m/a.yaml:3:36: permissions[0].extra: unknown key 'extra' (expected one of: "
        "description, name, slug)",
        "m/a.yaml:4:16: cors_origins[0]: CORS origin must be scheme://host[:port] with no path",
        "m/b.yaml:1:16: roles[0].slug: invalid role slug 'Bad': use lowercase letters, digits "
        "and ': . _ -', starting with a letter or digit",
    ]


def test_manifest_error_lists_everything() -> None:
    with pytest.raises(ManifestError) as raised:
        load_manifest(DATA / "valid" / "full.yaml", env={}, require_secrets=True)
    error = raised.value
    assert str(error).splitlines() == [str(d) for d in error.diagnostics]
    assert [(d.line, d.message.split(":")[0]) for d in error.diagnostics] == [
        (5, "target.api_key"),
        (6, "target.client_id"),
        (28, "social_connections[0].client_secret"),
        (55, "verify.password_logins[0].password"),
    ]
    # Without require_secrets (every command but plain validate) the secrets only one command
    # reads are kept for it; the target's credentials are still needed at once.
    with pytest.raises(ManifestError) as raised:
        load_manifest(DATA / "valid" / "full.yaml", env={})
    assert [d.line for d in raised.value.diagnostics] == [5, 6]


# --- diagnostics and parsers ---------------------------------------------------------------


def test_diagnostic_rendering_and_ordering() -> None:
    from authform.manifest import Diagnostic

    late = Diagnostic("b.yaml", 1, 1, "late")
    early = Diagnostic("a.yaml", 12, 7, "roles[1].permissions[0]: unknown permission 'x'")
    whole = Diagnostic("a.yaml", 0, 0, "file is empty")
    error = ManifestError([late, early, whole, early])
    assert error.diagnostics == [whole, early, late]  # sorted, duplicates dropped
    assert str(early) == "a.yaml:12:7: roles[1].permissions[0]: unknown permission 'x'"
    assert str(whole) == "a.yaml: file is empty"
    assert early.location == Location("a.yaml", 12, 7)


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", None)])
def test_both_yaml_parsers_give_the_same_data_and_positions(
    loader: type[yaml.SafeLoader] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if loader is None:
        pytest.skip("libyaml is not installed")
    text = (DATA / "valid" / "full.yaml").read_text() + (
        DATA / "valid" / "anchors.yaml"
    ).read_text().replace("version: 1", "x-version: 1").replace("target:", "x-target:").replace(
        "organizations:", "x-organizations:"
    ).replace("users:", "x-users:")
    reference = positions_module.load_yaml_text(text, "m.yaml")
    monkeypatch.setattr(positions_module, "YAML_LOADER", loader)
    parsed = positions_module.load_yaml_text(text, "m.yaml")
    assert parsed.diagnostics == reference.diagnostics == []
    assert parsed.data == reference.data
    assert parsed.source == reference.source
    assert parsed.source.value(("roles", 0, "permissions", 1)) == Location("m.yaml", 17, 35)
    assert parsed.source.scalars[("policy", "allow_delete")] == "false"
