"""The export-wide rules judge records a batch at a time and write straight into the state
index; what they decide must not depend on where a batch ends."""

from authform.engine.index import IndexedResources, StateIndex
from authform.importing import build_import_set
from authform.importing.scratch import ImportScratch
from authform.importing.users import RECORD_BATCH
from authform.resources import Kind, Resource

from .factories import member, org, user


def test_disk_set_and_map_answer_in_order_first_one_wins():
    scratch = ImportScratch()
    try:
        seen = scratch.set("ids")
        assert seen.add_all(["a", "b", "a"]) == [True, True, False]
        assert seen.add_all(["c", "b", "c"]) == [True, False, False]
        roles = scratch.map("roles")
        assert roles.claim_all([("k1", "admin"), ("k2", "member"), ("k1", "member")]) == [
            None,
            None,
            "admin",
        ]
        assert roles.claim_all([("k2", "admin"), ("k3", "admin")]) == ["member", None]
        roles.setdefault("k4", "guest")
        roles.setdefault("k4", "admin")
        assert roles["k4"] == "guest" and "k4" in roles and "k5" not in roles
    finally:
        scratch.close()


def test_a_repeated_user_id_is_caught_in_its_own_batch_and_in_a_later_one():
    users = [user(f"user_{n}", f"u{n}@x.io") for n in range(RECORD_BATCH + 5)]
    users.insert(3, user("user_1", "again1@x.io"))  # same batch as the first user_1
    users.append(user("user_2", "again2@x.io"))  # a batch after the first user_2
    result = build_import_set(users, [], [])
    repeats = [s.source_id for s in result.skipped if s.code == "duplicate_user"]
    assert repeats == ["user_1", "user_2"]
    assert len(result.users) == RECORD_BATCH + 5
    emails = {u.key: u.spec["email"] for u in result.users}
    assert (emails["user_1"], emails["user_2"]) == ("u1@x.io", "u2@x.io")
    assert result.counts.users_skipped == 2


def test_a_repeated_membership_is_caught_in_its_own_batch_and_in_a_later_one():
    organizations = [org(f"org_{n}") for n in range(RECORD_BATCH + 5)]
    memberships = [member("user_1", f"org_{n}") for n in range(RECORD_BATCH + 5)]
    memberships.insert(3, member("user_1", "org_1", "org:admin"))  # same batch
    memberships.append(member("user_1", "org_2", "org:admin"))  # a later batch
    result = build_import_set([user("user_1", "a@x.io")], organizations, memberships)
    repeats = [(s.source_id, s.reason) for s in result.skipped if s.code == "duplicate_membership"]
    assert [key for key, _ in repeats] == ["user_1@org_1", "user_1@org_2"]
    assert all("(role 'org:member') earlier in the export" in reason for _, reason in repeats)
    assert len(result.memberships) == RECORD_BATCH + 5
    assert {m.spec["role"] for m in result.memberships} == {"member"}


def test_users_in_an_email_conflict_leave_the_index_they_were_written_to():
    index = StateIndex()
    try:
        result = build_import_set(
            [user("user_a", "a@x.io"), user("user_b", "b@x.io"), user("user_c", "A@X.io")],
            [org("org_1")],
            [member("user_a"), member("user_b")],
            index=index,
        )
        assert [u.key for u in result.users] == ["user_b"]
        assert len(result.users) == 1 and result.counts.users_imported == 1
        # The membership of a user in conflict is not imported either.
        assert [m.key for m in result.memberships] == ["user_b@org_1"]
        # Read back from the index itself: organizations, users, memberships, in that order
        # (users were written first), after what the manifest declares (added last here).
        index.add_desired([Resource(Kind.ROLE, "admin", {"name": "Admin"})])
        assert [r.address for r in IndexedResources(index)] == [
            "role.admin",
            "organization.org_1",
            "user.user_b",
            "membership.user_b@org_1",
        ]
    finally:
        index.close()


def test_a_batch_is_claimed_whole_or_not_at_all():
    scratch = ImportScratch()
    roles = scratch.map("roles")
    assert roles.claim_if_all_new([("a", "x"), ("b", "y")])
    # A key stored before, or repeated in the batch: nothing of the batch is stored.
    assert not roles.claim_if_all_new([("c", "z"), ("a", "w"), ("d", "z")])
    assert not roles.claim_if_all_new([("e", "z"), ("e", "z")])
    assert [roles.get(key) for key in "abcde"] == ["x", "y", None, None, None]
    # What was left unstored is claimed afresh, first value first, as if never tried.
    assert roles.claim_all([("c", "1"), ("a", "2"), ("e", "3")]) == [None, "x", None]
    assert [roles.get(key) for key in "ce"] == ["1", "3"]
    scratch.close()
