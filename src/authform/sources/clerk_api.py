"""The live Clerk Backend API as a user-import source: users, organizations and memberships
streamed page by page into the same records the export readers yield.

Why each walk pages the way it does (Clerk's OpenAPI document, 2026-05-12):
- Users: ``GET /v1/users`` answers a bare array and recommends the ``starting_after`` cursor
  over ``offset`` for long walks (a deep offset gets slower and eventually times out). The
  cursor needs a ``created_at`` ordering; we ask for ``+created_at`` so users who sign up
  while the walk runs land after the cursor and are read too. The walk ends on a short page.
- Organizations and memberships only page by ``offset``. Both are read oldest first
  (``+created_at``) for the same reason: new items append to the end instead of shifting
  the pages not yet read. (A deletion during the walk can still shift one unread item back
  past the offset; run an import against a quiet instance, or re-run it.)
- Every request goes through the one Clerk API client (``authform.apis.clerk``), which the
  Clerk target uses too: Clerk's documented rate limit, retries, HTTPS only.

The API never returns password digests or TOTP secrets; ``merge_csv_digests`` joins the
digests from a Dashboard CSV export onto the users read here.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx

from authform.apis.clerk import (
    DEFAULT_BASE_URL,
    clerk_api_client,
    rate_limit_for_key,
)
from authform.providers.base import ProviderError
from authform.providers.http import RateLimit, RetryPolicy, WindowLimiter
from authform.sources.clerk_csv import read_clerk_csv
from authform.sources.clerk_files import (
    clerk_object,
    membership_from_json,
    organization_from_json,
    text_field,
)
from authform.sources.clerk_ids import IdKind, is_clerk_id
from authform.sources.clerk_profile import MalformedProfile, external_accounts, image_url
from authform.sources.clerk_user_schema import user_schema_problem
from authform.sources.errors import SourceError
from authform.sources.json_array import describe_json_type
from authform.sources.records import (
    MalformedRecord,
    MembershipRecord,
    OrganizationRecord,
    PasswordDigest,
    RecordOrigin,
    SourceEmail,
    SourceUser,
    UserRecord,
)

MAX_PAGE_SIZE = 500  # the document's LimitParameter maximum
CREATED_ASCENDING = "+created_at"

T = TypeVar("T")


class ClerkApiError(SourceError):
    """Reading the Clerk API failed. The message names the call and Clerk's own explanation
    (code, long message, trace id) and never contains the secret key; ``status``, ``code``
    and ``request_id`` are those of the API's refusal (``answer``), when there was one."""

    def __init__(self, message: str, *, answer: ProviderError | None = None) -> None:
        super().__init__(message)
        self.status = answer.status if answer is not None else None
        self.code = answer.code if answer is not None else None
        self.request_id = answer.request_id if answer is not None else None


def user_from_api(obj: Any, origin: str) -> UserRecord:
    """One Backend API ``User`` as a ``SourceUser``.

    The primary email is the address whose id is ``primary_email_address_id``; an address
    counts as verified when its ``verification.status`` is ``verified`` (a reserved or
    unverified one does not). Second factors only say what the user must re-enroll: TOTP from
    ``totp_enabled``, SMS from a phone number ``reserved_for_second_factor``.
    """
    identified = clerk_object(obj, "user", "user", origin)
    if isinstance(identified, MalformedRecord):
        return identified
    obj, user_id = identified
    if (problem := user_schema_problem(obj)) is not None:
        return MalformedRecord("user", origin, problem, user_id)
    email_items = _objects(obj, "email_addresses")
    if isinstance(email_items, str):
        return MalformedRecord("user", origin, email_items, user_id)
    phone_items = _objects(obj, "phone_numbers")
    if isinstance(phone_items, str):
        return MalformedRecord("user", origin, phone_items, user_id)
    emails, primary_email = [], None
    for item in email_items:
        address = text_field(item.get("email_address"))
        if not address:
            continue
        verification = item.get("verification")
        verified = isinstance(verification, Mapping) and verification.get("status") == "verified"
        emails.append(SourceEmail(address, verified))
        if item.get("id") is not None and item.get("id") == obj.get("primary_email_address_id"):
            primary_email = address
    phones: list[str] = []
    sms_second_factor = False
    for item in phone_items:
        number = text_field(item.get("phone_number"))
        if not number:
            continue
        sms_second_factor = sms_second_factor or item.get("reserved_for_second_factor") is True
        if item.get("id") is not None and item.get("id") == obj.get("primary_phone_number_id"):
            phones.insert(0, number)  # primary first, as the CSV export lists it
        else:
            phones.append(number)
    try:
        picture, accounts = image_url(obj), external_accounts(obj)
    except MalformedProfile as exc:
        return MalformedRecord("user", origin, str(exc), user_id)
    return SourceUser(
        id=user_id,
        origin=origin,
        first_name=_untouched(obj.get("first_name")),  # names as written, like the exports
        last_name=_untouched(obj.get("last_name")),
        username=text_field(obj.get("username")),
        emails=tuple(emails),
        primary_email=primary_email,
        phone_numbers=tuple(dict.fromkeys(phones)),
        sms_second_factor=sms_second_factor,
        totp_enabled=obj.get("totp_enabled") is True,
        image_url=picture,
        external_accounts=accounts,
    )


def _untouched(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _objects(obj: Mapping[str, Any], field: str) -> list[Mapping[str, Any]] | str:
    """The objects listed under ``field`` (none when it is absent or not a list), or why
    one of them is not an object."""
    items = obj.get(field)
    listed = items if isinstance(items, list) else []
    for index, item in enumerate(listed):
        if not isinstance(item, Mapping):
            return f"{field}[{index}] is not an object"
    return listed


_COLLECTION_ID_KINDS: dict[str, IdKind] = {
    "users": "user",
    "organizations": "organization",
    "memberships": "membership",
}


def _origin(collection: str, index: int, item: Any) -> RecordOrigin:
    """Where a record came from: the list and position, plus the id to look up in Clerk's
    dashboard (the place to fix it), shown only when it has the shape of an id: the origin
    is printed and written to reports, so it must not carry whatever the id field holds."""
    item_id = text_field(item.get("id")) if isinstance(item, Mapping) else ""
    shown = item_id if is_clerk_id(_COLLECTION_ID_KINDS[collection], item_id) else ""
    text = f"Clerk API {collection} #{index}" + (f" ({shown})" if shown else "")
    return RecordOrigin(text, api_id=shown or None)


class ClerkApiSource:
    """Streams one Clerk instance's users, organizations and memberships.

    Use it as ``async with ClerkApiSource(key) as clerk: async for user in
    clerk.iter_users(): …``; from synchronous code use the ``read_clerk_api_*`` functions.
    ``page_size`` (default and maximum 500) exists so tests can cross page boundaries with a
    few records; ``rate_limit`` overrides the key's documented limit.
    """

    def __init__(
        self,
        secret_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        page_size: int = MAX_PAGE_SIZE,
        rate_limit: RateLimit | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        secret_key = secret_key.strip()
        if not secret_key.startswith("sk_"):
            hint = (
                " (that looks like a publishable key, pk_…)" if secret_key.startswith("pk_") else ""
            )
            raise ClerkApiError("the Clerk secret key must start with sk_test_ or sk_live_" + hint)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.page_size = page_size
        try:
            self.http = clerk_api_client(
                secret_key,
                base_url,
                label="Clerk API",
                limiter=WindowLimiter(rate_limit or rate_limit_for_key(secret_key)),
                # The walks are sequential: one request in flight at a time.
                max_concurrency=1,
                timeout=timeout,
                retry=retry,
                transport=transport,
            )
        except ProviderError as exc:  # not HTTPS and not loopback
            raise ClerkApiError(str(exc)) from None

    def __repr__(self) -> str:  # never the key
        return f"ClerkApiSource(base_url={self.http.base_url!r}, page_size={self.page_size})"

    async def __aenter__(self) -> ClerkApiSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self.http.stats.requests

    async def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        try:
            return await self.http.get_json(path, params)
        except ProviderError as exc:
            raise ClerkApiError(str(exc), answer=exc) from None
        except ValueError:  # a 2xx whose body is not JSON (a proxy's page, say)
            raise ClerkApiError(
                f"Clerk API: GET {path} answered something that is not JSON"
            ) from None

    async def count_users(self) -> int:
        """How many users the instance holds (``GET /v1/users/count``), e.g. for progress."""
        body = await self._get("/users/count", {})
        total = body.get("total_count") if isinstance(body, Mapping) else None
        if not isinstance(total, int):
            raise ClerkApiError("Clerk API: GET /users/count answered no total_count")
        return total

    async def iter_users(self) -> AsyncIterator[UserRecord]:
        """Every user, oldest first, by ``starting_after`` cursor."""
        cursor: str | None = None
        index = 0
        while True:
            params: dict[str, Any] = {"limit": self.page_size, "order_by": CREATED_ASCENDING}
            if cursor is not None:
                params["starting_after"] = cursor
            page = await self._get("/users", params)
            if not isinstance(page, list):
                raise ClerkApiError(
                    f"Clerk API: GET /users answered {describe_json_type(page)}, expected the "
                    "documented bare array of users"
                )
            for item in page:
                index += 1
                yield user_from_api(item, _origin("users", index, item))
            # "Stop when a page returns fewer than limit users."
            if len(page) < self.page_size:
                return
            last = page[-1]
            next_cursor = text_field(last.get("id")) if isinstance(last, Mapping) else ""
            if not next_cursor or next_cursor == cursor:
                raise ClerkApiError(
                    f"Clerk API: cannot continue the user list after #{index}: the last user "
                    "of the page has no usable id"
                )
            cursor = next_cursor

    async def iter_organizations(self) -> AsyncIterator[OrganizationRecord]:
        """Every organization, oldest first, by offset."""
        index = 0
        async for item in self._offset_walk("/organizations", {}):
            index += 1
            yield organization_from_json(item, _origin("organizations", index, item))

    async def iter_memberships(
        self, organization_id: str | None = None
    ) -> AsyncIterator[MembershipRecord]:
        """Every membership of the instance (``GET /v1/organization_memberships``), or of one
        organization, oldest first, by offset."""
        path = (
            "/organization_memberships"
            if organization_id is None
            else f"/organizations/{_path_segment(organization_id)}/memberships"
        )
        index = 0
        async for item in self._offset_walk(path, {}):
            index += 1
            yield membership_from_json(item, _origin("memberships", index, item))

    async def _offset_walk(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[Any]:
        """Items of a ``{data, total_count}`` list, page by page, until a short page or the
        total is reached."""
        offset = 0
        while True:
            query = {
                **params,
                "limit": self.page_size,
                "offset": offset,
                "order_by": CREATED_ASCENDING,
            }
            page = await self._get(path, query)
            data = page.get("data") if isinstance(page, Mapping) else None
            if not isinstance(data, list):
                raise ClerkApiError(
                    f"Clerk API: GET {path} answered no data array (offset {offset})"
                )
            for item in data:
                yield item
            offset += len(data)
            total = page.get("total_count")
            if len(data) < self.page_size or (isinstance(total, int) and offset >= total):
                return


def _path_segment(value: str) -> str:
    return quote(value, safe="")


# --------------------------------------------------------------------------- CSV digest join


@dataclass(frozen=True)
class CsvDigests:
    """Password digests of a Dashboard CSV export by Clerk user id, plus the rows that could
    not be read (to report; their users import without a password)."""

    by_user_id: Mapping[str, PasswordDigest]
    problems: tuple[MalformedRecord, ...] = ()


def load_csv_digests(csv_path: str | os.PathLike[str]) -> CsvDigests:
    """Index a Dashboard CSV export's digests by user id.

    Memory is O(users): one entry (id, digest, hasher; ~250 bytes) per user with a password,
    about 250 MB for a million. The API cannot be read in id order, so a streaming merge join
    is not possible; the index is the price of combining the two, and it is acceptable. Only
    the digest and hasher are kept, not the rest of the row. Raises ``SourceError`` when the
    file cannot be read, before anything is fetched from the API.
    """
    digests: dict[str, PasswordDigest] = {}
    problems: list[MalformedRecord] = []
    for record in read_clerk_csv(csv_path):
        if isinstance(record, MalformedRecord):
            problems.append(record)
        elif record.password is not None:
            hasher = sys.intern(record.password.hasher)  # one string per hasher, not per user
            digests[record.id] = PasswordDigest(hasher, record.password.value)
    return CsvDigests(digests, tuple(problems))


async def merge_csv_digests(
    api_users: AsyncIterable[UserRecord], csv: str | os.PathLike[str] | CsvDigests
) -> AsyncIterator[UserRecord]:
    """The API's users, each with the password digest the CSV export holds for its id.

    The API stays the source of truth for everything else (emails, verification, names): it
    is current, while the export is a snapshot. A user missing from the export (signed up
    since) imports without a password; an export row missing from the API (deleted since) is
    ignored.
    """
    digests = csv if isinstance(csv, CsvDigests) else load_csv_digests(csv)
    async for record in api_users:
        yield _with_digest(record, digests)


def merge_csv_digests_sync(
    api_users: Iterable[UserRecord], csv: str | os.PathLike[str] | CsvDigests
) -> Iterator[UserRecord]:
    """``merge_csv_digests`` for a synchronous stream (e.g. ``read_clerk_api_users``)."""
    digests = csv if isinstance(csv, CsvDigests) else load_csv_digests(csv)
    for record in api_users:
        yield _with_digest(record, digests)


def _with_digest(record: UserRecord, digests: CsvDigests) -> UserRecord:
    if isinstance(record, SourceUser) and record.password is None:
        digest = digests.by_user_id.get(record.id)
        if digest is not None:
            return replace(record, password=digest)
    return record


# --------------------------------------------------------------------------- sync wrappers


def read_clerk_api_users(
    secret_key: str,
    *,
    csv_digests: str | os.PathLike[str] | CsvDigests | None = None,
    **options: Any,
) -> Iterator[UserRecord]:
    """Every user of the instance, for synchronous callers; ``csv_digests`` joins a Dashboard
    CSV export's password digests. ``options`` are ``ClerkApiSource``'s."""
    digests = None
    if csv_digests is not None:  # read (and fail on) the file before any request
        digests = (
            csv_digests if isinstance(csv_digests, CsvDigests) else load_csv_digests(csv_digests)
        )
    users = _blocking(secret_key, options, lambda source: source.iter_users())
    return users if digests is None else merge_csv_digests_sync(users, digests)


class ClerkApiSettings(Protocol):
    """What ``read_clerk_api_source`` reads from the manifest's ``users.source`` (kind
    ``clerk-api``); a protocol so sources stay independent of the manifest models."""

    @property
    def secret_key(self) -> Any: ...  # a pydantic SecretStr, or a plain str

    @property
    def csv(self) -> str | os.PathLike[str] | None: ...

    @property
    def base_url(self) -> object | None: ...


def read_clerk_api_source(
    settings: ClerkApiSettings, **options: Any
) -> tuple[Iterator[UserRecord], Iterator[OrganizationRecord], Iterator[MembershipRecord]]:
    """The three streams of a ``clerk-api`` user source, for the importer.

    Nothing is fetched until a stream is iterated; the CSV export (if any) is read now, so a
    missing or malformed file fails before the first request. Each stream has its own client
    and rate-limit window; an importer reads them one after the other, and a 429 from reading
    two at once is waited out like any other.
    """
    secret = settings.secret_key
    key = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
    if settings.base_url is not None:
        options.setdefault("base_url", str(settings.base_url))
    if settings.csv is not None:
        options["csv_digests"] = load_csv_digests(settings.csv)
    users = read_clerk_api_users(key, **options)
    options.pop("csv_digests", None)
    return (
        users,
        read_clerk_api_organizations(key, **options),
        read_clerk_api_memberships(key, **options),
    )


def read_clerk_api_organizations(secret_key: str, **options: Any) -> Iterator[OrganizationRecord]:
    return _blocking(secret_key, options, lambda source: source.iter_organizations())


def read_clerk_api_memberships(
    secret_key: str, *, organization_id: str | None = None, **options: Any
) -> Iterator[MembershipRecord]:
    return _blocking(secret_key, options, lambda source: source.iter_memberships(organization_id))


def _blocking(
    secret_key: str,
    options: Mapping[str, Any],
    open_stream: Callable[[ClerkApiSource], AsyncIterator[T]],
) -> Iterator[T]:
    """One of the async walks for synchronous code. The source is built now, so a bad key or
    a non-HTTPS URL fails at the call, before anything is fetched; the walk then runs on a
    private event loop a page at a time, so a synchronous importer still streams."""
    return _drive(ClerkApiSource(secret_key, **options), open_stream)


def _drive(
    source: ClerkApiSource, open_stream: Callable[[ClerkApiSource], AsyncIterator[T]]
) -> Iterator[T]:
    """Not for use inside a running event loop: call the async API there. Closing the
    iterator early (or dropping it) closes the walk and its HTTP client."""
    loop = asyncio.new_event_loop()
    stream: AsyncIterator[T] | None = None
    try:
        stream = open_stream(source)
        while True:
            try:
                item = loop.run_until_complete(anext(stream))
            except StopAsyncIteration:
                return
            yield item
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        loop.run_until_complete(source.aclose())
        loop.close()
