"""The shared Clerk sample, end to end: every edge case in its README has an exact outcome."""

import bcrypt
import pytest

from authform.importing import ImportSet, build_import_set
from authform.resources import Kind
from authform.sources import (
    read_clerk_csv,
    read_clerk_json,
    read_clerk_memberships,
    read_clerk_organizations,
)

from . import FIXTURES

ACME, GLOBEX, EMPTY = (
    "org_2aAcme000000000000000001",
    "org_2aGlobx000000000000000002",
    "org_2aEmpty000000000000000003",
)


def uid(suffix: str) -> str:
    ids = {
        "001": "user_2aAda0000000000000000001",
        "002": "user_2aGrace00000000000000002",
        "003": "user_2aLinus00000000000000003",
        "004": "user_2aOauth00000000000000004",
        "005": "user_2aMulti00000000000000005",
        "006": "user_2aUnicd00000000000000006",
        "007": "user_2aUpper00000000000000007",
        "008": "user_2aBadHs00000000000000008",
        "009": "user_2aPbkdf00000000000000009",
        "010": "user_2aDupEm00000000000000010",
        "011": "user_2aPhone00000000000000011",
        "012": "user_2aQuote00000000000000012",
        "013": "user_2aTotp000000000000000013",
        "014": "user_2aUnver00000000000000014",
        "ghost": "user_2aGhost99999999999999999",
    }
    return ids[suffix]


def build(users_file: str, **options) -> ImportSet:
    reader = read_clerk_csv if users_file.endswith(".csv") else read_clerk_json
    return build_import_set(
        reader(FIXTURES / users_file),
        read_clerk_organizations(FIXTURES / "organizations.json"),
        read_clerk_memberships(FIXTURES / "memberships.json"),
        **options,
    )


@pytest.fixture(scope="module", params=["users.csv", "users.json"])
def imported(request) -> tuple[str, ImportSet]:
    return request.param, build(request.param)


def users_by_suffix(result: ImportSet):
    return {r.key[-3:]: r for r in result.users}


def test_imported_users_and_their_specs(imported):
    users_file, result = imported
    users = users_by_suffix(result)
    assert sorted(users) == [
        "002",
        "003",
        "004",
        "005",
        "006",
        "007",
        "008",
        "009",
        "012",
        "013",
        "014",
    ]
    assert all(r.kind is Kind.USER and r.key == uid(s) for s, r in users.items())
    assert users["002"].spec == {
        "email": "grace@example.com",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email_verified": True,
    }
    assert users["006"].spec["first_name"] == "José" and users["006"].spec["last_name"] == "Ñúñez"
    assert users["012"].spec["first_name"] == 'Robert "Bobby"'
    assert users["012"].spec["last_name"] == "Tables, Jr."
    assert users["007"].spec["email"] == "mixed.case@example.com"
    assert users["005"].spec["email"] == "jessica@atreides.example"
    # 014's only address is unverified in the CSV; the JSON export has no such flag.
    assert users["014"].spec["email_verified"] is (users_file == "users.json")


def test_bcrypt_digests_of_all_three_prefixes_pass_through_untouched(imported):
    _, result = imported
    users = users_by_suffix(result)
    known = {
        "002": ("$2b$", "cobol-forever-1959"),
        "003": ("$2y$", "penguin-power"),
        "006": ("$2b$", "contraseña-segura"),
    }
    for suffix, (prefix, password) in known.items():
        create_only = users[suffix].create_only
        assert create_only["password_hash_type"] == "bcrypt"
        digest = create_only["password_hash"]
        assert digest.startswith(prefix)
        assert bcrypt.checkpw(password.encode(), digest.encode())
    for suffix in ("005", "012", "013", "014"):
        assert users[suffix].create_only["password_hash_type"] == "bcrypt"
    for suffix in ("004", "007", "008", "009"):
        assert users[suffix].create_only == {}


def test_the_2a_digest_is_exactly_the_exported_one():
    # 001 conflicts with 010 and is not imported; without 010 its $2a$ digest imports as-is.
    users = [u for u in read_clerk_csv(FIXTURES / "users.csv") if not u.id.endswith("010")]
    result = build_import_set(users, [], [])
    ada = next(r for r in result.users if r.key == uid("001"))
    assert (
        ada.create_only["password_hash"]
        == "$2a$10$8xqbv31jOFj6jS2J4c63r.2YKKNyvFAo/on53i6Dg3hbds1mZ32ne"
    )
    assert bcrypt.checkpw(
        b"correct horse battery staple", ada.create_only["password_hash"].encode()
    )


def test_skips_and_caveats_in_source_order(imported):
    users_file, result = imported
    summary = [(s.kind, s.source_id, s.code, s.imported) for s in result.skipped]
    json_only = (
        [("user", uid("005"), "primary_email_unknown", True)] if users_file == "users.json" else []
    )
    assert summary == [
        ("user", uid("001"), "email_conflict", False),
        *json_only,
        ("user", uid("008"), "malformed_password_digest", True),
        ("user", uid("009"), "unsupported_password_hasher", True),
        ("user", uid("010"), "email_conflict", False),
        ("user", uid("011"), "phone_only", False),
        ("membership", f"{uid('001')}@{ACME}", "user_skipped", False),
        ("membership", f"{uid('ghost')}@{GLOBEX}", "user_not_in_export", False),
        ("membership", f"{uid('011')}@{GLOBEX}", "user_skipped", False),
    ]
    ext = "csv" if users_file.endswith(".csv") else "json"
    origins = {s.source_id: s.origin for s in result.skipped if s.kind == "user"}
    if ext == "csv":
        assert origins[uid("011")] == "users.csv:row 12"
    else:
        assert origins[uid("011")] == "users.json:item 11 (line 144)"


def test_skip_reasons_say_why(imported):
    _, result = imported
    reasons = {(s.source_id, s.code): s.reason for s in result.skipped}
    assert uid("010") in reasons[(uid("001"), "email_conflict")]
    assert uid("001") in reasons[(uid("010"), "email_conflict")]
    assert "ada@example.com" in reasons[(uid("001"), "email_conflict")]
    assert reasons[(uid("011"), "phone_only")].startswith("phone-only user: no email address")
    assert "pbkdf2_sha256" in reasons[(uid("009"), "unsupported_password_hasher")]
    assert "imported without a password" in reasons[(uid("008"), "malformed_password_digest")]
    ghost = reasons[(f"{uid('ghost')}@{GLOBEX}", "user_not_in_export")]
    assert ghost == f"its user {uid('ghost')} is not in the users export"
    phone = reasons[(f"{uid('011')}@{GLOBEX}", "user_skipped")]
    assert phone == f"its user {uid('011')} is not imported (phone_only)"


def test_totp_user_must_reenroll_and_the_secret_is_not_kept(imported):
    _, result = imported
    (notice,) = result.reenroll
    assert (notice.source_id, notice.email, notice.factors) == (
        uid("013"),
        "tess@example.com",
        ("totp",),
    )
    assert "JBSWY3DPEHPK3PXP" not in repr(result)


def test_organizations_with_metadata_and_the_empty_one(imported):
    _, result = imported
    assert [(o.kind, o.key, o.spec) for o in result.organizations] == [
        (
            Kind.ORGANIZATION,
            ACME,
            {
                "name": "Acme Inc",
                "domains": [],
                "metadata": {"tier": "enterprise", "clerk_slug": "acme"},
            },
        ),
        (
            Kind.ORGANIZATION,
            GLOBEX,
            {"name": "Globex", "domains": [], "metadata": {"clerk_slug": "globex"}},
        ),
        (
            Kind.ORGANIZATION,
            EMPTY,
            {"name": "Empty Org", "domains": [], "metadata": {"clerk_slug": "empty-org"}},
        ),
    ]


def test_memberships_with_current_and_legacy_role_keys(imported):
    _, result = imported
    assert [(m.kind, m.key, m.spec) for m in result.memberships] == [
        (
            Kind.MEMBERSHIP,
            f"{uid('002')}@{ACME}",
            {"user": uid("002"), "organization": ACME, "role": "member"},
        ),
        (
            Kind.MEMBERSHIP,
            f"{uid('005')}@{ACME}",
            {"user": uid("005"), "organization": ACME, "role": "member"},
        ),
        (
            Kind.MEMBERSHIP,
            f"{uid('003')}@{GLOBEX}",
            {"user": uid("003"), "organization": GLOBEX, "role": "admin"},
        ),
        (
            Kind.MEMBERSHIP,
            f"{uid('006')}@{GLOBEX}",
            {"user": uid("006"), "organization": GLOBEX, "role": "member"},
        ),
    ]
    assert not any(m.spec["organization"] == EMPTY for m in result.memberships)


def test_counts(imported):
    users_file, result = imported
    counts = result.counts
    assert (counts.users_total, counts.users_imported, counts.users_skipped) == (14, 11, 3)
    assert counts.users_with_several_emails == 1
    assert counts.users_primary_unknown == (1 if users_file == "users.json" else 0)
    assert (counts.users_with_password, counts.users_without_password) == (7, 4)
    assert counts.users_to_reenroll == 1
    assert (counts.orgs_total, counts.orgs, counts.orgs_skipped) == (3, 3, 0)
    assert (counts.memberships_total, counts.memberships, counts.memberships_skipped) == (7, 4, 3)
    expected = {
        "email_conflict": 2,
        "malformed_password_digest": 1,
        "unsupported_password_hasher": 1,
        "phone_only": 1,
        "user_skipped": 2,
        "user_not_in_export": 1,
    }
    if users_file == "users.json":
        expected["primary_email_unknown"] = 1
    assert counts.skipped_by_code == expected


def test_email_policies_on_the_multi_email_user():
    first = users_by_suffix(build("users.csv", email_policy="first"))
    assert first["005"].spec["email"] == "jessica@atreides.example"
    strict = build("users.csv", email_policy="skip-multi")
    assert "005" not in users_by_suffix(strict)
    (skip,) = [s for s in strict.skipped if s.source_id == uid("005")]
    assert skip.code == "multiple_emails_skipped" and not skip.imported
    assert "jessica@harkonnen.example" in skip.reason
    # ... and its membership follows it out.
    assert any(
        s.code == "user_skipped" and s.source_id.startswith(uid("005")) for s in strict.skipped
    )


def test_role_map_from_the_manifest_overlays_the_defaults():
    result = build("users.csv", role_map={"org:member": "viewer"})
    roles = {m.spec["user"][-3:]: m.spec["role"] for m in result.memberships}
    assert roles == {"002": "viewer", "005": "viewer", "003": "admin", "006": "member"}
