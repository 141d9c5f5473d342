"""Building the exported documents from live resources, without a provider."""

from __future__ import annotations

import yaml

from authform.export import WORKOS, build_export, escape_interpolation, generated_key
from authform.resources import Kind, Resource


def org(key: str, name: str, provider_id: str, *, unkeyed: bool = False) -> Resource:
    return Resource(
        Kind.ORGANIZATION,
        key,
        {"name": name, "domains": [], "metadata": {}},
        provider_id=provider_id,
        observed={"unkeyed": unkeyed},
    )


def test_generated_keys_are_readable_and_stable() -> None:
    assert generated_key("Acme Inc.", "org_01ABC", set()) == "acme-inc"
    assert generated_key("Acme Inc.", "org_01ABCDEFGH", {"acme-inc"}) == "acme-inc-abcdefgh"
    assert generated_key("日本", "org_01XYZ", set()) == "org-org01xyz"
    long = generated_key("x" * 100, "org_1", set())
    assert len(long) <= 48 and long == "x" * 48


def test_interpolation_is_escaped() -> None:
    assert escape_interpolation("cost ${price}") == "cost $${price}"
    assert escape_interpolation("$${kept}") == "$$${kept}"


def test_documents_are_sorted_and_independent_of_read_order() -> None:
    live = [
        org("(no external_id) org_2", "Zeta", "org_2", unkeyed=True),
        org("beta", "Beta", "org_3"),
        org("alpha", "Alpha", "org_1"),
        Resource(Kind.REDIRECT_URI, "https://b.example/cb", {"uri": "https://b.example/cb"}),
        Resource(Kind.REDIRECT_URI, "https://a.example/cb", {"uri": "https://a.example/cb"}),
    ]
    first = build_export(live, WORKOS, with_client_id=False, with_base_url=False)
    second = build_export(list(reversed(live)), WORKOS, with_client_id=False, with_base_url=False)
    assert first.documents == second.documents
    organizations = yaml.safe_load(first.documents["organizations.yaml"])["organizations"]
    assert [o["key"] for o in organizations] == ["alpha", "beta", "zeta"]
    uris = yaml.safe_load(first.documents["redirect_uris.yaml"])["redirect_uris"]
    assert uris == ["https://a.example/cb", "https://b.example/cb"]
    # Every kind the profile reads gets its file, even when empty: the kind is then managed.
    assert yaml.safe_load(first.documents["permissions.yaml"]) == {"permissions": []}
    target = yaml.safe_load(first.documents["target.yaml"])["target"]
    assert target == {"provider": "workos", "api_key": "${env:WORKOS_API_KEY}"}
    assert "client_id" in first.documents["target.yaml"]  # as a commented hint
