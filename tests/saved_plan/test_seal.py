"""The seal's fingerprints: keyed by salt and credential, canonical, streamable."""

from __future__ import annotations

from authform.saved_plan.seal import Sealer, canonical

SALT = bytes(range(16))


def test_a_tag_depends_on_salt_credential_and_label():
    base = Sealer(SALT, "sk_a").tag("user.u1\x00password_hash", "$2b$10$x")
    assert base == Sealer(SALT, "sk_a").tag("user.u1\x00password_hash", "$2b$10$x")
    assert base != Sealer(bytes(16), "sk_a").tag("user.u1\x00password_hash", "$2b$10$x")
    assert base != Sealer(SALT, "sk_b").tag("user.u1\x00password_hash", "$2b$10$x")
    # The same digest for two users has two fingerprints: nothing links them.
    assert base != Sealer(SALT, "sk_a").tag("user.u2\x00password_hash", "$2b$10$x")
    assert "$2b$10$x" not in base and base.startswith("hmac-sha256:")


def test_canonical_form_ignores_key_order_and_container_type():
    assert canonical({"b": (1, 2), "a": "é"}) == canonical({"a": "é", "b": [1, 2]})
    assert canonical({"a": 1}) == b'{"a":1}'


def test_a_stream_is_order_sensitive_and_line_separated():
    """One canonical line per change, in order: the form a streamed plan can grow into."""
    sealer = Sealer(SALT, "sk")
    assert sealer.stream_tag("c", [{"a": 1}, {"b": 2}]) != sealer.stream_tag(
        "c", [{"b": 2}, {"a": 1}]
    )
    assert sealer.stream_tag("c", ["ab"]) != sealer.stream_tag("c", ["a", "b"])
    assert sealer.stream_tag("c", []) != sealer.stream_tag("d", [])


def test_tags_are_the_documented_hmac_with_or_without_openssls_own_object(monkeypatch):
    """Tags and streams are HMAC-SHA256 as ``hmac.new`` computes it, whether the sealer
    uses OpenSSL's object directly or (without one) ``hmac``'s: plans sealed either way
    verify either way."""
    import hashlib
    import hmac

    from authform.saved_plan import seal

    def documented(sealer: Sealer, data: bytes) -> str:
        key = hmac.new(SALT, seal._KEY_CONTEXT + b"sk", hashlib.sha256).digest()
        return "hmac-sha256:" + hmac.new(key, data, hashlib.sha256).hexdigest()

    for openssl in (seal._openssl_hmac, None):
        monkeypatch.setattr(seal, "_openssl_hmac", openssl)
        sealer = Sealer(SALT, "sk")
        assert sealer.tag("user.u1", "zoë") == documented(sealer, b'user.u1\x00"zo\xc3\xab"')
        assert sealer.stream_tag("c", [{"b": 1}, "x"]) == documented(sealer, b'c\x00{"b":1}\n"x"\n')
