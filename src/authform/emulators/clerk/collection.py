"""The plain resource of Clerk's Backend API, served once: a table listed in offset pages
(``{data, total_count}``, a ``query`` search), created, read, updated and deleted. A family
states what differs as data (its table, paths, body rules, unique columns, orderings) and
overrides a hook only for what data cannot say."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import placeholders
from .family import Family, Operation, clerk_id, not_found
from .forms import Form, Rules, read_form
from .listing import MAX_PAGE_SIZE, Filters, Order, like, parse_order, query_int
from .schema import next_ms, stamps, update

VERBS = {"list": "GET", "create": "POST", "get": "GET", "update": "PATCH", "delete": "DELETE"}


@dataclass(frozen=True)
class Unique:
    """A body field no two rows share, and the error (code, text) a clash answers."""

    column: str
    text: str
    code: str = "form_identifier_exists"


class Collection(Family):
    table: ClassVar[str]
    noun: ClassVar[str]  # as a 404 names it
    object: ClassVar[str]  # the answer's ``object``
    prefix: ClassVar[str] = ""  # of its ids
    path: ClassVar[str]  # the list's path under /v1; items are ``{path}/{item_id}``
    item: ClassVar[str] = "item_id"
    verbs: ClassVar[tuple[str, ...]] = tuple(VERBS)
    create_rules: ClassVar[Rules] = {}
    update_rules: ClassVar[Rules] = {}
    open_body: ClassVar[bool] = False  # the document's schema allows other fields
    unique: ClassVar[tuple[Unique, ...]] = ()
    order: ClassVar[Mapping[str, str]] = {}  # order_by field -> SQL over ``t``
    # The ``query`` search: "exact match for ID and partial match for name and key".
    search: ClassVar[str] = (
        "(t.id = ? OR lower(t.name) LIKE ? ESCAPE '\\' OR t.key LIKE ? ESCAPE '\\')"
    )
    # Lists: their FROM clause (default: the table) whose rows are ``alias``, ties broken by
    # ``tiebreak``, and the order when the request names none.
    source: ClassVar[str] = ""
    alias: ClassVar[str] = "t"
    tiebreak: ClassVar[str] = "t.rowid"
    default_order: ClassVar[str] = "-created_at"

    def answer(self, row: sqlite3.Row) -> dict[str, Any]:
        return {"object": self.object, **{key: row[key] for key in row.keys()}}  # noqa: SIM118

    def answers(
        self, rows: Sequence[sqlite3.Row], request: Request | None = None
    ) -> list[dict[str, Any]]:
        """Rows as answers; a family answering many at once (one query for what they
        share) or as the request asks overrides this."""
        return [self.answer(row) for row in rows]

    def operations(self) -> Sequence[Operation]:
        item = f"{self.path}/{{{self.item}}}"
        paths = {"list": self.path, "create": self.path}
        return [(VERBS[verb], paths.get(verb, item), getattr(self, verb)) for verb in self.verbs]

    def find(self, row_id: str) -> sqlite3.Row:
        row = self.store.find(self.table, "id", row_id)
        if row is None:
            raise not_found(self.noun, row_id)
        return row

    def insert(self, values: Mapping[str, Any], conn: sqlite3.Connection | None = None) -> str:
        """Store a new row of ``values`` under a new id (``prefix``), created now (after
        everything listed before it); its id."""
        row = {"id": clerk_id(self.prefix), **values, **stamps(next_ms(self.store))}
        self.store.insert(self.table, row, conn)
        return str(row["id"])

    def by_id(self, ids: Iterable[str]) -> dict[str, sqlite3.Row]:
        """The rows with these ids, by id: one query for what a page's answers share."""
        ids = sorted(set(ids))
        sql = f"SELECT * FROM {self.table} WHERE id IN ({placeholders(ids)})"  # noqa: S608
        return {row["id"]: row for row in self.store.all(sql, ids)}

    def row(self, request: Request) -> sqlite3.Row:
        """The item a request's path names."""
        return self.find(request.path_params[self.item])

    def respond(self, row_id: str) -> Response:
        return JSONResponse(self.answers([self.find(row_id)])[0])

    def filters(self, request: Request) -> Filters:
        """The list's conditions: the ``query`` search, and a family's own filters."""
        filters = Filters()
        query = request.query_params.get("query")
        if query and self.search:
            filters.add(self.search, query, *[like(query)] * (self.search.count("?") - 1))
        return filters

    async def list(self, request: Request) -> Response:
        return await self.page(request, self.filters(request))

    async def page(self, request: Request, filters: Filters) -> Response:
        rows = self.rows(filters, *self.paging(request))
        answer = {"data": self.answers(rows, request), "total_count": self.total(filters)}
        return JSONResponse(answer)

    def paging(self, request: Request) -> tuple[int, int, Order]:
        """A list's ``limit``, ``offset`` and ``order_by``, checked in that order."""
        return (
            query_int(request, "limit", default=10, low=1, high=MAX_PAGE_SIZE),
            query_int(request, "offset", default=0, low=0, high=None),
            parse_order(request, self.order, self.default_order),
        )

    def rows(
        self, filters: Filters, limit: int, offset: int, order: Order
    ) -> Sequence[sqlite3.Row]:
        """One ``limit``/``offset`` page of the list in ``order``."""
        return self.store.all(
            f"SELECT {self.alias}.* FROM {self.source or f'{self.table} AS t'} {filters.where()} "  # noqa: S608
            f"ORDER BY {self.order[order.field]} {order.direction}, "
            f"{self.tiebreak} {order.direction} LIMIT ? OFFSET ?",
            [*filters.args, limit, offset],
        )

    def total(self, filters: Filters) -> int:
        """How many rows the list's ``filters`` match."""
        sql = f"SELECT COUNT(*) AS n FROM {self.source or f'{self.table} AS t'} {filters.where()}"
        row = self.store.one(sql, filters.args)
        return row["n"] if row else 0

    async def get(self, request: Request) -> Response:
        return JSONResponse(self.answers([self.row(request)], request)[0])

    async def read(self, request: Request, rules: Rules, row: sqlite3.Row | None) -> Form:
        form = await read_form(request, rules, open=self.open_body)
        self.check(form, row)
        return form

    def check(self, form: Form, row: sqlite3.Row | None) -> None:
        """A create (``row`` None) or update body, refused with every problem: a blank name,
        a taken unique value, what ``check_body`` finds."""
        if form.sent("name") and form["name"] is not None and not form["name"].strip():
            form.missing("name")
        own_id = None if row is None else row["id"]
        for unique in self.unique:
            value = form[unique.column]
            if value is not None and self.store.taken_by(self.table, unique.column, value, own_id):
                form.fail(unique.code, unique.column, unique.text, unique.text)
        self.check_body(form)
        form.check()

    async def create(self, request: Request) -> Response:
        return self.respond(self.created(await self.read(request, self.create_rules, None)))

    def created(self, form: Form) -> str:
        """Store a checked create body; the new item's id."""
        raise NotImplementedError

    async def update(self, request: Request) -> Response:
        row = self.row(request)
        self.check_change(row, "updated")
        form = await self.read(request, self.update_rules, row)
        with self.store.transaction() as conn:
            columns = [name for name in self.update_rules if name in self.columns]
            update(conn, self.table, row["id"], form.given(*columns))
            self.updated(conn, row, form)
        return self.respond(row["id"])

    @property
    def columns(self) -> set[str]:
        return {column["name"] for column in self.store.all(f"PRAGMA table_info({self.table})")}

    def updated(self, conn: sqlite3.Connection, row: sqlite3.Row, form: Form) -> None:
        """What an update also changes beyond the row."""

    def check_body(self, form: Form) -> None:
        """What the rules cannot say about a body (problems go to ``form``)."""

    def check_change(self, row: sqlite3.Row, action: str) -> None:
        """Refuse to update or delete ``row`` (raise), when it cannot be."""

    async def delete(self, request: Request) -> Response:
        row = self.row(request)
        self.check_change(row, "deleted")
        with self.store.transaction() as conn:
            self.deleting(conn, row)
            conn.execute(f"DELETE FROM {self.table} WHERE id = ?", [row["id"]])  # noqa: S608
        return JSONResponse(self.deleted(row))

    def deleting(self, conn: sqlite3.Connection, row: sqlite3.Row) -> None:
        """What a delete also removes that no foreign key cascades to."""

    def deleted(self, row: sqlite3.Row) -> dict[str, Any]:
        return {"object": self.object, "id": row["id"], "deleted": True}
