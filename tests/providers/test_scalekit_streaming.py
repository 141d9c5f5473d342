"""Scalekit's read, writes and plan caveats hold nothing that grows with the users.

The read streams users (and the memberships Scalekit embeds in them) a page at a time and
looks the desired side up on disk (``authform.providers.desired_directory``); the caveats
count users there. A tenant of two thousand users, seeded straight into the emulator's
backend, is read while a tracemalloc peak stays far below what holding its users (the API's
pages or the desired resources) would take. Bounded: 2,000 users, about fifty requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from authform.emulators import RunningEmulator
from authform.providers.http import RateLimit
from authform.providers.scalekit import ScalekitProvider
from authform.resources import Kind, Resource, membership_key
from providers.traced import traced_peak  # tests/providers, as pytest imports it

USERS = 2_000
ORGS = 20
BCRYPT = "$2b$10$" + "a" * 53
# Held whole (the read before it streamed), 2,000 users' API answers and their desired twins
# peaked at 8.5 MB; streamed, a page of a hundred users and a batch of rows: 1.6 MB.
PEAK_LIMIT = 3_000_000


class GeneratedDesired:
    """A desired state made afresh on each pass, like the on-disk index's (a collection that
    holds none of its items): organizations, users with a hash, one membership each (but
    the last user, who has none)."""

    def __iter__(self) -> Iterator[Resource]:
        for n in range(ORGS):
            yield Resource(Kind.ORGANIZATION, f"o{n}", {"name": f"Org {n}", "domains": []})
        for n in range(USERS):
            spec = {"email": f"u{n}@x.io", "first_name": "F", "last_name": "L"}
            yield Resource(
                Kind.USER,
                f"u{n}",
                {**spec, "email_verified": n % 2 == 0},
                create_only={"password_hash": BCRYPT},
            )
        for n in range(USERS - 1):
            spec = {"user": f"u{n}", "organization": f"o{n % ORGS}", "role": "member"}
            yield Resource(Kind.MEMBERSHIP, membership_key(f"u{n}", f"o{n % ORGS}"), spec)


def seed(emulator: RunningEmulator) -> None:
    backend = emulator.app.backend
    orgs = [
        backend.create_organization({"display_name": f"Org {n}", "external_id": f"o{n}"})
        for n in range(ORGS)
    ]
    for n in range(USERS - 1):
        backend.create_user_and_membership(
            orgs[n % ORGS]["id"],
            {
                "email": f"u{n}@x.io",
                "external_id": f"u{n}",
                "user_profile": {"given_name": "F", "family_name": "L"},
            },
            send_invitation=False,
        )


def test_a_read_of_thousands_of_users_streams_and_caveats_count_on_disk(
    scalekit_emulator: RunningEmulator,
) -> None:
    seed(scalekit_emulator)
    provider = ScalekitProvider(
        client_secret=scalekit_emulator.api_key,
        client_id=scalekit_emulator.client_id,
        base_url=scalekit_emulator.url,
        rate_limits={"general": RateLimit(1000, 1.0)},
    )
    desired = GeneratedDesired()
    kinds = {Kind.ORGANIZATION, Kind.USER, Kind.MEMBERSHIP}

    async def read_counting() -> dict[Kind, int]:
        counts = dict.fromkeys(kinds, 0)
        async for resource in provider.read_stream(kinds, desired):
            counts[resource.kind] += 1
        return counts

    async def step() -> tuple[dict[Kind, int], int, list[str]]:
        try:
            await provider.http.get_json("/api/v1/roles")  # the token, fetched before

            async def read_and_count_caveats() -> tuple[dict[Kind, int], list[str]]:
                counts = await read_counting()
                return counts, provider.plan_caveats(desired)  # type: ignore[arg-type]

            (counts, caveats), peak = await traced_peak(read_and_count_caveats)
            return counts, peak, caveats
        finally:
            await provider.aclose()

    counts, peak, caveats = asyncio.run(step())
    assert counts == {Kind.ORGANIZATION: ORGS, Kind.USER: USERS - 1, Kind.MEMBERSHIP: USERS - 1}
    text = "\n".join(caveats)
    assert f"{USERS} user(s) have a password hash" in text and "(u0, u1, u10, u100, u1000, " in text
    assert f"{USERS // 2} user(s) are unverified in the source" in text
    assert "1 user(s) have no organization membership" in text and f"(u{USERS - 1})" in text
    assert BCRYPT not in text
    assert peak < PEAK_LIMIT, f"peak {peak:,} bytes reading {USERS:,} users"
