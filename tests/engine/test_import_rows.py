"""The import writes each item to the state index from its row's parts (its canonical spec and
its state) instead of building a ``Resource``; those parts must be exactly what the index
makes of the ``Resource`` itself, so reading back, diffing and digests cannot tell them apart."""

from __future__ import annotations

import pytest

from authform.engine.codec import imported_state, resource_state
from authform.engine.index import StateIndex, canonical_json, canonical_texts
from authform.resources import Kind, Resource
from authform.sources.records import BcryptHash, RecordOrigin, row_origin

TEXTS = ["", "plain", 'quo"te', "back\\slash", "{braces}", "é ü 中", "tab\tnew\nline", "\x00\x1f"]


@pytest.mark.parametrize("text", TEXTS)
def test_canonical_texts_is_canonical_json(text):
    spec = {"user": text, "organization": f"o{text}", "role": text[::-1]}
    make = canonical_texts("user", "organization", "role")
    assert make(spec["user"], spec["organization"], spec["role"]) == canonical_json(spec)
    odd_keys = canonical_texts("{b}", 'a"')
    assert odd_keys(text, "x") == canonical_json({"{b}": text, 'a"': "x"})


def test_canonical_texts_of_columns_is_canonical_json_of_each_row():
    make = canonical_texts("user", "organization", "role", constants={"on": True, "n": [1]})
    users, organizations, roles = TEXTS, TEXTS[::-1], [t + "r" for t in TEXTS]
    assert list(make.of_columns(users, organizations, roles)) == [
        canonical_json({"user": u, "organization": o, "role": r, "on": True, "n": [1]})
        for u, o, r in zip(users, organizations, roles, strict=True)
    ]


def test_canonical_texts_refuses_a_value_that_is_not_text():
    with pytest.raises(TypeError):
        canonical_texts("a", "b")("x", True)
    with pytest.raises(TypeError):
        list(canonical_texts("a", "b").of_columns(["x", "y"], ["z", 1]))


@pytest.mark.parametrize(
    "create_only",
    [{}, {"password_hash": BcryptHash("$2b$04$" + "a" * 53), "password_hash_type": "bcrypt"}],
)
def test_an_imported_row_is_the_row_of_its_resource(create_only):
    spec = {"email": "a@x.io", "first_name": "A", "last_name": "", "email_verified": True}
    origin = {"file": "users.csv", "row": 2}
    resource = Resource(Kind.USER, "user_1", spec, create_only=create_only, origin=origin)
    state = imported_state(Kind.USER, "user_1", spec, create_only, origin)
    assert state == resource_state(resource)
    index = StateIndex()
    try:
        writer = index.desired_writer()
        writer.append(resource)
        writer.append_state(Kind.USER, "user_1", canonical_json(spec), state)
        writer.close()
        rows = index.db.execute("SELECT kind, key, spec, item FROM desired ORDER BY seq")
        by_resource, by_parts = rows.fetchall()
        assert by_resource == by_parts
        assert list(index.desired()) == [resource, resource]
        for back in index.desired():
            assert back.origin == origin and back.create_only == create_only
            assert [type(v) for v in back.create_only.values()] == [
                type(v) for v in create_only.values()
            ]
    finally:
        index.close()


def test_a_row_origin_is_the_record_origin_it_stands_for():
    quick = row_origin("users.csv:row 7", "exports/users.csv", 7)
    full = RecordOrigin("users.csv:row 7", file="exports/users.csv", row=7)
    assert type(quick) is RecordOrigin and quick == full == "users.csv:row 7"
    assert (quick.file, quick.row, quick.api_id) == (full.file, full.row, full.api_id)
