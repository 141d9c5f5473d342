"""Secrets in ``create_only`` travel through the index and the spools as their text and a
class number (pickling a ``str`` subclass looked its class up on every row); they must come
back as the same classes, so they stay masked wherever a resource is shown."""

from __future__ import annotations

from authform.engine.codec import dump_resource, load_resource
from authform.engine.index import StateIndex
from authform.engine.plan import Action, Change
from authform.engine.spool import ChangeSpool
from authform.resources import Kind, Resource
from authform.sources.records import BcryptHash, SensitiveText

DIGEST = "$2b$04$" + "a" * 53


def user(create_only):
    return Resource(
        Kind.USER,
        "user_1",
        {"email": "a@x.io"},
        create_only=create_only,
        origin={"file": "users.csv", "row": 2},
    )


def test_secrets_keep_their_class_and_their_mask_through_index_and_spool():
    resource = user(
        {
            "password_hash": BcryptHash(DIGEST),
            "password_hash_type": "bcrypt",
            "totp_secret": SensitiveText("JBSWY3DP"),
            "rounds": 4,
        }
    )
    index = StateIndex()
    try:
        index.add_desired([resource])
        (from_index,) = index.desired()
        spool = ChangeSpool()
        spool.append(Change(Action.CREATE, Kind.USER, "user_1", desired=resource))
        from_spool = next(iter(spool)).desired
    finally:
        index.close()
    for back in (from_index, from_spool, load_resource(dump_resource(resource))):
        assert back == resource
        assert type(back.create_only["password_hash"]) is BcryptHash
        assert type(back.create_only["totp_secret"]) is SensitiveText
        assert type(back.create_only["password_hash_type"]) is str
        assert back.create_only["rounds"] == 4
        assert DIGEST not in repr(back) and "JBSWY3DP" not in repr(back)
        assert "bcrypt hash (set)" in repr(back)


def test_a_resource_without_secrets_is_unchanged():
    for create_only in ({}, {"password_hash": DIGEST}):
        resource = user(create_only)
        back = load_resource(dump_resource(resource))
        assert back == resource and back.create_only == create_only
