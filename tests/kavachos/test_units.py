"""The small rules of the KavachOS target, without a database."""

from __future__ import annotations

import pytest

from authform.providers.kavachos.canary import check_canary, kavachos_scrypt_matches
from authform.providers.kavachos.live import LiveIndex
from authform.providers.kavachos.schema import Encoding, Family, encoding_for
from authform.providers.kavachos.writes import RESET_MARKER, SLUG_PATTERN, slug_for

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
