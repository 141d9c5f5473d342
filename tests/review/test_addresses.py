"""Address patterns, without I/O: what `*` means, and that nothing else is special."""

from __future__ import annotations

import pytest

from authform.addresses import AddressPattern, AddressPatternError
from authform.resources import Kind


@pytest.mark.parametrize(
    ("pattern", "kind", "key", "matches"),
    [
        ("role.admin", Kind.ROLE, "admin", True),
        ("role.admin", Kind.ROLE, "administrator", False),
        ("role.admin", Kind.PERMISSION, "admin", False),
        ("user.*", Kind.USER, "user_2abc", True),
        ("user.*", Kind.MEMBERSHIP, "user_2abc@org_1", False),
        ("membership.*@acme", Kind.MEMBERSHIP, "user_2abc@acme", True),
        ("membership.*@acme", Kind.MEMBERSHIP, "user_2abc@acme2", False),
        ("organization.sandbox-*", Kind.ORGANIZATION, "sandbox-eu", True),
        ("redirect_uri.https://a.example/*", Kind.REDIRECT_URI, "https://a.example/x/y", True),
        # `?` and `[` are literal: real redirect URIs hold them.
        (
            "redirect_uri.https://a.example/cb?x=1",
            Kind.REDIRECT_URI,
            "https://a.example/cb?x=1",
            True,
        ),
        (
            "redirect_uri.https://a.example/cb?x=1",
            Kind.REDIRECT_URI,
            "https://a.example/cbax=1",
            False,
        ),
        ("permission.[a]", Kind.PERMISSION, "a", False),
        ("permission.billing:manage", Kind.PERMISSION, "billing:manage", True),
    ],
)
def test_matching(pattern, kind, key, matches):
    assert AddressPattern.parse(pattern).matches(kind, key) is matches


@pytest.mark.parametrize("text", ["", "role", ".x", "role.", "roles.admin", "*.admin"])
def test_patterns_that_name_nothing_are_refused(text):
    with pytest.raises(AddressPatternError):
        AddressPattern.parse(text)
