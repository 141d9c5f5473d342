"""Field rules of the manifest models: formats, normalization, limits, secrets."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from authform.manifest import models
from authform.manifest.models import (
    Manifest,
    Organization,
    check_base_url,
    check_multiline,
    check_permission_slug,
    check_redirect_uri,
    check_role_slug,
    check_single_line,
    is_loopback,
    normalize_cors_origin,
    normalize_domain,
)
from authform.social import SOCIAL_PROVIDERS

from .conftest import HEADER, Problems, Write


def _all_models() -> list[type[BaseModel]]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == models.__name__
        and not value.__name__.startswith("_")
    ]


def _is_secret(annotation: object) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


# --- slugs and keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug", ["billing:manage", "a", "docs.read", "org:feature:action", "x_y-z", "*", "9"]
)
def test_valid_permission_slugs(slug: str) -> None:
    if slug == "*":
        with pytest.raises(ValueError):
            check_permission_slug(slug)  # must start with a letter or digit
    else:
        assert check_permission_slug(slug) == slug


@pytest.mark.parametrize("slug", ["Billing", "billing manage", ":x", "-x", "é", "a/b", "a@b"])
def test_invalid_permission_slugs(slug: str) -> None:
    with pytest.raises(ValueError, match="invalid permission slug"):
        check_permission_slug(slug)


def test_wildcard_permissions_follow_workos() -> None:
    assert check_permission_slug("documents:*") == "documents:*"
    with pytest.raises(ValueError, match=r"^invalid role slug 'admin\*': use lowercase"):
        check_role_slug("admin*")


def test_role_slugs_allow_clerk_style_keys() -> None:
    assert check_role_slug("org:admin") == "org:admin"


# --- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\x07b", "contains the control character U+0007"),
        ("a\nb", "contains the control character U+000A"),
        ("a\u202eb", "contains the control character U+202E"),  # right-to-left override
        ("a\u200bb", "contains the control character U+200B"),  # zero-width space
        (" padded", "must not start or end with whitespace"),
    ],
)
def test_single_line_text(value: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        check_single_line(value)
    assert str(raised.value) == message


def test_prose_allows_newlines_and_tabs_only() -> None:
    assert check_multiline("line one\n\tline two") == "line one\n\tline two"
    with pytest.raises(ValueError, match=r"U\+001B"):
        check_multiline("\x1b[31mred")


# --- domains -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("Mail.ACME.co.uk", "mail.acme.co.uk"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.io", "a-b.io"),
        (f"{'a' * 63}.com", f"{'a' * 63}.com"),
    ],
)
def test_domains_are_normalized(value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("acme", "'acme' is not a valid domain name"),
        ("-acme.com", "'-acme.com' is not a valid domain name"),
        ("acme..com", "'acme..com' is not a valid domain name"),
        ("acme.com.", "'acme.com.' is not a valid domain name"),
        ("*.acme.com", "'*.acme.com' is not a valid domain name"),
        ("10.0.0.1", "'10.0.0.1' is not a valid domain name"),
        (f"{'a' * 64}.com", f"'{'a' * 57}... (68 characters)' is not a valid domain name"),
        ("acme.com:443", "'acme.com:443' is not a valid domain name"),
        (
            "https://acme.com",
            "'https://acme.com' is a URL; write just the domain, e.g. 'example.com'",
        ),
        ("bücher.de", "'bücher.de' is not ASCII; write the punycode form (xn--...)"),
    ],
)
def test_invalid_domains(value: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        normalize_domain(value)
    assert str(raised.value) == message


# --- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("128.0.0.1", False),
        ("localhost.example.com", False),
        ("0.0.0.0", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/callback",
        "https://App.Example.com/Call?x=1",  # kept verbatim: redirect URIs match exactly
        "http://localhost:3000/callback",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
    ],
)
def test_valid_redirect_uris(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "http://app.example.com/cb",
            "redirect URI must use https (http is allowed only for localhost, 127.0.0.0/8 "
            "and ::1), got 'http://app.example.com/cb'",
        ),
        ("/callback", "redirect URI must be an absolute http(s) URL, got '/callback'"),
        (
            "myapp://callback",
            "redirect URI must be an absolute http(s) URL, got 'myapp://callback'",
        ),
        ("https://app.example.com/cb#frag", "redirect URI must not have a fragment (#...)"),
        (
            "https://user:pw@app.example.com/",
            "redirect URI must not contain credentials (user:password@)",
        ),
        (
            "https://app.example.com:99999/",
            "redirect URI has an invalid port: 'https://app.example.com:99999/'",
        ),
        ("https://app.example.com/a b", "redirect URI must not contain whitespace"),
    ],
)
def test_invalid_redirect_uris(uri: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        check_redirect_uri(uri)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://app.example.com", "https://app.example.com"),
        ("HTTPS://App.Example.COM", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("https://app.example.com:8443", "https://app.example.com:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:80", "http://[::1]"),
    ],
)
def test_cors_origins_are_normalized(origin: str, expected: str) -> None:
    assert normalize_cors_origin(origin) == expected


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        (
            "https://app.example.com/",
            "CORS origin must be scheme://host[:port] with no path; remove the trailing '/'",
        ),
        ("https://app.example.com/app", "CORS origin must be scheme://host[:port] with no path"),
        ("https://app.example.com?x", "CORS origin must be scheme://host[:port] with no path"),
        ("app.example.com", "CORS origin must be an absolute http(s) URL, got 'app.example.com'"),
        (
            "http://app.example.com",
            "CORS origin must use https (http is allowed only for localhost, 127.0.0.0/8 and "
            "::1), got 'http://app.example.com'",
        ),
    ],
)
def test_invalid_cors_origins(origin: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        normalize_cors_origin(origin)
    assert str(raised.value) == message


def test_base_url_rules() -> None:
    assert check_base_url("https://api.workos.com") == "https://api.workos.com"
    assert check_base_url("https://acme.scalekit.dev/api") == "https://acme.scalekit.dev/api"
    with pytest.raises(ValueError, match="^base_url must not have a query or fragment$"):
        check_base_url("https://api.workos.com/?debug=1")


# --- whole models --------------------------------------------------------------------------


def test_every_model_forbids_unknown_keys() -> None:
    found = _all_models()
    assert {m.__name__ for m in found} >= {"Manifest", "Target", "Role", "Users", "ClerkApiSource"}
    assert all(m.model_config.get("extra") == "forbid" for m in found)


def test_secret_fields_are_secret_str_and_listed() -> None:
    secret = {
        name
        for model in _all_models()
        for name, field in model.model_fields.items()
        if _is_secret(field.annotation)
    }
    assert (
        secret
        == models.SECRET_FIELDS
        == {
            "api_key",
            "client_secret",
            "password",
            "secret_key",
            "database_url",
        }
    )


def test_social_provider_names_come_from_social_module() -> None:
    schema = Manifest.model_json_schema()
    provider = schema["$defs"]["SocialConnection"]["properties"]["provider"]
    assert provider["enum"] == sorted(SOCIAL_PROVIDERS)


def test_organization_defaults() -> None:
    org = Organization.model_validate(
        {"key": "acme", "name": "Acme", "domains": [{"domain": "A.io"}]}
    )
    assert org.domains[0].domain == "a.io"
    assert org.domains[0].state == "pending"
    assert org.metadata == {}


def test_models_are_immutable() -> None:
    org = Organization.model_validate({"key": "acme", "name": "Acme"})
    with pytest.raises(ValidationError):
        org.name = "Other"  # type: ignore[misc]


def test_metadata_limits(write: Write, problems: Problems) -> None:
    too_many = ", ".join(f"k{i}: v" for i in range(51))
    write(
        "m.yaml",
        HEADER,
        f"""\
        organizations:
          - {{key: a, name: A, metadata: {{{too_many}}}}}
          - key: b
            name: B
            metadata:
              {"k" * 41}: v
              ok: {"v" * 601}
              "": empty key
              nested: {{a: b}}
        """,
    )
    assert problems("m.yaml") == [
        "m.yaml:4:33: organizations[0].metadata: too many entries: 51 (at most 50)",
        f"m.yaml:8:7: organizations[1].metadata.{'k' * 41}: too long: 41 characters (at most 40)",
        "m.yaml:9:11: organizations[1].metadata.ok: too long: 601 characters (at most 600)",
        "m.yaml:10:7: organizations[1].metadata['']: must not be empty",
        "m.yaml:11:15: organizations[1].metadata.nested: expected a string, got a mapping",
    ]
