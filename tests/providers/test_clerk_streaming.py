"""The Clerk target's read holds nothing that grows with the users.

Users, organizations and memberships are read a page at a time and yielded as they come; the
desired side they are matched against is looked up on disk
(``authform.providers.desired_directory``) and the ids go to the command's store. A tenant of
two thousand users, seeded into the emulator at start, is read while a tracemalloc peak stays
far below what holding its users (the API's pages or the desired resources) would take.
Bounded: 2,000 users, about fifty requests of a hundred items.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from authform.emulators.server import RunningEmulator, start_emulator
from authform.providers.clerk import ClerkProvider
from authform.providers.http import RateLimit
from authform.resources import Kind, Resource, membership_key
from providers.traced import traced_peak  # tests/providers, as pytest imports it

USERS = 2_000
ORGS = 20
# Held whole (the read before it streamed: ``read`` collecting every page, desired users in
# dicts), 2,000 users peaked at 11.5 MB; streamed, a page of a hundred users and the
# directory's batches: 2.7 MB.
PEAK_LIMIT = 4_000_000


class GeneratedDesired:
    """A desired state made afresh on each pass, like the on-disk index's (a collection that
    holds none of its items): organizations, users, one membership each but the last user's,
    and one user whose address differs from the live one in case only."""

    def __iter__(self) -> Iterator[Resource]:
        for n in range(ORGS):
            yield Resource(
                Kind.ORGANIZATION, f"org-{n}", {"name": f"Org {n}", "domains": [], "metadata": {}}
            )
        for n in range(USERS):
            email = f"U{n}@x.io" if n == 7 else f"u{n}@x.io"
            spec = {"email": email, "first_name": "F", "last_name": "L", "email_verified": True}
            yield Resource(Kind.USER, f"u{n}", spec)
        for n in range(USERS - 1):
            spec = {"user": f"u{n}", "organization": f"org-{n % ORGS}", "role": "org:member"}
            yield Resource(Kind.MEMBERSHIP, membership_key(f"u{n}", f"org-{n % ORGS}"), spec)


@pytest.fixture
def seeded_clerk(tmp_path: Path) -> Iterator[RunningEmulator]:
    seed = {
        "organizations": [
            {"id": f"org_{n:04d}", "name": f"Org {n}", "slug": f"org-{n}"} for n in range(ORGS)
        ],
        "users": [
            {
                "id": f"user_{n:06d}",
                "external_id": f"u{n}",
                "email_addresses": [f"u{n}@x.io"],
                "first_name": "F",
                "last_name": "L",
            }
            for n in range(USERS - 1)
        ],
        "memberships": [
            {
                "organization": f"org_{n % ORGS:04d}",
                "user_id": f"user_{n:06d}",
                "role": "org:member",
            }
            for n in range(USERS - 1)
        ],
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    emulator = start_emulator("clerk", seed=path)
    try:
        yield emulator
    finally:
        emulator.stop()


def test_a_read_of_thousands_of_users_streams_and_matches_on_disk(
    seeded_clerk: RunningEmulator,
) -> None:
    provider = ClerkProvider(
        secret_key=seeded_clerk.api_key,
        base_url=seeded_clerk.url,
        rate_limits={"instance": RateLimit(1000, 1.0)},
        page_size=100,
    )
    desired = GeneratedDesired()
    kinds = {Kind.ORGANIZATION, Kind.USER, Kind.MEMBERSHIP}

    async def read_counting() -> tuple[dict[Kind, int], list[Resource]]:
        counts = dict.fromkeys(kinds, 0)
        kept = []
        async for resource in provider.read_stream(kinds, desired):
            counts[resource.kind] += 1
            if resource.key in ("u7", membership_key("u1998", f"org-{1998 % ORGS}")):
                kept.append(resource)
        return counts, kept

    async def step() -> tuple[dict[Kind, int], list[Resource], int]:
        try:
            await provider.http.get_json("/instance")  # the client's set-up, before
            (counts, kept), peak = await traced_peak(read_counting)
            return counts, kept, peak
        finally:
            await provider.aclose()

    counts, kept, peak = asyncio.run(step())
    assert counts == {Kind.ORGANIZATION: ORGS, Kind.USER: USERS - 1, Kind.MEMBERSHIP: USERS - 1}
    by_key = {resource.key: resource for resource in kept}
    # Matched on disk: the desired address's case is kept (a change of case alone is none).
    assert by_key["u7"].spec["email"] == "U7@x.io"
    # The ids went to the store, and memberships were keyed through it.
    member = by_key[membership_key("u1998", f"org-{1998 % ORGS}")]
    assert member.spec == {"user": "u1998", "organization": "org-18", "role": "org:member"}
    assert provider.ids[Kind.USER]["u1998"] == "user_001998"
    assert peak < PEAK_LIMIT, f"peak {peak:,} bytes reading {USERS:,} users"
