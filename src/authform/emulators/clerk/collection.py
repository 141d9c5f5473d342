"""The plain resource of Clerk's Backend API, served once: a table listed in offset pages
(``{data, total_count}``, a ``query`` search), created, read, updated and deleted; and lists'
query parameters, the SQL filters built from them, and their order. A family states what
differs as data (its table, paths, body rules, unique columns, orderings) and overrides a
hook only for what data cannot say."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import placeholders
from .family import (
    Answers,
    Family,
    Operation,
    Rows,
    clerk_id,
    next_ms,
    not_found,
    param_invalid,
    stamps,
    update,
)
from .forms import Form, Rules, read_form

MAX_LIST_FILTER_VALUES: Final = 100
MAX_PAGE_SIZE: Final = 500


def query_values(request: Request, name: str) -> list[str]:
    """An array query parameter (the SDK repeats ``name=…``, other clients send
    ``name[]=…``), refused beyond Clerk's 100 values."""
    values = [*request.query_params.getlist(name), *request.query_params.getlist(f"{name}[]")]
    values = [value.strip() for value in values if value.strip()]
    if len(values) > MAX_LIST_FILTER_VALUES:
        raise param_invalid(name, f"{name} accepts up to {MAX_LIST_FILTER_VALUES} values.")
    return values


def query_int(request: Request, name: str, *, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise param_invalid(name, f"{name} must be an integer {bounds}.")
    return value


def query_optional_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise param_invalid(name, f"{name} must be an integer (Unix milliseconds).") from None


def query_bool(request: Request, name: str) -> bool | None:
    raw = (request.query_params.get(name) or "").lower()
    if raw in ("true", "1", "false", "0", ""):
        return None if raw == "" else raw in ("true", "1")
    raise param_invalid(name, f"{name} must be true or false.")


@dataclass(frozen=True)
class Order:
    """A parsed ``order_by``: the field and its direction (``+`` is implied)."""

    field: str
    descending: bool

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"


def parse_order(request: Request, fields: Iterable[str], default: str) -> Order:
    # "We only support one order_by parameter ... we will only keep the first one."
    values = request.query_params.getlist("order_by")
    raw = (values[0] if values else "") or default
    text = raw.strip() if raw[:1] == " " else raw  # an unencoded '+' arrives as a space
    name, known = text.lstrip("+-"), list(fields)
    if name not in known:
        text = f"order_by must be one of {', '.join(known)}, optionally prefixed + or -."
        raise param_invalid("order_by", text)
    return Order(name, text.startswith("-"))


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@dataclass
class Filters:
    """SQL conditions and their arguments, built up from query parameters."""

    conditions: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, condition: str, *args: Any) -> None:
        self.conditions.append(condition)
        self.args.extend(args)

    def add_in(self, column: str, values: Sequence[Any]) -> None:
        """``column IN (values)``; nothing for no values."""
        if values:
            self.add(f"{column} IN ({placeholders(values)})", *values)

    def add_signed(self, including: str, excluding: str, values: Sequence[str]) -> None:
        """A ``+value``/``-value`` filter (no sign means included; a ``+`` sent unencoded in
        a query string arrives as a space, read as ``+``). In the two conditions
        ``{values}`` stands for the placeholders of the values included or excluded."""
        included = [value.lstrip("+ ") for value in values if not value.startswith("-")]
        excluded = [value[1:] for value in values if value.startswith("-")]
        for sql, chosen in ((including, included), (excluding, excluded)):
            if chosen:
                self.add(sql.format(values=placeholders(chosen)), *chosen)

    def where(self) -> str:
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""


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

    def answers(self, rows: Rows, request: Request | None = None) -> Answers:
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
