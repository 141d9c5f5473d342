"""The journal's change entries, made from the plan's stored states in one pass
(``undo.entries``), are byte for byte the entries made the long way from each ``Change``
(its resources built back, every string of a spec passed through the redactor), and the
digest the journal records is ``Plan.digest``, whether the plan is a list or a spool."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from authform.engine.codec import dump_resource
from authform.engine.field_diff import FieldChange, created_field_states
from authform.engine.plan import Action, Change, CreateBlock, EncodedCreate, Plan
from authform.engine.spool import ChangeSpool
from authform.redaction import SECRETS
from authform.resources import Kind, Resource
from authform.saved_plan.seal import canonical
from authform.sources.records import BcryptHash
from authform.undo.entries import write_change_entries
from authform.undo.record import before_image, fingerprint, masked

SECRET = "s3cr3t-registered-value"
DIGEST = "$2b$10$abcdefghijklmnopqrstuvwxyz012345678901234567890123"


def _long_way(change: Change) -> bytes:
    """How the journal made every entry before: from the built change, masking walking
    every string of the spec through the redactor."""
    entry: dict[str, Any] = {
        "type": "change",
        "action": change.action.value,
        "address": change.address,
        "kind": change.kind.value,
        "key": change.key,
        "before": before_image(change.live) if change.live is not None else None,
        "after": None,
    }
    if change.desired is not None and change.action is not Action.DELETE:
        entry["after"] = {"spec": masked(change.desired.spec)}
        if change.desired.create_only:
            entry["after"]["written_once"] = {
                name: fingerprint(str(value))
                for name, value in sorted(change.desired.create_only.items())
            }
    return canonical(entry) + b"\n"


def _user(key: str, **spec: Any) -> Resource:
    return Resource(Kind.USER, key, {"email": f"{key}@example.com", **spec})


def _changes() -> list[Change]:
    plain = _user("user_plain", first_name="Zoë", oauth_accounts=({"provider": "google"},))
    secretive = _user("user_secret", first_name=f"has {SECRET} inside", note='q"\\\n\u2028')
    hashed = _user("user_hash", last_name=f"digest {DIGEST} in a name")
    odd = Resource(
        Kind.ORGANIZATION,
        "org_odd",
        {
            "name": "Odd",
            "metadata": {"password": "hunter22", "when": datetime(2026, 1, 2, tzinfo=UTC)},
            "domains": ("b.example", "a.example"),  # a tuple: written as a list
            "score": 1.5,
            "numbers": {2: "two", True: "yes", None: "none"},
        },
    )
    with_digest = Resource(
        Kind.USER,
        "user_digest",
        {"email": "d@example.com"},
        create_only={"password_hash": BcryptHash(DIGEST), "count": 3},
    )
    live = Resource(Kind.USER, "user_plain", {"email": "old@example.com"}, provider_id="usr_1")
    return [
        Change(Action.CREATE, Kind.USER, plain.key, plain),
        EncodedCreate(
            Kind.USER,
            "user_encoded",
            (
                "user",
                "user_encoded",
                {"email": "e@example.com"},
                None,
                {},
                (("password_hash", -1, "x" * 8),),
                {},
            ),
            created_field_states({"email": "e@example.com"}),
        ),
        Change(Action.CREATE, Kind.USER, secretive.key, secretive),
        Change(Action.CREATE, Kind.USER, hashed.key, hashed),
        Change(Action.CREATE, Kind.ORGANIZATION, odd.key, odd),
        Change(Action.CREATE, Kind.USER, with_digest.key, with_digest),
        Change(
            Action.UPDATE,
            Kind.USER,
            "user_plain",
            plain,
            live,
            (FieldChange("email", "old@example.com", "user_plain@example.com"),),
        ),
        Change(Action.DELETE, Kind.USER, "user_gone", live=live),
        Change(Action.DELETE, Kind.USER, "user_kept", live=live, blocked="deletes not allowed"),
        Change(Action.MANUAL, Kind.REDIRECT_URI, "https://a.example/cb", instructions=("x",)),
        Change(Action.REPLACE, Kind.ORGANIZATION, odd.key, odd, live, after=("user.user_gone",)),
    ]


@pytest.fixture(autouse=True)
def registered_secret():
    SECRETS.add(SECRET)
    yield
    SECRETS.clear()


def _stored_creates() -> CreateBlock:
    """Plain creates as a plan's spool keeps most of an import's: each its desired item's
    stored bytes (odd values included: nested containers, a tuple, non-string keys, a
    registered secret and a password digest inside strings, a write-once value)."""
    users = [
        _user("user_block_plain", first_name="Zoë", oauth_accounts=({"provider": "github"},)),
        _user("user_block_secret", last_name=f"{SECRET}", metadata={"n": {10: "a", 2: "b"}}),
        Resource(
            Kind.USER,
            "user_block_digest",
            {"email": f"x {DIGEST}", "image_url": None, "score": 2.5, "ok": True},
            create_only={"password_hash": BcryptHash(DIGEST)},
        ),
    ]
    flat = [
        Resource(Kind.USER, "user_block_flat", {"email": "f@example.com", "first_name": "F"}),
        Resource(Kind.USER, "user_block_numbered", {10: "ten", 2: "two"}),  # type: ignore[dict-item]
        Resource(Kind.USER, "user_block_sensitive", {"email": "s@example.com", "password": "pw"}),
    ]
    return CreateBlock(Kind.USER, [dump_resource(user) for user in users + flat])


@pytest.mark.parametrize("spooled", [False, True], ids=["list", "spool"])
def test_entries_from_stored_states_are_the_long_way_entries_and_the_digest_is_the_plans(
    spooled: bool,
) -> None:
    changes = _changes()
    stored: Any = changes
    if spooled:
        stored = ChangeSpool()
        stored.extend(changes[:3])
        stored.append(_stored_creates())  # kept as bytes, read back as plain creates
        stored.extend(changes[3:])
        changes = list(stored)
    plan = Plan("workos", [Kind.USER], stored, "")
    out = io.BytesIO()

    digest = write_change_entries(plan.changes, out)

    assert digest == plan.digest()
    lines = out.getvalue().splitlines(keepends=True)
    expected = [_long_way(change) for change in changes if change.is_write]
    assert lines == expected
    text = out.getvalue().decode()
    assert SECRET not in text and DIGEST not in text and "hunter22" not in text
    assert "(sensitive)" in text and "(password hash)" in text  # redacted, string by string
