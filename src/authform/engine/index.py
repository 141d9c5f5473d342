"""The on-disk index that lets plan, apply and verify hold neither side of a diff in memory.

Why: a Clerk tenant of a million users has about three million desired items (users,
organizations, memberships) and, once imported, as many live ones. Held as Python objects the
two sides and the diff between them took about 12.5 KB per user (13 GB at a million), more
than a CI runner has. So both sides are written, as they stream in, into a SQLite database in a
private temporary folder, and the diff is a keyed join read back in order.

Design:

- One row per item, keyed by ``(kind, key)``: the canonical JSON of its spec (sorted keys,
  compact) and the whole ``Resource`` pickled (``engine.codec``), so every field of the
  dataclass (``origin``, ``observed``, ``create_only``, and any added later) travels through
  without this module naming it. Pickles are read back only from this process's own private
  folder.
- The desired side keeps every row (a duplicate key diffs twice, as it always did); the live
  side keeps the last row per key (what a lookup by key found before). Each desired row also
  says whether its item carries a password digest (``digest``), so a provider counts them
  (a plan's caveat) with no item unpickled.
- Equal canonical JSON means equal specs, so the join hands Python only the pairs whose JSON
  differs (and the missing ones): a million equal users cost one string comparison each, in
  SQLite. Pairs that reach Python are still judged by the planner's own equality rule.
- The import writes each resource here as it judges it (``desired_writer``), into numbered
  sections so that reading back keeps the desired order whatever order the parts were
  written in; the desired side is indexed by key only at its first lookup by key, so a
  bulk insert does not keep a B-tree up row by row.
- ``ids`` holds natural key → provider id per kind for the providers that need them between
  read and write (see ``authform.providers.ids``), indexed both ways.
- Speed over durability: no journal, no sync, one exclusive connection, one transaction for
  the index's life (never committed), rows written in batches through ``executemany``. The
  folder is removed by ``close()`` (and at exit, whatever happens): the index is a cache of
  one command, never state.

Password digests travel in ``create_only`` and so are in the pickles: the folder is created
with mode 0700 by ``tempfile.mkdtemp`` and removed when the command ends.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import AsyncIterable, Collection, Iterable, Iterator, Mapping, Sequence
from itertools import groupby, islice, repeat
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, NamedTuple, Protocol, cast

from authform.engine.codec import (
    carries_password_digest,
    dump_resource,
    dump_state,
    load_resource,
    resource_from,
    resource_state,
)
from authform.engine.live_rows import (
    FULL_COLUMNS,
    PLAIN_COLUMNS,
    FullLiveRow,
    LiveRow,
    LiveRows,
    live_resource,
)
from authform.engine.spool import StreamedSequence
from authform.engine.tempspace import ScratchDatabase
from authform.json_text import compact_sorted_encoder
from authform.resources import Kind, Resource

BATCH = 5_000
# Desired rows are numbered in sections of this many, so the parts of the desired state can be
# written in any order (the import writes users before organizations) and still be read back
# in their section's order (the manifest's resources, organizations, users, memberships).
SECTION_ROWS = 1 << 40
ALL_ROWS = 1 << 62
# Kind → its position (``Kind.order``), looked up once per row rather than computed.
_ORDER = {kind: kind.order for kind in Kind}

# Kind's position → its name (``_value_``: the enum's ``value`` property is slower).
_KIND_NAME = {kind.order: kind._value_ for kind in Kind}


class VerifyPair(NamedTuple):
    """A desired item and its live twin, as verify needs them: ``found`` (a live item has
    the key) and ``equal`` (their canonical specs are); the two items themselves only when
    both exist and differ."""

    address: str
    found: bool
    equal: bool
    probe: str | None
    desired: Resource | None
    live: Resource | None


_SCHEMA = """
CREATE TABLE desired (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, key TEXT NOT NULL,
                      spec TEXT NOT NULL, item BLOB NOT NULL, digest INTEGER NOT NULL DEFAULT 0);
CREATE TABLE live (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, key TEXT NOT NULL,
                   spec TEXT NOT NULL, provider_id TEXT, unkeyed INTEGER NOT NULL DEFAULT 0,
                   probe TEXT, observed BLOB, item BLOB);
CREATE TABLE ids (kind INTEGER NOT NULL, key TEXT NOT NULL, provider_id TEXT NOT NULL,
                  PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE INDEX ids_by_provider_id ON ids (kind, provider_id);
"""


# Equal strings mean equal specs: compact JSON with sorted keys, by the encoder built once
# (an import encodes millions of specs).
canonical_json = compact_sorted_encoder(ensure_ascii=True)


class CanonicalTexts(Protocol):
    """What ``canonical_texts`` makes: called with one item's values, that item's text;
    ``of_columns`` makes a whole block's from its columns, with no Python call per item."""

    def __call__(self, *values: str) -> str: ...

    def of_columns(self, *columns: Iterable[str]) -> Iterator[str]: ...


def canonical_texts(*keys: str, constants: Mapping[str, Any] | None = None) -> CanonicalTexts:
    """A maker of ``canonical_json`` of a mapping of exactly ``keys`` whose values are all
    text, from the values in the order of ``keys``: one format string instead of a walk of
    a dict (the import writes millions of such specs). A value that is not text raises
    ``TypeError``. ``constants`` are more entries, the same in every mapping made."""
    fixed = dict(constants or {})
    fields = []
    # The same text as pieces to join (``of_columns``): each value's position in ``keys``,
    # and the literal text between two values.
    pieces: list[str | int] = []
    between = "{"
    for position, name in enumerate(sorted([*keys, *fixed])):  # as ``canonical_json`` sorts
        # Each key as JSON (its braces doubled for ``str.format``), then its value's place,
        # or the constant's JSON.
        key_json = encode_basestring_ascii(name) + ":"
        between += ("," if position else "") + key_json
        if name in fixed:
            fields.append(_format_literal(key_json + canonical_json(fixed[name])))
            between += canonical_json(fixed[name])
        else:
            fields.append(_format_literal(key_json) + f"{{{keys.index(name)}}}")
            pieces += [between, keys.index(name)]
            between = ""
    pieces.append(between + "}")
    template = "{{" + ",".join(fields) + "}}"
    format_ = template.format
    encode = encode_basestring_ascii

    # A closure, not a class's ``__call__``: a call per item costs less (200,000 calls:
    # 0.47 s, through a method 0.52 s).
    def canonical(*values: str) -> str:
        return format_(*map(encode, values))

    def of_columns(*columns: Iterable[str]) -> Iterator[str]:
        # Every value encoded by a C-level ``map`` and the pieces joined by another: no
        # format string parsed per item (200,000 memberships: 0.096 -> 0.054 s).
        encoded = [map(encode, column) for column in columns]
        parts = (repeat(p) if isinstance(p, str) else encoded[p] for p in pieces)
        # Not strict: the literal pieces repeat without end; the columns end together.
        return map("".join, zip(*parts, strict=False))

    canonical.of_columns = of_columns  # type: ignore[attr-defined]
    return cast(CanonicalTexts, canonical)


def _format_literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class StateIndex(ScratchDatabase):
    """Desired and live resources of one command, on disk, joined by key."""

    # Pages of 32 KiB, not SQLite's 4 KiB: a plan of 100,000 users writes about 140 MB here
    # through an 8 MB page cache, and each page the cache spills or reads back again is a
    # system call (and the key indexes' sorts spill as many). Fewer, larger pages: a
    # no-change KavachOS plan of 100,000 users, 6.5 -> 5.9 s CPU (system 0.75 -> 0.35 s,
    # diff 0.46 -> 0.36 s), the same peak RSS (64 KiB pages: 15 MB more). An apply into a
    # SQLite KavachOS database peaks ~8 MB higher (94 -> 102 MB; 16 KiB pages about the same).
    page_size = 32_768

    def __init__(self) -> None:
        super().__init__("authform-index-", _SCHEMA)
        self._desired_keyed = False
        self._keyed_kinds: set[int] = set()  # kinds ``desired_keys_among`` has indexed
        self._live_keyed = False  # whether ``live_by_key`` exists (``_key_live``)
        # ``desired_value_counts`` answers, forgotten whenever the desired side changes.
        self._value_counts: dict[tuple[Kind, str, tuple[int, int]], dict[Any, int]] = {}

    def key_desired(self) -> None:
        """Index the desired side by key before its first lookup by key: built once over
        the rows written so far (one sort), not kept up row by row through the import's
        bulk insert; rows added later are indexed as they come. Called early by whoever
        then reads the items of one kind (the index serves ``WHERE kind = ?``): the diff
        builds it anyway."""
        if not self._desired_keyed:
            # With the spec: the joins with the live side compare specs from the index alone,
            # not from rows whose stored items fill most of each page (a no-change plan of
            # 300,000 items: 0.25 s less to compare, 0.1 s more to build).
            self.db.execute("CREATE INDEX desired_by_key ON desired (kind, key, spec)")
            self._desired_keyed = True

    def forget_desired_answers(self) -> None:
        """Forget what was kept of the desired side's answers: it is being written."""
        self._value_counts.clear()

    # ---- writing -------------------------------------------------------------------------

    def add_desired(self, resources: Iterable[Resource], section: int = 0) -> tuple[int, int]:
        """Append desired resources to ``section`` (in the order given, which iteration
        keeps); returns the rows they took, ``[first, end)``, for ``desired(seq=...)``."""
        writer = self.desired_writer(section)
        writer.extend(resources)
        return writer.close()

    def desired_writer(self, section: int = 0) -> DesiredWriter:
        """A writer appending to ``section`` of the desired side, a batch at a time."""
        return DesiredWriter(self, section)

    def next_seq(self, section: int = 0) -> int:
        """The row the next desired item of ``section`` takes."""
        base = section * SECTION_ROWS
        row = self.db.execute(
            "SELECT coalesce(max(seq), ?) + 1 FROM desired WHERE seq >= ? AND seq < ?",
            (base, base, base + SECTION_ROWS),
        ).fetchone()
        return int(row[0])

    def remove_desired(self, seqs: Iterable[int]) -> None:
        """Forget the desired rows ``seqs`` (an import's user found in conflict after it
        was written)."""
        self.forget_desired_answers()
        self.db.executemany("DELETE FROM desired WHERE seq = ?", ((seq,) for seq in seqs))

    def desired_keys_among(self, kind: Kind, keys: Iterable[str], seq: tuple[int, int]) -> set[str]:
        """Which of ``keys`` a desired item of ``kind`` in rows ``seq`` has: one statement
        for a whole batch of keys.

        Looked up through an index of this kind's rows alone (a partial index, made at the
        first lookup), not ``key_desired``'s index of every row: the import asks this of
        its users while it writes twice as many memberships, and an index of all rows would
        be kept up for each of those as it is written."""
        rows = self._among(kind, "d.key", keys, seq)
        return {key for (key,) in rows}

    def desired_keys_count_among(
        self, kind: Kind, keys: Iterable[str], seq: tuple[int, int]
    ) -> int:
        """``len(desired_keys_among(kind, keys, seq))``, counted by SQLite: no key handed back
        to Python (the import asks it of each block of memberships' users; 200,000
        memberships: 0.12 -> 0.095 s)."""
        (count,) = self._among(kind, "count(DISTINCT d.key)", keys, seq).fetchone()
        return int(count)

    def desired_specs_among(
        self, kind: Kind, keys: Iterable[str], seq: tuple[int, int]
    ) -> list[tuple[str, str]]:
        """(key, canonical spec) of the desired items of ``kind`` in rows ``seq`` whose key
        is one of ``keys``, in the order added (a key given twice: its last row last), through
        the index ``desired_keys_among`` uses: a page of a provider's read looked up at once."""
        rows = self._among(kind, "d.seq, d.key, d.spec", keys, seq).fetchall()
        rows.sort()  # by row (each row's own number: no two are equal)
        return [(key, spec) for _, key, spec in rows]

    def desired_states_among(
        self, kind: Kind, keys: Iterable[str], seq: tuple[int, int]
    ) -> list[tuple[Any, ...]]:
        """The stored states of the desired items of ``kind`` in rows ``seq`` whose key is
        one of ``keys``, in the order added: one statement for a batch of keys, through the
        index ``desired_keys_among`` uses (a few items of many, read without the others)."""
        loads = pickle.loads
        rows = self._among(kind, "d.seq, d.item", keys, seq).fetchall()
        rows.sort()  # by row (each row's own number: no two are equal)
        return [loads(blob) for _, blob in rows]

    def _among(
        self, kind: Kind, column: str, keys: Iterable[str], seq: tuple[int, int]
    ) -> sqlite3.Cursor:
        order = kind.order  # an int: written into the statement, as a partial index needs
        if order not in self._keyed_kinds:
            # With the spec: a provider's read looks a page of specs up (``desired_specs_
            # among``) from the index alone, not from rows holding the stored items.
            self.db.execute(
                f"CREATE INDEX desired_{order}_by_key ON desired (key, spec) WHERE kind = {order}"
            )
            self._keyed_kinds.add(order)
        return self.db.execute(
            f"SELECT {column} FROM desired d WHERE d.kind = {order} AND d.key IN "
            "(SELECT value FROM json_each(?)) AND d.seq >= ? AND d.seq < ?",
            # The keys as a JSON array, each text encoded in C (``json.dumps`` walks the
            # list in Python: a read of 100,000 users and an import's lookups pay it).
            ("[" + ",".join(map(encode_basestring_ascii, keys)) + "]", *seq),
        )

    def clear_live(self) -> None:
        """Forget the live side (before reading it again)."""
        self._unkey_live()
        self.db.execute("DELETE FROM live")

    def _key_live(self) -> None:
        """Index the live side by key before it is first read, keeping the last row of a
        key read twice. Built once over the rows read (one sort), not kept up row by row as
        they are written: a read of 300,000 items arrives in the provider's order, and
        keeping a key index up through it cost more than everything else the index does
        with the rows (each insert a random page of an index larger than the cache)."""
        if self._live_keyed:
            return
        # Not UNIQUE, with the keys read twice found after it (a pass over the index): a
        # failed CREATE UNIQUE INDEX cannot be undone without a journal, which this scratch
        # database does without. With the spec, as the desired side's (``key_desired``):
        # ``settled`` then merges the two in key order (300,000 items: 0.045 s more to
        # build, 0.1 s less to compare).
        self.db.execute("CREATE INDEX live_by_key ON live (kind, key, spec)")
        self._live_keyed = True
        twice = self.db.execute(
            "SELECT 1 FROM live GROUP BY kind, key HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        if twice is not None:  # rare: the earlier rows of each such key go
            self.db.execute(
                "DELETE FROM live WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() "
                "OVER (PARTITION BY kind, key ORDER BY seq DESC) AS later FROM live) "
                "WHERE later > 1)"
            )

    def _unkey_live(self) -> None:
        """Drop the live side's key index before rows are written (``_key_live``)."""
        if self._live_keyed:
            self.db.execute("DROP INDEX live_by_key")
            self._live_keyed = False

    def add_live(self, resources: Iterable[Resource]) -> int:
        return self._add_live_rows(_live_row(r) for r in resources)

    async def add_live_stream(self, resources: AsyncIterable[Resource | LiveRows]) -> int:
        """Write live resources as a provider yields them, a batch at a time; a page of
        ``LiveRows`` is stored as it is (see ``engine.live_rows``)."""
        count = 0
        batch: list[tuple[Any, ...]] = []
        async for item in resources:
            if type(item) is LiveRows:
                batch += item.rows
            else:
                batch.append(_live_row(item))  # type: ignore[arg-type]
            if len(batch) >= BATCH:
                count += self._add_live_rows(batch)
                batch = []
        return count + self._add_live_rows(batch)

    def _add_live_rows(self, rows: Iterable[LiveRow]) -> int:
        """Append live rows, a batch at a time; a key written twice keeps its last row
        (``_key_live``)."""
        self._unkey_live()
        count = 0
        iterator = iter(rows)
        while batch := list(islice(iterator, BATCH)):
            # Each run of rows of one form (``live_rows.LiveRow``) by its own statement, in
            # order: of a key written twice, the last row stays the last.
            for width, run in groupby(batch, key=len):
                self.insert_rows(_LIVE_COLUMNS[width], list(run))
            count += len(batch)
        return count

    # ---- reading ------------------------------------------------------------------------

    def desired(
        self, kind: Kind | None = None, *, seq: tuple[int, int] | None = None
    ) -> Iterator[Resource]:
        """Desired resources (of ``kind``; added as rows ``seq`` = [first, end)), in the
        order they were added."""
        if seq is not None:
            if kind is None:
                return self._items("desired WHERE seq >= ? AND seq < ? ORDER BY seq", seq)
            return self._items(
                "desired WHERE kind = ? AND seq >= ? AND seq < ? ORDER BY seq", (kind.order, *seq)
            )
        if kind is None:
            return self._items("desired ORDER BY seq")
        return self._items("desired WHERE kind = ? ORDER BY seq", (kind.order,))

    def desired_specs(
        self, kind: Kind, *, seq: tuple[int, int] = (0, ALL_ROWS)
    ) -> Iterator[list[tuple[str, str]]]:
        """The key and canonical spec of each desired item of ``kind`` (of rows ``seq``), in
        the order added, a batch of rows at a time: what a provider tallies of every item
        (a membership's organization, role and user) with no item unpickled."""
        rows = self.db.execute(
            "SELECT key, spec FROM desired WHERE kind = ? AND seq >= ? AND seq < ? ORDER BY seq",
            (kind.order, *seq),
        )
        while batch := rows.fetchmany(BATCH):
            yield batch

    def desired_specs_between(
        self, kind: Kind, first: str, last: str, seq: tuple[int, int], limit: int
    ) -> list[tuple[str, str]] | None:
        """(key, canonical spec) of the desired items of ``kind`` in rows ``seq`` whose key
        is from ``first`` to ``last``, in the order added, or None when more than ``limit``
        are: one range of ``key_desired``'s index, where a page of a provider's read comes
        in key order, rather than a search per key (``desired_specs_among``; 100,000 users
        in pages of 1,000: 0.06 s against 0.12 s); ``limit`` keeps a page whose keys lie far
        apart from reading every item between them."""
        self.key_desired()
        rows = self.db.execute(
            "SELECT seq, key, spec FROM desired WHERE kind = ? AND key >= ? AND key <= ? "
            "AND seq >= ? AND seq < ? LIMIT ?",
            (kind.order, first, last, *seq, limit + 1),
        ).fetchall()
        if len(rows) > limit:
            return None
        rows.sort()  # by row (each row's own number: no two are equal)
        return [(key, spec) for _, key, spec in rows]

    def password_digests(self, kind: Kind, *, seq: tuple[int, int] = (0, ALL_ROWS)) -> int:
        """Desired items of ``kind`` (of rows ``seq``) that carry a password digest."""
        row = self.db.execute(
            "SELECT count(*) FROM desired WHERE kind = ? AND digest = 1 AND seq >= ? AND seq < ?",
            (kind.order, *seq),
        ).fetchone()
        return int(row[0])

    def live(self, kind: Kind | None = None) -> Iterator[Resource]:
        self._key_live()
        if kind is None:
            return self._live_items("live ORDER BY kind, key")
        return self._live_items("live WHERE kind = ? ORDER BY key", (kind.order,))

    def desired_states(self, seq: tuple[int, int] = (0, ALL_ROWS)) -> Iterator[tuple[Any, ...]]:
        """The stored state (``codec.resource_state``) of each desired item of rows ``seq``
        = [first, end), in order: for what reads every item's fields and needs no
        ``Resource`` (a saved plan's fingerprint of the source)."""
        loads = pickle.loads
        rows = self.db.execute(
            "SELECT item FROM desired WHERE seq >= ? AND seq < ? ORDER BY seq", seq
        )
        for (blob,) in rows:
            yield loads(blob)

    def _items(self, rows: str, values: Sequence[Any] = ()) -> Iterator[Resource]:
        """The resources of ``SELECT item FROM <rows>``, read back one at a time."""
        for (blob,) in self.db.execute(f"SELECT item FROM {rows}", values):
            yield load_resource(blob)

    def _live_items(self, rows: str, values: Sequence[Any] = ()) -> Iterator[Resource]:
        """The live resources of ``<rows>`` (a ``FROM`` clause whose live table is ``live``
        or ``l``), read back one at a time, each stored whole or as its row's parts."""
        for row in self.db.execute(f"SELECT {_LIVE_ITEM} FROM {rows}", values):
            yield live_resource(*row)

    def count(
        self, side: str, kind: Kind | None = None, *, seq: tuple[int, int] | None = None
    ) -> int:
        """Items of ``side`` (of ``kind``; of desired rows ``seq`` = [first, end))."""
        table = _table(side)
        if table == "live":
            self._key_live()
        where, values = [], []
        if kind is not None:
            where.append("kind = ?")
            values.append(kind.order)
        if seq is not None:
            where += ["seq >= ?", "seq < ?"]
            values += seq
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        return int(
            self.db.execute(f"SELECT count(*) FROM {table}{condition}", values).fetchone()[0]
        )

    def kinds(self, side: str) -> set[Kind]:
        table = _table(side)
        if table == "live":
            self._key_live()
        orders = {row[0] for row in self.db.execute(f"SELECT DISTINCT kind FROM {table}")}
        return {kind for kind in Kind if kind.order in orders}

    def desired_values(
        self, kind: Kind, field: str, *, seq: tuple[int, int] = (0, ALL_ROWS)
    ) -> set[str]:
        """The distinct values of one top-level spec field among desired items of ``kind``
        (of rows ``seq`` = [first, end))."""
        counts = self.desired_value_counts(kind, field, seq=seq)
        return {str(value) for value in counts if value is not None}

    def desired_value_counts(
        self, kind: Kind, field: str, *, seq: tuple[int, int] = (0, ALL_ROWS)
    ) -> dict[Any, int]:
        """How many desired items of ``kind`` (of rows ``seq``) hold each value of one
        top-level spec field (a text, number or boolean as Python's; missing or null as
        None), counted by SQLite with no item read back. Kept until the desired side next
        changes: a plan asks it of 200,000 memberships' roles twice (a provider's caveat,
        the planner's check that each role exists), and each pass costs 0.4 s."""
        asked = (kind, field, seq)
        counts = self._value_counts.get(asked)
        if counts is None:
            rows = self.db.execute(
                "SELECT json_extract(spec, ?), count(*) FROM desired "
                "WHERE kind = ? AND seq >= ? AND seq < ? GROUP BY 1",
                (f'$."{field}"', kind.order, *seq),
            )
            counts = self._value_counts[asked] = dict(rows.fetchall())
        return dict(counts)

    def pairs(self, kind: Kind) -> Iterator[tuple[Resource, Resource | None]]:
        """Each desired item of ``kind`` whose live twin is missing or differs, with that
        twin, in key order. Pairs whose canonical specs are equal never leave SQLite."""
        for state, live in self.pair_states(kind):
            desired = resource_from(state)
            assert desired is not None
            yield desired, live

    def pair_states(self, kind: Kind) -> Iterator[tuple[tuple[Any, ...], Resource | None]]:
        """``pairs``, with each desired item as its stored state (``codec.resource_state``):
        the planner builds the ``Resource`` only when the pair needs more than a create."""
        loads = pickle.loads
        for desired, live in self.pair_items(kind):
            yield loads(desired), live

    def pair_items(self, kind: Kind) -> Iterator[tuple[bytes, Resource | None]]:
        """``pairs``, each desired item as its stored bytes (``codec.dump_resource``), read
        in one query: a plan keeps a plain create's desired item as these bytes, never
        decoded."""
        self.key_desired()
        self._key_live()
        rows = self.db.execute(
            f"SELECT d.item, l.kind, {_LIVE_ITEM_OF_L} FROM desired d LEFT JOIN live l "
            "ON l.kind = d.kind AND l.key = d.key "
            "WHERE d.kind = ? AND (l.spec IS NULL OR l.spec != d.spec) ORDER BY d.key, d.seq",
            (kind.order,),
        )
        for desired, found, *live in rows:
            yield desired, None if found is None else live_resource(found, *live)

    def verify_pairs(self, kinds: Iterable[Kind]) -> Iterator[VerifyPair]:
        """Every desired item of ``kinds`` in desired order, as a ``VerifyPair``. Only the
        pairs whose canonical specs differ are read back whole: an equal pair needs no
        more than its address and probe detail."""
        self.key_desired()
        self._key_live()
        orders = sorted({kind.order for kind in kinds})
        marks = ",".join("?" * len(orders))
        rows = self.db.execute(
            "SELECT d.kind, d.key, l.seq IS NOT NULL, l.spec = d.spec, l.probe, "
            "CASE WHEN l.spec != d.spec THEN d.item END, "
            "CASE WHEN l.spec != d.spec THEN l.spec END, "
            "CASE WHEN l.spec != d.spec THEN l.provider_id END, "
            "CASE WHEN l.spec != d.spec THEN l.observed END, "
            "CASE WHEN l.spec != d.spec THEN l.item END "
            "FROM desired d LEFT JOIN live l ON l.kind = d.kind AND l.key = d.key "
            f"WHERE d.kind IN ({marks}) ORDER BY d.seq",
            orders,
        )
        for kind, key, found, equal, probe, desired, spec, provider_id, observed, live in rows:
            yield VerifyPair(
                f"{_KIND_NAME[kind]}.{key}",
                bool(found),
                bool(equal),
                probe,
                None if desired is None else load_resource(desired),
                None
                if spec is None
                else live_resource(kind, key, spec, provider_id, observed, live),
            )

    def live_only(self, kind: Kind) -> Iterator[Resource]:
        """Live items of ``kind`` no desired item has the key of, in key order."""
        self.key_desired()
        self._key_live()
        return self._live_items(
            "live l WHERE l.kind = ? AND NOT EXISTS "
            "(SELECT 1 FROM desired d WHERE d.kind = l.kind AND d.key = l.key) ORDER BY l.key",
            (kind.order,),
        )

    def unkeyed(self, kind: Kind) -> list[Resource]:
        """Live items of ``kind`` that lack authform's key (adoption candidates): made by
        hand, so few, and held in memory."""
        self._key_live()
        return list(
            self._live_items("live WHERE kind = ? AND unkeyed = 1 ORDER BY key", (kind.order,))
        )

    def may_free(self, kind: Kind) -> bool:
        """Whether any live item of ``kind`` can lose a value by this plan: one that no desired
        item keys, or one whose desired twin differs. When none can, no change of the kind
        waits for another, and the planner streams it in one pass."""
        self.key_desired()
        self._key_live()
        row = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM live l WHERE l.kind = ?1 AND NOT EXISTS "
            "(SELECT 1 FROM desired d WHERE d.kind = l.kind AND d.key = l.key)) "
            "OR EXISTS (SELECT 1 FROM desired d JOIN live l ON l.kind = d.kind AND "
            "l.key = d.key WHERE d.kind = ?1 AND l.spec != d.spec)",
            (kind.order,),
        ).fetchone()
        return bool(row[0])

    def settled(self, kind: Kind) -> bool:
        """Whether the plan has nothing to change of ``kind``: as many live items as desired
        ones, and every live item has a desired twin of the same key and spec. Live keys
        are unique, so the twins are that many distinct desired items: all of them, none
        missing, none differing, none given twice. One pass over the live items (each one
        probe of the desired side's key index), where ``may_free`` then the pairs and the
        live-only items took three."""
        if self.count("desired", kind) != self.count("live", kind):
            return False
        self.key_desired()
        # The live (key, spec) pairs no desired item has, as a merge of the two sides' key
        # indexes read in order (both hold the spec: SQLite's MERGE (EXCEPT), no sort): a
        # probe of the desired index for each live item cost three times as much (100,000
        # users and 200,000 memberships: 0.16 -> 0.055 s).
        row = self.db.execute(
            "SELECT 1 FROM (SELECT key, spec FROM live WHERE kind = ?1 EXCEPT "
            "SELECT key, spec FROM desired WHERE kind = ?1 ORDER BY 1, 2) LIMIT 1",
            (kind.order,),
        ).fetchone()
        return row is None

    def live_fingerprint(self, kinds: Iterable[Kind] | None = None) -> str:
        """Hash of the live state read (every item's kind, key, provider id and spec), in key
        order, so the same state gives the same hash whatever order it was read in.

        Per item: ``json.dumps([kind, key, provider_id])``, its canonical spec, a line
        break (a saved plan made by an earlier version seals this hash, so the bytes never
        change). The array is written here with the encoder ``json.dumps`` itself uses for
        strings, and the bytes are hashed a batch of rows at a time."""
        self._key_live()
        digest = hashlib.sha256()
        orders = None if kinds is None else {k.order for k in kinds}
        text = encode_basestring_ascii
        rows = self.db.execute("SELECT kind, key, provider_id, spec FROM live ORDER BY kind, key")
        while batch := rows.fetchmany(BATCH):
            digest.update(
                "".join(
                    [
                        f"[{kind}, {text(key)}, "
                        f"{'null' if provider_id is None else text(provider_id)}]{spec}\n"
                        for kind, key, provider_id, spec in batch
                        if orders is None or kind in orders
                    ]
                ).encode()
            )
        return digest.hexdigest()


class IndexedResources(StreamedSequence):
    """Resources kept in the index, as a collection that can be iterated more than once
    (``of_kind`` reads one kind without going over the others)."""

    def __init__(self, index: StateIndex, seq: tuple[int, int] | None = None) -> None:
        self.state_index = index
        self.seq = seq

    def __iter__(self) -> Iterator[Resource]:
        return self.state_index.desired(seq=self.seq)

    def __len__(self) -> int:
        return self.state_index.count("desired", seq=self.seq)

    def __bool__(self) -> bool:
        return len(self) > 0

    def keys_among(self, kind: Kind, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` an item of ``kind`` here has (one statement for a batch)."""
        return self.state_index.desired_keys_among(kind, keys, self.seq or (0, ALL_ROWS))

    def keys_count_among(self, kind: Kind, keys: Collection[str]) -> int:
        """``len(keys_among(kind, keys))``, counted in SQLite."""
        return self.state_index.desired_keys_count_among(kind, keys, self.seq or (0, ALL_ROWS))

    def resource_states(self) -> Iterator[tuple[Any, ...]]:
        """The items' stored states (see ``codec.resource_states``)."""
        return self.state_index.desired_states(self.seq or (0, ALL_ROWS))

    def spec_values(self, kind: Kind, field: str) -> set[str]:
        """``resources.spec_values`` in SQL."""
        return self.state_index.desired_values(kind, field, seq=self.seq or (0, ALL_ROWS))

    def of_kind(self, kind: Kind) -> Iterator[Resource]:
        if self.seq is None:
            return self.state_index.desired(kind)
        return (r for r in self.state_index.desired(seq=self.seq) if r.kind is kind)


class DesiredWriter:
    """Desired resources appended to one section of the index as they are decided, a batch
    at a time; ``append`` says which row each took (to remove it again, or look it up)."""

    def __init__(self, index: StateIndex, section: int) -> None:
        self.index = index
        self.first = self.next = index.next_seq(section)
        self._rows: list[tuple[Any, ...]] = []

    def append(self, resource: Resource) -> int:
        state = resource_state(resource)
        assert state is not None
        return self.append_state(resource.kind, resource.key, canonical_json(resource.spec), state)

    def append_state(self, kind: Kind, key: str, spec_json: str, state: tuple[Any, ...]) -> int:
        """``append`` of an item given as its row's parts: its canonical spec
        (``canonical_json``) and its state (``codec.imported_state``), as an importer
        builds them without making a ``Resource``; returns its row."""
        seq = self.next
        self.next += 1
        digest = 1 if carries_password_digest(state) else 0
        item = _unadapted(dump_state(state))
        self._rows.append((seq, _ORDER[kind], key, spec_json, item, digest))
        if len(self._rows) >= BATCH:
            self.flush()
        return seq

    def extend_rows(
        self,
        kind: Kind,
        keys: Sequence[str],
        specs_json: Iterable[str],
        items: Iterable[bytes],
        digests: Iterable[bool] | None = None,
    ) -> None:
        """``append_state`` of many items of ``kind`` at once, given as their rows' columns:
        keys, canonical specs, stored states (``codec.dump_state``) and whether each carries
        a password digest (``codec.carries_password_digest``; None: none does).

        Written from the columns as they are (``insert_columns``): a row's tuple made for
        each item, then taken apart again into each statement's parameters, was a tenth of
        writing it (310,000 items: 0.45 -> 0.35 s). The few rows short of a whole statement
        join the buffer, written with later rows (each row has its number: the order rows
        are written in does not change the table)."""
        count = len(keys)
        first = self.next
        self.next += count
        columns: list[Sequence[Any]] = [
            range(first, self.next),
            (_ORDER[kind],) * count,
            keys,
            list(specs_json),
            list(map(_unadapted, items)),
        ]
        if digests is not None:  # else rows a column shorter: ``digest`` at its default, 0
            columns.append(list(map(int, digests)))
        self.index.forget_desired_answers()
        written = self.index.insert_columns(_DESIRED_COLUMNS[len(columns)], columns)
        self._rows += zip(*[column[written:] for column in columns], strict=True)
        if len(self._rows) >= BATCH:
            self.flush()

    def extend(self, resources: Iterable[Resource]) -> None:
        for resource in resources:
            self.append(resource)

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        self.index.forget_desired_answers()
        # Each run of rows of one width by its own statement (see ``extend_rows``).
        for width, run in groupby(rows, key=len):
            self.index.insert_rows(_DESIRED_COLUMNS[width], list(run))

    def close(self) -> tuple[int, int]:
        """Write what is buffered; the rows written, ``[first, end)``."""
        self.flush()
        return self.first, self.next

    def view(self) -> IndexedResources:
        """What was written, read back from the index (after ``close``)."""
        return IndexedResources(self.index, (self.first, self.next))


# The desired table's columns a row of each width gives (``DesiredWriter``).
_DESIRED_COLUMNS = {
    6: "desired (seq, kind, key, spec, item, digest)",
    5: "desired (seq, kind, key, spec, item)",
}
# The live table's columns a row of each width (``live_rows.LiveRow``) gives.
_LIVE_COLUMNS = {
    len(columns): f"live ({', '.join(columns)})" for columns in (FULL_COLUMNS, PLAIN_COLUMNS)
}
# The columns ``live_rows.live_resource`` builds a live item from, after its kind.
_LIVE_ITEM_OF_L = "l.key, l.spec, l.provider_id, l.observed, l.item"
_LIVE_ITEM = "kind, key, spec, provider_id, observed, item"


# A stored item as a parameter Python's sqlite3 binds as it is: it hands an exact ``int``,
# ``float``, ``str`` or ``bytearray`` straight to SQLite, but looks every other value (``bytes``
# included) up among its adapters first, a dictionary lookup and two attribute lookups per
# value. The copy costs less (200,000 memberships written: 0.24 -> 0.18 s); SQLite stores
# the same BLOB, read back as ``bytes``.
_unadapted = bytearray


def _live_row(resource: Resource) -> FullLiveRow:
    """A live resource's row, stored whole: its spec may hold values JSON does not give
    back as they were (see ``engine.live_rows`` for rows a provider builds itself)."""
    return (
        _ORDER[resource.kind],
        resource.key,
        canonical_json(resource.spec),
        resource.provider_id,
        1 if resource.observed.get("unkeyed") else 0,
        str(resource.observed["probe"]) if resource.observed.get("probe") else None,
        None,
        dump_resource(resource),
    )


def _table(side: str) -> str:
    if side not in ("desired", "live"):
        raise ValueError(f"no side {side!r}")
    return side
