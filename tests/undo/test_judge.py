"""How undo judges each journal entry against the live state: pure, no I/O."""

from __future__ import annotations

from authform.resources import Kind, Resource
from authform.undo.reading import JournalEntry
from authform.undo.record import before_image, masked
from authform.undo.restore import judge


def org(name: str, key: str = "acme", provider_id: str = "org_1") -> Resource:
    return Resource(Kind.ORGANIZATION, key, {"name": name}, provider_id=provider_id)


def renamed(outcome: str | None = "applied") -> JournalEntry:
    """The journal of an apply that renamed acme from "Acme" to "Acme (renamed)"."""
    return JournalEntry(
        "update",
        Kind.ORGANIZATION,
        "acme",
        before_image(org("Acme")),
        {"spec": {"name": "Acme (renamed)"}},
        outcome,
    )


def test_what_the_apply_wrote_is_put_back_and_what_is_back_already_is_left():
    assert set(judge([renamed()], [org("Acme (renamed)")]).restore) == {"organization.acme"}
    judged = judge([renamed()], [org("Acme")])
    assert judged.restore == {} and judged.already == ["organization.acme"]


def test_a_live_state_that_moved_on_is_named_with_how():
    judged = judge([renamed()], [org("Acme (by hand)")])
    assert judged.moved_on == [
        (
            "organization.acme",
            "its live values are neither what the apply wrote nor what was there before",
        )
    ]
    gone = judge([renamed()], [])
    assert gone.moved_on[0][0] == "organization.acme"


def test_failed_changes_wrote_nothing_and_unconfirmed_ones_are_judged_by_the_live_state():
    for outcome in ("failed", "not attempted"):
        judged = judge([renamed(outcome)], [org("Acme (by hand)")])
        assert judged.not_written == ["organization.acme"] and not judged.moved_on
    for outcome in (None, "not reached"):
        judged = judge([renamed(outcome)], [org("Acme (renamed)")])
        assert set(judged.restore) == {"organization.acme"}
        assert judged.unconfirmed == ["organization.acme"]


def test_a_created_item_is_deleted_and_a_deleted_one_created_again():
    created = JournalEntry("create", Kind.ORGANIZATION, "new", None, {"spec": {"name": "New"}})
    created.outcome = "applied"
    deleted = JournalEntry(
        "delete", Kind.ORGANIZATION, "old", before_image(org("Old", "old", "org_2")), None
    )
    deleted.outcome = "applied"
    judged = judge([created, deleted], [org("New", "new", "org_3")])
    assert judged.restore["organization.new"] is None  # a delete
    assert judged.restore["organization.old"] == org("Old", "old", "org_2")
    assert judged.recreated == ["organization.old"]


def test_an_adopted_item_and_a_secret_before_state_cannot_be_restored_and_say_why():
    adopted = JournalEntry(
        "update",
        Kind.ORGANIZATION,
        "acme",
        before_image(org("Acme", "(no external_id) org_1")),
        {"spec": {"name": "Acme"}},
        "applied",
    )
    secret = Resource(Kind.SOCIAL_CONNECTION, "google", {"client_secret": "s3cret-value"})
    rotated = JournalEntry(
        "update",
        Kind.SOCIAL_CONNECTION,
        "google",
        before_image(secret),
        {"spec": {"client_secret": "new-secret-value"}},
        "applied",
    )
    now = Resource(Kind.SOCIAL_CONNECTION, "google", {"client_secret": "new-secret-value"})
    rotated.after = {"spec": masked(now.spec)}
    judged = judge([adopted, rotated], [org("Acme"), now])
    assert [address for address, _ in judged.cannot] == [
        "organization.acme",
        "social_connection.google",
    ]
    assert "s3cret-value" not in repr(before_image(secret))
