"""The KavachOS read hands users and memberships to the index as its own rows (``LiveRows``):
each spec written as canonical JSON text, which the index compares and a saved plan seals, so
a text that is not exactly ``canonical_json`` of its spec would show equal rows as changes,
or changed rows as equal. Checked on SQLite and PostgreSQL (both DDL flavours), with names
and roles that JSON must escape."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest

from authform.collector import BULK_FIRST_GENERATION
from authform.engine.index import canonical_json
from authform.engine.live_rows import LiveRows, Observed
from authform.providers.kavachos.codec import Codec
from authform.providers.kavachos.desired import DesiredUsers
from authform.providers.kavachos.live import _names, _user_facts, _user_spec_json
from authform.providers.kavachos.provider import KavachOSProvider
from authform.resources import Kind, Resource

from .conftest import KavachCli
from .test_import import ACME, ADA, GRACE

# Text JSON escapes: quotes, a backslash, a tab, non-ASCII (escaped as \\u: ensure_ascii),
# and a character outside the Basic Multilingual Plane (a surrogate pair).
ESCAPED_NAME = 'Zoë "Z" \\ O\'Brien\t😀'
ESCAPED_ROLE = 'rôle "ñ"'


def _read(url: str) -> tuple[list[LiveRows], list[Resource]]:
    """The read's pages of rows, and the same read as resources (``read``)."""

    async def pages() -> tuple[list[LiveRows], list[Resource]]:
        provider = KavachOSProvider(database_url=url)
        kinds = {Kind.USER, Kind.ORGANIZATION, Kind.MEMBERSHIP}
        try:
            blocks = [
                item async for item in provider.read_stream(kinds, []) if isinstance(item, LiveRows)
            ]
            resources = await provider.read(kinds, [])
        finally:
            await provider.aclose()
        return blocks, resources

    return asyncio.run(pages())


def _sql_text(text: str) -> str:
    """``text`` as an SQL literal (SQLite and PostgreSQL quote text alike)."""
    return "'" + text.replace("'", "''") + "'"


def test_read_rows_are_canonical_and_changes_in_escaped_text_are_drift(
    kavach_cli: KavachCli,
) -> None:
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    db = kavach_cli.db
    db.execute(
        f"UPDATE kavach_users SET name = {_sql_text(ESCAPED_NAME)} WHERE id = '{ADA}'",
        f"UPDATE kavach_org_members SET role = {_sql_text(ESCAPED_ROLE)} WHERE user_id = '{GRACE}'",
    )

    blocks, resources = _read(db.url)
    rows = [row for block in blocks for row in block.rows]
    assert {block.kind for block in blocks} == {Kind.USER, Kind.MEMBERSHIP}
    for row in rows:
        spec = row[2]
        assert canonical_json(json.loads(spec)) == spec, spec
    # ``read`` gives the same items as resources, their specs' canonical JSON the rows' text.
    by_key = {(r.kind.order, r.key): canonical_json(r.spec) for r in resources}
    assert all(by_key[row[0], row[1]] == row[2] for row in rows)
    ada = next(r for r in resources if r.kind is Kind.USER and r.key == ADA)
    assert ada.spec["first_name"] == ESCAPED_NAME
    assert ada.observed["password_row"] is True and ada.provider_id == ADA
    grace = next(r for r in resources if r.kind is Kind.MEMBERSHIP and r.key == f"{GRACE}@{ACME}")
    assert grace.spec == {"organization": ACME, "role": ESCAPED_ROLE, "user": GRACE}

    drift = kavach_cli.run("drift", str(manifest))
    assert drift.exit_code == 2, drift.output
    assert f"user.{ADA}" in drift.output
    assert f"membership.{GRACE}@{ACME}" in drift.output
    assert "Drift found: 2 difference(s)" in drift.output
    assert "Traceback" not in drift.output
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    assert kavach_cli.run("drift", str(manifest)).exit_code == 0


@pytest.mark.parametrize("email", ["ada@example.com", "zoë@exämple.com", None])
@pytest.mark.parametrize("image", [None, "", "https://img/ä.png", 7])
@pytest.mark.parametrize(
    "oauth", [None, [], [{"provider": "github", "provider_account_id": "ü\\1"}]]
)
def test_a_user_spec_is_written_as_canonical_json(email: Any, image: Any, oauth: Any) -> None:
    """The read writes a user's spec field by field (``_user_spec_json``): the same text
    ``canonical_json`` gives of it, whatever its values."""
    names = ((ESCAPED_NAME, "", True), ("Ada", "Lovelace", False), (None, "", True))
    for first, last, verified in names:
        spec = {
            "email": email,
            "email_verified": verified,
            "first_name": first,
            "last_name": last,
            **({} if image is None else {"image_url": image}),
            **({} if oauth is None else {"oauth_accounts": oauth}),
        }
        written = _user_spec_json(email, verified, first, last, image, oauth)  # type: ignore[arg-type]
        assert written == canonical_json(spec)


@pytest.mark.parametrize(
    "observed",
    [
        {"unkeyed": False, "password_row": True},
        {"unkeyed": True},
        {"unkeyed": False, "metadata": {"plan": "pro", "image_url": "x"}, "password_row": True},
        {"probe": "role rows in all 2 managed organizations", "unkeyed": True},
    ],
)
def test_rows_made_from_shared_observed_facts_or_columns_are_those_add_makes(
    observed: dict[str, Any],
) -> None:
    """The read pickles the observed facts its users share once (``Observed``) and hands
    memberships over as columns (``add_plain``): the rows must be the very ones ``add``
    makes of each item, which the index stores and gives back."""
    one, shared, plain, columns = (LiveRows(Kind.USER) for _ in range(4))
    one.add("user_1", '{"a":1}', "kv_1", observed)
    shared.add("user_1", '{"a":1}', "kv_1", Observed.of(observed))
    assert shared.rows == one.rows and len(one.rows[0]) == 8
    assert next(shared.resources()).observed == observed
    for n in range(3):
        plain.add(f"k{n}", f'{{"n":{n}}}', f"id{n}")
    columns.add_plain(
        (f"k{n}" for n in range(3)), [f'{{"n":{n}}}' for n in range(3)], ["id0", "id1", "id2"]
    )
    assert columns.rows == plain.rows and len(plain.rows[0]) == 4


def test_the_read_runs_with_the_collector_enlarged_and_restores_it(
    kavach_cli: KavachCli,
) -> None:
    """The read makes no cyclic garbage, so it runs with the collector's first generation
    enlarged (``collected_rarely``); the thresholds are the caller's again after it,
    however it ends (read whole, or left after its first page)."""
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    before = gc.get_threshold()

    async def read(whole: bool) -> list[tuple[int, int, int]]:
        provider = KavachOSProvider(database_url=kavach_cli.db.url)
        seen = []
        try:
            stream = provider.read_stream({Kind.USER, Kind.MEMBERSHIP}, [])
            async for _ in stream:
                seen.append(gc.get_threshold())
                if not whole:
                    break
            await stream.aclose()  # type: ignore[attr-defined]
        finally:
            await provider.aclose()
        return seen

    for whole in (True, False):
        seen = asyncio.run(read(whole))
        assert seen and {threshold[0] for threshold in seen} == {BULK_FIRST_GENERATION}
        assert gc.get_threshold() == before


PLAIN_ADA = {"first_name": "Ada", "last_name": "Lovelace", "image_url": "", "oauth_accounts": []}


def _read_by_decoded_spec(row: tuple[Any, ...], desired_spec: str | None) -> str:
    """A user row's spec as reading it by its decoded desired spec gives it: what the read
    must write, whether or not it decodes the spec."""
    want = None if desired_spec is None else DesiredUsers.user_of(desired_spec)
    meta = Codec.json_value(row[5])
    first, last = _names(row[2], want)
    image = None
    if want is None or want.has_image:
        image = meta.get("image_url", "") if isinstance(meta, dict) else ""
    oauth = None if want is not None and want.oauth_accounts is None else []
    verified = Codec.bool_value(row[6]) and (Codec.bool_value(row[8]) if row[7] else True)
    return _user_spec_json(row[1], verified, first, last, image, oauth)


@pytest.mark.parametrize(
    "name",
    ["Ada Lovelace", "Ada", "", None, "Ada  Lovelace", " Ada Lovelace", "Mary Ann Smith", "Zoë Ü"],
)
@pytest.mark.parametrize(
    "metadata", ["{}", '{"image_url": "https://i/a.png"}', '{"image_url": 7}', "[1]"]
)
@pytest.mark.parametrize(
    "desired",
    [
        None,
        PLAIN_ADA,
        {"first_name": "Ada", "last_name": "Lovelace"},
        {"first_name": "Mary Ann", "last_name": "Smith", "oauth_accounts": []},
        {"first_name": "Mary", "last_name": "Ann Smith", "image_url": "https://i/a.png"},
        {"first_name": "Ada", "last_name": "", "image_url": 7, "oauth_accounts": []},
        {"first_name": "", "last_name": "Ada"},
        {"first_name": "Zoë", "last_name": "Ü", "username": "zoe"},
    ],
)
def test_a_user_read_by_its_desired_spec_text_is_read_as_by_the_decoded_spec(
    name: Any, metadata: str, desired: dict[str, Any] | None
) -> None:
    """The read first takes the desired spec to be the row's own, read plainly, and keeps
    that text when it is the desired one, without decoding it (``_user_facts``): whatever
    the name, image and desired spec, the text is the one reading the row by the decoded
    spec writes."""
    row = ("u1", "ada@example.com", name, "user_1", "clerk", metadata, 1, "u1", 1, None, None, None)
    for verified in (True, False):
        desired_spec = None
        if desired is not None:
            desired_spec = canonical_json(
                {"email": "ada@example.com", "email_verified": verified, **desired}
            )
        spec_json, _ = _user_facts([row], True, desired_spec, Codec(None, {}))  # type: ignore[arg-type]
        assert spec_json == _read_by_decoded_spec(row, desired_spec)
        if verified and name == "Ada Lovelace" and metadata == "{}" and desired == PLAIN_ADA:
            assert spec_json == desired_spec  # the row says what the spec does: no change
