"""The live side of the on-disk index: rows a provider hands over already in the index's
form (``LiveRows``) read back as the resources they describe, everywhere the index gives
live items back, with the same fingerprint; and a key read twice keeps its last row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from authform.engine.index import StateIndex, canonical_json
from authform.engine.live_rows import LiveRows
from authform.resources import Kind, Resource

LIVE = [
    Resource(
        Kind.USER,
        "user_1",
        {
            "email": "zoe@example.com",
            "first_name": 'Zoë "Z" \\',
            "oauth_accounts": [{"provider": "github", "provider_account_id": "7"}],
        },
        provider_id="usr_1",
        observed={"unkeyed": False, "password_row": True, "metadata": {"plan": "pro"}},
    ),
    Resource(
        Kind.USER,
        "(no external_id) usr_2",
        {"email": "native@example.com", "first_name": "", "oauth_accounts": []},
        provider_id="usr_2",
        observed={"unkeyed": True},
    ),
    Resource(
        Kind.MEMBERSHIP,
        "user_1@acme",
        {"organization": "acme", "role": "admin", "user": "user_1"},
        provider_id="mem_1",
    ),
]


def _as_rows(resources: Iterable[Resource]) -> list[LiveRows]:
    pages: dict[Kind, LiveRows] = {}
    for r in resources:
        pages.setdefault(r.kind, LiveRows(r.kind)).add(
            r.key, canonical_json(r.spec), r.provider_id, r.observed
        )
    return list(pages.values())


def _stream(items: list[Resource | LiveRows]) -> AsyncIterator[Resource | LiveRows]:
    async def stream() -> AsyncIterator[Resource | LiveRows]:
        for item in items:
            yield item

    return stream()


def test_live_rows_read_back_as_the_resources_they_describe() -> None:
    from_rows, from_resources = StateIndex(), StateIndex()
    try:
        assert asyncio.run(from_rows.add_live_stream(_stream([*_as_rows(LIVE)]))) == 3
        from_resources.add_live(LIVE)
        desired = [
            Resource(Kind.USER, "user_1", {**LIVE[0].spec, "first_name": "Zoe"}),
            Resource(Kind.MEMBERSHIP, "user_1@acme", dict(LIVE[2].spec)),
        ]
        for index in (from_rows, from_resources):
            index.add_desired(desired)
        assert list(from_rows.live()) == list(from_resources.live())
        assert sorted(from_rows.live(), key=lambda r: r.key) == sorted(LIVE, key=lambda r: r.key)
        assert from_rows.live_fingerprint() == from_resources.live_fingerprint()
        assert from_rows.unkeyed(Kind.USER) == [LIVE[1]]
        assert list(from_rows.live_only(Kind.USER)) == [LIVE[1]]
        # Only the user differs; its live twin comes back whole, the equal membership not.
        assert [(d.key, live) for d, live in from_rows.pairs(Kind.USER)] == [("user_1", LIVE[0])]
        assert list(from_rows.pairs(Kind.MEMBERSHIP)) == []
        checks = {p.address: p for p in from_rows.verify_pairs([Kind.USER, Kind.MEMBERSHIP])}
        assert checks["user.user_1"].live == LIVE[0] and not checks["user.user_1"].equal
        assert checks["membership.user_1@acme"].equal and checks["membership.user_1@acme"].found
        # ``LiveRows.resources`` (a provider's ``read``) gives the same items.
        assert [r for page in _as_rows(LIVE) for r in page.resources()] == LIVE
    finally:
        from_rows.close()
        from_resources.close()


def _role(key: str, provider_id: str) -> Resource:
    return Resource(Kind.ROLE, key, {"slug": key}, provider_id=provider_id)


def test_a_key_read_twice_keeps_its_last_row() -> None:
    index = StateIndex()
    try:
        index.add_live([_role("a", "1"), _role("b", "2"), _role("a", "3")])
        rows = asyncio.run(index.add_live_stream(_stream(_as_rows([_role("b", "4")]))))
        assert rows == 1
        assert [(r.key, r.provider_id) for r in index.live()] == [("a", "3"), ("b", "4")]
        assert index.count("live", Kind.ROLE) == 2
        # Rows written after the side was read: the last row of a key still wins.
        index.add_live([_role("a", "5")])
        assert [(r.key, r.provider_id) for r in index.live(Kind.ROLE)] == [("a", "5"), ("b", "4")]
        index.clear_live()
        index.add_live([_role("c", "6")])
        assert [r.key for r in index.live()] == ["c"]
    finally:
        index.close()
