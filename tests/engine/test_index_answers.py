"""What the index answers of the desired side without reading its items back (what a
provider asks instead of unpickling every item): counts of a field's values, users carrying a
password digest, a few items by key. Each answer follows the rows as they are written and
removed, and a live page mixing plain rows with observed ones is stored in order."""

from __future__ import annotations

import asyncio

import pytest

from authform.engine.codec import dump_imported_states
from authform.engine.index import StateIndex, canonical_json
from authform.engine.live_rows import LiveRows
from authform.resources import Kind, Resource
from authform.sources.records import BcryptHash

DIGEST = "$2b$10$" + "a" * 53


def _member(user: str, role: str) -> Resource:
    spec = {"organization": "org_1", "role": role, "user": user}
    return Resource(Kind.MEMBERSHIP, f"{user}@org_1", spec)


def _user(key: str, digest: str | None, first: str = "F") -> Resource:
    create_only = {"password_hash": BcryptHash(digest), "password_hash_type": "bcrypt"}
    return Resource(
        Kind.USER,
        key,
        {"email": f"{key}@example.com", "first_name": first},
        create_only=create_only if digest is not None else {},
    )


@pytest.fixture
def index():
    index = StateIndex()
    yield index
    index.close()


def test_value_counts_follow_rows_written_and_removed(index: StateIndex) -> None:
    index.add_desired([_member("u1", "admin"), _member("u2", "member")])
    assert index.desired_value_counts(Kind.MEMBERSHIP, "role") == {"admin": 1, "member": 1}
    assert index.desired_values(Kind.MEMBERSHIP, "role") == {"admin", "member"}
    first, end = index.add_desired([_member("u3", "member"), _member("u4", "viewer")])
    assert index.desired_value_counts(Kind.MEMBERSHIP, "role") == {
        "admin": 1,
        "member": 2,
        "viewer": 1,
    }
    index.remove_desired(range(first, end))
    assert index.desired_values(Kind.MEMBERSHIP, "role") == {"admin", "member"}
    # Of some rows only.
    assert index.desired_value_counts(Kind.MEMBERSHIP, "role", seq=(first, end)) == {}


def test_password_digests_are_counted_from_every_way_users_are_written(
    index: StateIndex,
) -> None:
    # One at a time: the digest is read from the item itself; an empty one is no digest.
    index.add_desired([_user("u1", DIGEST), _user("u2", None), _user("u3", "")])
    assert index.password_digests(Kind.USER) == 1
    # A block of rows: the writer is told which carry one.
    writer = index.desired_writer(1)
    keys = ["u4", "u5"]
    specs = [{"email": "u4@example.com"}, {"email": "u5@example.com"}]
    writer.extend_rows(
        Kind.USER,
        keys,
        map(canonical_json, specs),
        dump_imported_states(Kind.USER, keys, specs, [{}, {}]),
        [True, False],
    )
    first, end = writer.close()
    assert index.password_digests(Kind.USER) == 2
    assert index.password_digests(Kind.USER, seq=(first, end)) == 1
    assert index.password_digests(Kind.MEMBERSHIP) == 0


def test_items_by_key_come_in_the_order_written(index: StateIndex) -> None:
    seq = index.add_desired([_user("u1", None, "Z"), _user("u2", None), _user("u1", None, "B")])
    states = index.desired_states_among(Kind.USER, ["u1", "u9"], seq)
    assert [state[2]["first_name"] for state in states] == ["Z", "B"]  # not spec order
    specs = index.desired_specs_among(Kind.USER, ["u2", "u1"], seq)
    assert [key for key, _ in specs] == ["u1", "u2", "u1"]
    assert specs[-1][1] == canonical_json(_user("u1", None, "B").spec)


def test_a_live_page_of_plain_and_observed_rows_is_stored_in_order(
    index: StateIndex,
) -> None:
    """A plain row is stored by its first columns alone, an observed one whole; a key read
    twice keeps its last row, whichever form each took."""
    page = LiveRows(Kind.USER)
    page.add("u1", '{"n":1}', "id1")
    page.add("u2", '{"n":2}', "id2", {"unkeyed": True, "probe": "hand-made"})
    page.add("u1", '{"n":3}', "id1", {"password_row": True})
    page.add("u3", '{"n":4}', "id3")

    async def stream():
        yield page

    assert asyncio.run(index.add_live_stream(stream())) == 4
    live = {r.key: r for r in index.live(Kind.USER)}
    assert live["u1"].spec == {"n": 3} and live["u1"].observed == {"password_row": True}
    assert live["u2"].observed == {"unkeyed": True, "probe": "hand-made"}
    assert live["u3"].spec == {"n": 4} and live["u3"].observed == {}
    assert [r.key for r in index.unkeyed(Kind.USER)] == ["u2"]
    assert list(page.resources()) == [
        Resource(Kind.USER, "u1", {"n": 1}, "id1"),
        Resource(Kind.USER, "u2", {"n": 2}, "id2", {"unkeyed": True, "probe": "hand-made"}),
        Resource(Kind.USER, "u1", {"n": 3}, "id1", {"password_row": True}),
        Resource(Kind.USER, "u3", {"n": 4}, "id3"),
    ]


@pytest.mark.parametrize(
    ("desired", "live", "settled"),
    [
        # Every live item has its desired twin, none missing: nothing to change.
        ([("u1", 1), ("u2", 2)], [("u2", 2), ("u1", 1)], True),
        ([], [], True),
        # A spec differs.
        ([("u1", 1), ("u2", 2)], [("u1", 1), ("u2", 3)], False),
        # As many items, but a desired key given twice and a live key no desired item has.
        ([("u1", 1), ("u1", 1)], [("u1", 1), ("u9", 1)], False),
        # A desired key given twice, its twin read once: one more desired item than live.
        ([("u1", 1), ("u1", 1)], [("u1", 1)], False),
        # A key read twice keeps its last row: settled when that row matches...
        ([("u1", 2)], [("u1", 1), ("u1", 2)], True),
        # ...and not when an earlier one did.
        ([("u1", 1)], [("u1", 1), ("u1", 2)], False),
        # A desired item missing, or a live item no desired item has.
        ([("u1", 1), ("u2", 2)], [("u1", 1)], False),
        ([("u1", 1)], [("u1", 1), ("u2", 2)], False),
    ],
)
def test_a_kind_is_settled_only_when_both_sides_hold_the_same_items(
    index: StateIndex, desired, live, settled
) -> None:
    index.add_desired(Resource(Kind.USER, key, {"n": n}) for key, n in desired)
    # Another kind's items, equal on both sides, change nothing of the users' answer.
    index.add_desired([_member("u1", "admin")])
    page = LiveRows(Kind.USER)
    for key, n in live:
        page.add(key, canonical_json({"n": n}), f"id-{key}")

    async def stream():
        yield page
        yield _member("u1", "admin")

    asyncio.run(index.add_live_stream(stream()))
    assert index.settled(Kind.USER) is settled
    assert index.settled(Kind.MEMBERSHIP) is True


@pytest.mark.parametrize("keyed_first", [False, True])
def test_lookups_and_counts_by_key_follow_the_rows_written(
    index: StateIndex, keyed_first: bool
) -> None:
    """A count of the keys among some (``desired_keys_count_among``) is the size of the
    lookup's answer, whatever the keys asked, whichever rows are asked of, before and after
    the index of every row (``key_desired``) is made."""
    seq = index.add_desired(
        [_user("u1", None, "Z"), _user("u2", None), _member("u1", "admin"), _user("u1", None)]
    )
    if keyed_first:
        index.key_desired()
    assert index.desired_keys_among(Kind.USER, ["u1", "u9", "u1@org_1"], seq) == {"u1"}
    assert index.desired_keys_count_among(Kind.USER, {"u1", "u2", "u9", "u1@org_1"}, seq) == 2
    assert index.desired_keys_count_among(Kind.USER, set(), seq) == 0
    assert index.desired_keys_count_among(Kind.MEMBERSHIP, {"u1@org_1", "u1"}, seq) == 1
    # Rows outside ``seq`` are not counted.
    assert index.desired_keys_count_among(Kind.USER, {"u1", "u2"}, (seq[0] + 2, seq[1])) == 1
    index.key_desired()  # made after the kind's own index, or already there
    specs = index.desired_specs_among(Kind.USER, ["u2", "u1"], seq)
    assert [key for key, _ in specs] == ["u1", "u2", "u1"]
    states = index.desired_states_among(Kind.USER, ["u1"], seq)
    assert [state[2]["first_name"] for state in states] == ["Z", "F"]
    assert index.desired_keys_count_among(Kind.USER, {"u1", "u2", "u9"}, seq) == 2
