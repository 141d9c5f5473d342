"""The small rules of the KavachOS target, without a database."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from authform.engine.index import IndexedResources, StateIndex
from authform.providers.kavachos.canary import check_canary, kavachos_scrypt_matches
from authform.providers.kavachos.desired import DesiredFacts, DesiredUsers
from authform.providers.kavachos.live import LiveIndex
from authform.providers.kavachos.schema import Encoding, Family, encoding_for
from authform.providers.kavachos.writes import RESET_MARKER, SLUG_PATTERN, slug_for
from authform.resources import Kind, Resource
from authform.sources.records import BcryptHash

from .test_import import kavachos_scrypt


@pytest.mark.parametrize(
    ("key", "metadata", "name", "expected"),
    [
        ("org_2aAcme", {"clerk_slug": "acme"}, "Acme", "acme"),
        ("acme", {}, "Acme Inc", "acme"),
        ("Big_Corp.EU", {}, "Big Corp", "big-corp-eu"),
        ("org_x", {"clerk_slug": "--Weird  Slug!!"}, "W", "weird-slug"),
        ("___", {}, "Ünïcode Ltd", "n-code-ltd"),
        ("___", {}, "!!!", "org"),
    ],
)
def test_slugs_follow_kavachos_rules(key: str, metadata: dict, name: str, expected: str) -> None:
    spec = {"name": name, "metadata": metadata, "domains": []}
    slug = slug_for(key, spec, LiveIndex(), key)
    assert slug == expected
    assert SLUG_PATTERN.match(slug)


def test_a_taken_slug_gets_a_stable_suffix() -> None:
    index = LiveIndex(slugs={"acme": "org_someone_else"})
    spec = {"name": "Acme", "metadata": {"clerk_slug": "acme"}, "domains": []}
    first = slug_for("org_2aAcme", spec, index, "org_2aAcme")
    assert first != "acme" and first.startswith("acme-") and SLUG_PATTERN.match(first)
    assert slug_for("org_2aAcme", spec, index, "org_2aAcme") == first  # same on every run
    assert slug_for("org_2aAcme", spec, LiveIndex(slugs={"acme": "org_2aAcme"}), "org_2aAcme") == (
        "acme"  # its own slug is not a clash
    )


@pytest.mark.parametrize(
    ("family", "found", "postgres", "encoding"),
    [
        (Family.SECONDS, "INTEGER", False, Encoding.SECONDS),
        (Family.MILLIS, "INTEGER", False, Encoding.MILLIS),
        (Family.SECONDS, "timestamp with time zone", True, Encoding.DATETIME),
        (Family.SECONDS, "integer", True, Encoding.SECONDS),
        (Family.MILLIS, "bigint", True, Encoding.MILLIS),
        (Family.BOOLEAN, "boolean", True, Encoding.BOOL),
        (Family.BOOLEAN, "INTEGER", False, Encoding.INT_BOOL),
        (Family.JSON, "jsonb", True, Encoding.JSONB),
        (Family.JSON, "TEXT", False, Encoding.JSON_TEXT),
        (Family.SECONDS, "TEXT", False, None),
        (Family.BOOLEAN, "text", True, None),
        (Family.JSON, "integer", True, None),
    ],
)
def test_the_column_found_decides_the_encoding(
    family: Family, found: str, postgres: bool, encoding: Encoding | None
) -> None:
    assert encoding_for(family, found, postgres=postgres) == encoding


def test_kavachos_scrypt_format() -> None:
    stored = kavachos_scrypt("hunter2")
    assert kavachos_scrypt_matches("hunter2", stored)
    assert not kavachos_scrypt_matches("hunter3", stored)
    assert not kavachos_scrypt_matches("hunter2", "not-a-digest")


def test_canary_outcomes_say_what_sign_in_needs() -> None:
    assert not check_canary("x", None, account_verified=True, has_account=False).ok
    reset = check_canary("x", RESET_MARKER, account_verified=True, has_account=True)
    assert not reset.ok and "password reset" in reset.detail
    unverified = check_canary(
        "hunter2", kavachos_scrypt("hunter2"), account_verified=False, has_account=True
    )
    assert not unverified.ok and "requireVerification" in unverified.detail


def _desired_import() -> list[Resource]:
    users = [
        Resource(
            Kind.USER,
            f"user_{n}",
            {"email": f"u{n}@example.com", "first_name": f"F{n}", "last_name": "L"},
            create_only={"password_hash": BcryptHash("$2b$10$" + "a" * 53)} if n % 2 else {},
        )
        for n in range(4)
    ]
    organizations = [
        Resource(Kind.ORGANIZATION, f"org_{n}", {"name": f"Org {n}", "domains": [], "metadata": {}})
        for n in range(2)
    ]
    memberships = [
        Resource(
            Kind.MEMBERSHIP,
            f"user_{u}@org_{o}",
            {"user": f"user_{u}", "organization": f"org_{o}", "role": role},
        )
        for u, o, role in ((0, 0, "member"), (1, 0, "admin"), (2, 1, "member"), (3, 1, "owner"))
    ]
    return [*organizations, *users, *memberships]


@pytest.mark.parametrize("form", ["re-iterable", "one-shot iterator", "on-disk index"])
def test_desired_facts_from_one_pass_give_each_owner_back_whole(form: str) -> None:
    """Users come before the memberships that make them owners, so the owners' whole
    resources are kept when one is first asked for: looked up by key in the on-disk index
    (the command's desired state), found by a second pass over a plain collection, or, from
    a desired state that can be read only once, kept for every user in the first pass."""
    desired = _desired_import()
    index = StateIndex()
    index.add_desired(desired)
    source: Iterable[Resource] = {
        "re-iterable": desired,
        "one-shot iterator": iter(desired),
        "on-disk index": IndexedResources(index),
    }[form]
    facts = DesiredFacts.gather(source)
    try:
        assert facts.owners == {"org_0": "user_1", "org_1": "user_3"}
        assert facts.password_digests == 2
        assert facts.organizations == ["org_0", "org_1"]
        assert facts.membership_roles == {"member": 2, "admin": 1, "owner": 1}
        assert facts.owner_of("org_1") == desired[5]  # user_3, with its password digest
        assert facts.owner_of("org_0") == desired[3]
        assert facts.owner_of("org_9") is None
        assert facts.users.get_many(["user_2"])["user_2"].first_name == "F2"
    finally:
        facts.close()
        index.close()


def test_desired_spec_texts_are_the_same_looked_up_by_range_or_key_by_key() -> None:
    """A page of keys in ascending order is looked up as one range of the index (when it
    holds few more users than the page has keys), any other page key by key: the texts are
    the same, a key's last row winning, whichever way."""
    users = [
        Resource(Kind.USER, f"user_{n:03d}", {"email": f"u{n}@example.com", "first_name": f"F{n}"})
        for n in range(0, 200, 2)
    ]
    again = Resource(Kind.USER, "user_010", {"email": "later@example.com", "first_name": "L"})
    index = StateIndex()
    index.add_desired([*users, again])
    facts = DesiredFacts.gather(IndexedResources(index))
    try:
        texts = facts.users.spec_texts
        one_by_one = facts.users.get_many
        for keys in (
            ["user_004", "user_010", "user_011", "user_012"],  # ascending, dense: a range
            ["user_012", "user_004", "user_010"],  # not ascending: key by key
            ["user_000", "user_198"],  # ascending but far apart: key by key
            ["user_010", "user_010"],  # the same key twice
            ["user_999"],
        ):
            found = texts(keys)
            assert (
                set(found)
                == set(one_by_one(keys))
                == {k for k in keys if k != "user_011"} - {"user_999"}
            )
            for key, text in found.items():
                assert DesiredUsers.user_of(text) == one_by_one([key])[key]
        assert "later@example.com" in texts(["user_008", "user_010"])["user_010"]
    finally:
        facts.close()
        index.close()
