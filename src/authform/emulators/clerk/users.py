"""Users (``/v1/users``): create, list and count with Clerk's filters, read, update, delete,
replace the email address, and verify a password. Users as the emulator holds them
(``NewUser``, from an API body or a seed item) and as the API answers them (``User``,
``EmailAddress``, ``PhoneNumber``)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..base import ApiError
from ..store import from_json, placeholders, to_json
from .collection import Collection, Filters, like, query_bool, query_optional_int, query_values
from .family import (
    NO_IMAGE,
    Answers,
    Operation,
    Rows,
    Stated,
    api_error,
    clerk_id,
    errors_body,
    now_ms,
    param_invalid,
    stamps,
    taken,
    update,
)
from .forms import REQUIRED, Form, Rule, body, names, read_form
from .passwords import check_password_fields, digest_matches, hash_password

_IDENTIFIED: Final = "{uid} IN (SELECT user_id FROM clerk_identifications WHERE "


@dataclass(frozen=True)
class UserFilter:
    """One parameter's SQL condition. ``{uid}`` stands for the user id column, ``{values}``
    for the placeholders of the parameter's values; ``excluding`` is the condition of the
    ``-value`` form of a signed parameter. ``read`` says how the parameter is read: values
    (``lower``: compared without case), ``signed`` values, one ``like`` pattern, a ``bound``
    in Unix ms, a ``flag``, or ``never`` (nothing can match: no web3 wallets here)."""

    sql: str
    read: Literal["values", "lower", "signed", "like", "bound", "flag", "never"]
    excluding: str = ""


USER_FILTERS: Final = {
    "email_address": UserFilter(
        _IDENTIFIED + "kind = 'email_address' AND lower(value) IN ({values}))", "lower"
    ),
    "phone_number": UserFilter(
        _IDENTIFIED + "kind = 'phone_number' AND value IN ({values}))", "values"
    ),
    "username": UserFilter("lower(u.username) IN ({values})", "lower"),
    "web3_wallet": UserFilter("0", "never"),
    "external_id": UserFilter(
        "u.external_id IN ({values})",
        "signed",
        "(u.external_id IS NULL OR u.external_id NOT IN ({values}))",
    ),
    "user_id": UserFilter("{uid} IN ({values})", "signed", "{uid} NOT IN ({values})"),
    "organization_id": UserFilter(
        "{uid} IN (SELECT user_id FROM clerk_memberships WHERE organization_id IN ({values}))",
        "signed",
        "{uid} NOT IN (SELECT user_id FROM clerk_memberships WHERE organization_id IN ({values}))",
    ),
    "query": UserFilter(
        "(lower({uid}) LIKE ? ESCAPE '\\' OR lower(coalesce(u.first_name, '')) LIKE ? ESCAPE '\\'"
        " OR lower(coalesce(u.last_name, '')) LIKE ? ESCAPE '\\' OR "
        "lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\' OR {uid} IN (SELECT user_id "
        "FROM clerk_identifications WHERE lower(value) LIKE ? ESCAPE '\\'))",
        "like",
    ),
    "email_address_query": UserFilter(
        _IDENTIFIED + "kind = 'email_address' AND lower(value) LIKE ? ESCAPE '\\')", "like"
    ),
    "phone_number_query": UserFilter(
        _IDENTIFIED + "kind = 'phone_number' AND lower(value) LIKE ? ESCAPE '\\')", "like"
    ),
    "username_query": UserFilter("lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\'", "like"),
    "name_query": UserFilter(
        "lower(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) LIKE ? ESCAPE '\\'",
        "like",
    ),
    "banned": UserFilter("u.banned = ?", "flag"),
    "created_at_before": UserFilter("u.created_at < ?", "bound"),
    "created_at_after": UserFilter("u.created_at > ?", "bound"),
    "last_active_at_before": UserFilter("u.last_active_at < ?", "bound"),
    "last_active_at_after": UserFilter("u.last_active_at > ?", "bound"),
    "last_active_at_since": UserFilter("u.last_active_at >= ?", "bound"),
    "last_sign_in_at_before": UserFilter("u.last_sign_in_at < ?", "bound"),
    "last_sign_in_at_after": UserFilter("u.last_sign_in_at > ?", "bound"),
}
# User list orderings, in the order Clerk's document lists them (an invalid order_by names
# them so); those by a user's own fields also order membership lists.
ORDER_FIELDS: Final = {
    "created_at": "u.created_at",
    "updated_at": "u.updated_at",
    "email_address": "(SELECT lower(value) FROM clerk_identifications "
    "WHERE id = u.primary_email_address_id)",
    "web3wallet": "NULL",
    "first_name": "lower(u.first_name)",
    "last_name": "lower(u.last_name)",
    "phone_number": "(SELECT value FROM clerk_identifications "
    "WHERE id = u.primary_phone_number_id)",
    "username": "lower(u.username)",
    "last_active_at": "u.last_active_at",
    "last_sign_in_at": "u.last_sign_in_at",
}
USER_ORDER_FIELDS: Final = {
    key: ORDER_FIELDS[key]
    for key in ("email_address", "phone_number", "first_name", "last_name", "username")
}


def filter_users(
    request: Request, filters: Filters, names: Iterable[str] = USER_FILTERS, *, uid: str = "u.id"
) -> Filters:
    """Add the conditions of the parameters ``names`` the request sets to ``filters``."""
    for name in names:
        rule = USER_FILTERS[name]
        sql = rule.sql.replace("{uid}", uid)
        if rule.read == "like":
            value = request.query_params.get(name)
            if value:
                filters.add(sql, *[like(value)] * sql.count("?"))
        elif rule.read in ("bound", "flag"):
            bound = (query_optional_int if rule.read == "bound" else query_bool)(request, name)
            if bound is not None:
                filters.add(sql, bound)
        else:
            values = query_values(request, name)
            if rule.read == "lower":
                values = [value.lower() for value in values]
            if rule.read == "never" and values:
                filters.add(sql)
            elif rule.read == "signed":
                filters.add_signed(sql, rule.excluding.replace("{uid}", uid), values)
            elif values:
                filters.add(sql.format(values=placeholders(values)), *values)
    return filters


EMAIL_ADDRESS: Final = Rule(
    "texts",
    pattern=re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    invalid="email_address must be a valid email address.",
)
USERNAME_LENGTH: Final = (4, 64)
METADATA: Final = ("public_metadata", "private_metadata", "unsafe_metadata")
# CreateUser's documented body (additionalProperties: false).
CREATE_USER: Final = body(
    "external_id first_name last_name locale username email_address phone_number web3_wallet "
    "email_address_identification_status phone_number_identification_status password "
    "password_digest password_hasher skip_password_checks totp_secret backup_codes "
    "public_metadata private_metadata unsafe_metadata skip_password_requirement "
    "delete_self_enabled create_organization_enabled bypass_client_trust banned locked "
    "skip_legal_checks skip_user_requirement create_organizations_limit legal_accepted_at "
    "created_at",
    email_address=EMAIL_ADDRESS,
    phone_number=Rule(
        "texts",
        pattern=re.compile(r"\+[1-9]\d{6,14}"),
        invalid="phone_number must be a valid phone number in E.164 format.",
    ),
    web3_wallet=Rule("texts", unsupported="The emulator does not support web3 wallets."),
    totp_secret=Rule(
        pattern=re.compile(r"[A-Za-z2-7]+=*"),
        invalid="totp_secret must be a base32-encoded secret.",
    ),
)
# CreateUser fields stored as they are, in clerk_users columns of the same name (a field not
# sent takes the column's default: the document's defaults, e.g. delete_self_enabled true).
CREATE_USER_AS_IS: Final = names(
    "external_id username first_name last_name locale password_digest password_hasher totp_secret "
    "create_organizations_limit legal_accepted_at created_at backup_codes banned locked "
    "bypass_client_trust delete_self_enabled create_organization_enabled"
)
NULLABLE_USER_FIELDS: Final = ("external_id", "first_name", "last_name", "locale", "username")
UPDATED_AS_IS: Final = names(
    "delete_self_enabled create_organization_enabled bypass_client_trust "
    "create_organizations_limit legal_accepted_at created_at"
)
# UpdateUser's documented body (additionalProperties: false).
UPDATE_USER: Final = body(
    "external_id first_name last_name locale username password password_digest password_hasher "
    "skip_password_checks sign_out_of_other_sessions skip_legal_checks totp_secret backup_codes "
    "delete_self_enabled create_organization_enabled bypass_client_trust "
    "create_organizations_limit legal_accepted_at created_at primary_email_address_id "
    "notify_primary_email_address_changed primary_phone_number_id profile_image_id",
    totp_secret=CREATE_USER["totp_secret"],
    **{
        name: Rule(unsupported=f"The emulator does not support changing {name}.")
        for name in ("primary_phone_number_id", "profile_image_id")
    },
)
REPLACE_EMAIL_ADDRESS: Final = body(
    "email_address! identification_status notify_primary_email_address_changed",
    email_address=replace(EMAIL_ADDRESS, kind="text"),
    identification_status=Rule(
        choices=("verified", "reserved", "unverified", ""),
        invalid="identification_status must be one of verified, reserved or unverified.",
    ),
)
# clerk_users columns a NewUser may hold as values, stored as JSON.
JSON_COLUMNS: Final = (*METADATA, "backup_codes", "external_accounts")


@dataclass
class NewIdentification:
    kind: str  # "email_address" | "phone_number"
    value: str
    status: str = "verified"  # "verified" | "unverified" | "reserved"
    reserved_for_second_factor: bool = False
    default_second_factor: bool = False
    verification_strategy: str | None = None
    linked_to: list[dict[str, str]] = field(default_factory=list)
    id: str = field(default_factory=lambda: clerk_id("idn_"))

    def row(self, user_id: str, position: int, now: int) -> dict[str, Any]:
        values = {**vars(self), "linked_to": to_json(self.linked_to), "user_id": user_id}
        return {**values, "position": position, **stamps(now)}


@dataclass
class NewUser:
    """A user to store, from an API body or a seed item: its clerk_users columns (those not
    given take the table's defaults; JSON ones as values) and its identifications."""

    columns: dict[str, Any]
    emails: list[NewIdentification] = field(default_factory=list)
    phones: list[NewIdentification] = field(default_factory=list)
    primary_email: str | None = None
    primary_phone: str | None = None

    def primary(self, items: Sequence[NewIdentification], wanted: str | None) -> str | None:
        """The id of the primary identification: the one wanted, else the first verified."""
        chosen = [item for item in items if item.value == wanted]
        chosen = chosen or [item for item in items if item.status == "verified"] or [*items]
        return chosen[0].id if chosen else None


def _statuses(form: Form, kind: str, count: int) -> list[str]:
    """``<kind>_identification_status``: one of verified/reserved per identifier sent."""
    name = f"{kind}_identification_status"
    statuses = form[name] or ["verified"] * count
    if len(statuses) != count:
        form.invalid(name, f"{name} must have exactly one item per {kind}.")
    elif any(status not in ("verified", "reserved") for status in statuses):
        form.invalid(name, f"{name} items must be 'verified' or 'reserved'.")
    else:
        return list(statuses)
    return ["verified"] * count


def parse_create_user(form: Form) -> NewUser:
    """A ``POST /v1/users`` body as a ``NewUser``; raises the 422 listing every problem. A
    plaintext password is left for the caller to hash (off the event loop)."""
    found = []
    for kind in ("email_address", "phone_number"):
        values = [value.strip() for value in form[kind] or []]
        statuses = _statuses(form, kind, len(values))
        found.append(
            [NewIdentification(kind, *pair) for pair in zip(values, statuses, strict=True)]
        )
    low, high = USERNAME_LENGTH
    if form["username"] is not None and not low <= len(form["username"]) <= high:
        text = f"Username must be between {low} and {high} characters long."
        form.fail("form_username_invalid_length", "username", "is invalid", text)
    check_password_fields(form)
    form.check()
    emails, phones = found
    # "The first email address will be set as the user's primary email address."
    firsts = [items[0].value if items else None for items in found]
    columns = {"id": clerk_id("user_"), **form.given(*CREATE_USER_AS_IS, *METADATA)}
    return NewUser(columns, emails, phones, *firsts)


# Fields every User answer carries with the same value here: what the emulator does not model.
USER_CONSTANTS: Final = {
    "object": "user",
    "profile_image_url": NO_IMAGE["image_url"],
    **NO_IMAGE,
    **dict.fromkeys(
        names(
            "primary_web3_wallet_id mfa_disabled_at lockout_expires_in_seconds "
            "verification_attempts_remaining"
        )
    ),
}
# (answered as empty lists, one new list per answer)
USER_EMPTY_LISTS: Final = names("web3_wallets passkeys saml_accounts enterprise_accounts")
# clerk_users columns a User answer copies as they are, and those it answers as booleans.
USER_ANSWERED_AS_IS: Final = names(
    "id external_id primary_email_address_id primary_phone_number_id username first_name "
    "last_name locale mfa_enabled_at password_last_updated_at last_sign_in_at updated_at "
    "created_at create_organizations_limit last_active_at legal_accepted_at"
)
USER_ANSWERED_AS_FLAGS: Final = names(
    "banned locked delete_self_enabled create_organization_enabled bypass_client_trust"
)


def verification_json(row: sqlite3.Row) -> dict[str, Any] | None:
    """The verification object of an email address or phone number.

    Clerk's answers carry ``object`` (``verification_admin``…) even though the document marks
    it optional: the SDK's union discriminates on it, so without it nothing parses.
    """
    status, strategy = row["status"], row["verification_strategy"]
    if status == "reserved":
        return None
    if status == "verified" and strategy and strategy.startswith("from_oauth_"):
        kind = "from_oauth"
    elif status == "verified":
        kind, strategy = "admin", "admin"
    else:
        kind = "otp"
        strategy = "email_code" if row["kind"] == "email_address" else "phone_code"
    answer = {"object": f"verification_{kind}", "status": status, "strategy": strategy}
    return {**answer, "attempts": None, "expire_at": None}


def identification_json(row: sqlite3.Row) -> dict[str, Any]:
    """An ``EmailAddress`` or a ``PhoneNumber``."""
    answer = {
        "id": row["id"],
        "object": row["kind"],
        row["kind"]: row["value"],
        "reserved": row["status"] == "reserved",
        "verification": verification_json(row),
        "linked_to": from_json(row["linked_to"], []),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if row["kind"] == "phone_number":
        for flag in ("reserved_for_second_factor", "default_second_factor"):
            answer[flag] = bool(row[flag])
        answer["backup_codes"] = None
    return answer


def user_json(row: sqlite3.Row, identifications: Sequence[sqlite3.Row]) -> dict[str, Any]:
    """A ``User`` exactly as the document defines it. The digest, hasher, TOTP secret and
    backup codes stay in the database: the real API has no fields for them."""
    emails = [identification_json(i) for i in identifications if i["kind"] == "email_address"]
    phones = [identification_json(i) for i in identifications if i["kind"] == "phone_number"]
    totp, backup = row["totp_secret"] is not None, row["backup_codes"] is not None
    sms = any(phone["reserved_for_second_factor"] for phone in phones)
    return {
        **USER_CONSTANTS,
        **{name: [] for name in USER_EMPTY_LISTS},
        **{column: row[column] for column in USER_ANSWERED_AS_IS},
        **{column: bool(row[column]) for column in USER_ANSWERED_AS_FLAGS},
        **{column: from_json(row[column], {}) for column in METADATA},
        "email_addresses": emails,
        "phone_numbers": phones,
        "password_enabled": row["password_digest"] is not None,
        "two_factor_enabled": totp or backup or sms,
        "totp_enabled": totp,
        "backup_code_enabled": backup,
        "external_accounts": from_json(row["external_accounts"], []),
    }


class Users(Collection):
    table, noun, object, path, item = "clerk_users", "user", "user", "/users", "user_id"
    source, alias, tiebreak, order = "clerk_users AS u", "u", "u.id", ORDER_FIELDS

    def operations(self) -> Sequence[Operation]:
        user = "/users/{user_id}"
        return (
            ("GET", "/users/count", self.count),
            *super().operations(),
            ("PUT", f"{user}/email_address", self.replace_email_address),
            ("POST", f"{user}/verify_password", self.verify_password),
        )

    def answers(self, rows: Rows, request: Request | None = None) -> Answers:
        ids = [row["id"] for row in rows]
        by_user: dict[str, list[sqlite3.Row]] = {user_id: [] for user_id in ids}
        for identification in self.store.all(
            f"SELECT * FROM clerk_identifications WHERE user_id IN ({placeholders(ids)}) "
            "ORDER BY position",
            ids,
        ):
            by_user[identification["user_id"]].append(identification)
        return [user_json(row, by_user[row["id"]]) for row in rows]

    def _check_free(
        self,
        identifications: Sequence[NewIdentification],
        values: Mapping[str, str | None],
        own_id: str = "",
    ) -> None:
        """Emails, phone numbers, usernames and external ids are unique per instance; emails
        and usernames without regard to case, as Clerk compares them. ``values`` holds the
        username and external id a user is to have (``None``: unchanged)."""
        errors: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for identification in identifications:
            kind, value = identification.kind, identification.value.lower()
            if (kind, value) in seen or self.store.one(
                "SELECT 1 FROM clerk_identifications WHERE kind = ? AND lower(value) = ?",
                [kind, value],
            ):
                errors.append(taken(kind))
            seen.add((kind, value))
        for column, compared in (("username", "lower(username)"), ("external_id", "external_id")):
            wanted = values.get(column)
            if wanted is not None and self.store.one(
                f"SELECT 1 FROM clerk_users WHERE {compared} = ? AND id != ?",  # noqa: S608
                [wanted.lower() if column == "username" else wanted, own_id],
            ):
                errors.append(taken(column, "external ID" if column == "external_id" else None))
        if errors:
            raise ApiError(422, errors_body(*errors))

    def insert_user(self, user: NewUser, *, check_identifiers: bool = True) -> str:
        """Store ``user``; its id. The seed skips the case-insensitive identifier check: it
        describes a state, and exports of long-lived instances hold addresses differing
        only in case."""
        columns = user.columns
        if check_identifiers:
            self._check_free([*user.emails, *user.phones], columns)
        times = Stated(None, columns.get("created_at"), columns.get("updated_at")).times()
        created_at = times["created_at"]
        second_factor = (
            columns.get("totp_secret") is not None
            or columns.get("backup_codes") is not None
            or any(phone.reserved_for_second_factor for phone in user.phones)
        )
        has_password = columns.get("password_digest") is not None
        row = {
            **columns,
            **{key: to_json(columns[key]) for key in JSON_COLUMNS if columns.get(key) is not None},
            "primary_email_address_id": user.primary(user.emails, user.primary_email),
            "primary_phone_number_id": user.primary(user.phones, user.primary_phone),
            "password_hasher": columns.get("password_hasher") if has_password else None,
            "password_last_updated_at": created_at if has_password else None,
            "mfa_enabled_at": created_at if second_factor else None,
            **times,
        }
        with self.store.transaction() as conn:
            self.store.insert("clerk_users", row, conn)
            for position, item in enumerate([*user.emails, *user.phones]):
                self.store.insert(
                    "clerk_identifications", item.row(row["id"], position, created_at), conn
                )
        return str(row["id"])

    async def list(self, request: Request) -> Response:
        """A bare array, not ``{data, total_count}``: totals come from /v1/users/count. The
        ``starting_after`` cursor (the document: it needs a created_at ordering, the only one
        both unique with the id tiebreak and immutable, and no offset; else 422)."""
        limit, offset, order = self.paging(request)
        filters = self.filters(request)
        after = request.query_params.get("starting_after")
        if after and order.field != "created_at":
            text = (
                "starting_after can only be combined with created_at ordering "
                "(order_by omitted, created_at, +created_at or -created_at)."
            )
            raise param_invalid("starting_after", text)
        if after and offset != 0:
            text = "starting_after cannot be combined with a non-zero offset."
            raise param_invalid("starting_after", text)
        if after:
            cursor = self.store.one("SELECT created_at, id FROM clerk_users WHERE id = ?", [after])
            if cursor is None:
                text = f"starting_after: no user was found with id {after}"
                raise param_invalid("starting_after", text)
            newer = "<" if order.descending else ">"
            filters.add(f"(u.created_at, u.id) {newer} (?, ?)", *cursor)
        return JSONResponse(self.answers(self.rows(filters, limit, offset, order)))

    def filters(self, request: Request) -> Filters:
        """The filters ``GET /v1/users`` and ``/v1/users/count`` share."""
        filters = filter_users(request, Filters())
        provider = request.query_params.get("provider")
        provider_ids = query_values(request, "provider_user_id")
        if provider or provider_ids:
            if not (provider and provider_ids):
                text = "provider and provider_user_id must be used together."
                raise param_invalid("provider", text)
            # External accounts live as JSON on the user row.
            filters.add(
                "EXISTS (SELECT 1 FROM json_each(u.external_accounts) AS account WHERE "
                "json_extract(account.value, '$.provider') = ? AND "
                "json_extract(account.value, '$.provider_user_id') IN "
                f"({placeholders(provider_ids)}))",
                provider,
                *provider_ids,
            )
        return filters

    async def count(self, request: Request) -> Response:
        total = self.total(self.filters(request))
        return JSONResponse({"object": "total_count", "total_count": total})

    async def create(self, request: Request) -> Response:
        form = await read_form(request, CREATE_USER)
        user = parse_create_user(form)
        if form["password"] is not None:  # bcrypt takes ~50 ms: off the event loop
            digest = await run_in_threadpool(hash_password, form["password"])
            user.columns.update(password_digest=digest, password_hasher="bcrypt")
        return self.respond(self.insert_user(user))  # CreateUser documents 200, not 201

    def deleting(self, conn: sqlite3.Connection, row: sqlite3.Row) -> None:
        # No foreign key holds memberships to their user (see schema.sql).
        conn.execute("DELETE FROM clerk_memberships WHERE user_id = ?", [row["id"]])

    async def update(self, request: Request) -> Response:
        """UpdateUser: the fields the emulator stores are changed; a field sent as ``null``
        clears a nullable one. Identifiers stay unique (``form_identifier_exists``)."""
        row = self.row(request)
        form = await read_form(request, UPDATE_USER)
        changes = form.given(*NULLABLE_USER_FIELDS, nullable=True)
        changes.update(form.given(*UPDATED_AS_IS))
        check_password_fields(form)
        primary_email = form["primary_email_address_id"]
        if primary_email is not None:
            if self.store.one(
                "SELECT 1 FROM clerk_identifications WHERE id = ? AND user_id = ? AND kind = "
                "'email_address' AND status = 'verified'",
                [primary_email, row["id"]],
            ):
                changes["primary_email_address_id"] = primary_email
            else:
                text = "primary_email_address_id must be a verified email address of this user."
                form.invalid("primary_email_address_id", text)
        form.check()
        self._check_free([], changes, row["id"])
        now = now_ms()
        digest, hasher = form["password_digest"], form["password_hasher"]
        if form["password"] is not None:
            digest, hasher = await run_in_threadpool(hash_password, form["password"]), "bcrypt"
        if digest is not None:
            changes.update(
                password_digest=digest, password_hasher=hasher, password_last_updated_at=now
            )
        if form["totp_secret"] is not None:
            mfa_enabled_at = row["mfa_enabled_at"] or now
            changes.update(totp_secret=form["totp_secret"], mfa_enabled_at=mfa_enabled_at)
        update(self.store, "clerk_users", row["id"], {**changes, "updated_at": now})
        return self.respond(row["id"])

    async def replace_email_address(self, request: Request) -> Response:
        """ReplaceUserEmailAddress: one new primary address replaces all of the user's."""
        row = self.row(request)
        form = await read_form(request, REPLACE_EMAIL_ADDRESS)
        form.check()
        address = form["email_address"].strip()
        status = form["identification_status"] or "verified"
        if status != "unverified" and self.store.one(
            "SELECT 1 FROM clerk_identifications WHERE kind = 'email_address' AND "
            "lower(value) = ? AND user_id != ? AND status != 'unverified'",
            [address.lower(), row["id"]],
        ):
            raise ApiError(422, errors_body(taken("email_address")))
        if self.store.one(
            "SELECT 1 FROM clerk_identifications WHERE user_id = ? AND kind = 'email_address' "
            "AND linked_to != '[]'",
            [row["id"]],
        ):
            raise api_error(
                400,
                "email_address_linked_to_external_account",
                "linked to a connected account",
                "An email address of this user is linked to a connected account; remove the "
                "connected account first.",
            )
        identification, now = NewIdentification("email_address", address, status), now_ms()
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM clerk_identifications WHERE user_id = ? AND kind = 'email_address'",
                [row["id"]],
            )
            self.store.insert("clerk_identifications", identification.row(row["id"], -1, now), conn)
            changes = {"primary_email_address_id": identification.id, "updated_at": now}
            update(conn, "clerk_users", row["id"], changes)
        stored = self.store.find("clerk_identifications", "id", identification.id)
        assert stored is not None
        return JSONResponse(identification_json(stored))

    async def verify_password(self, request: Request) -> Response:
        """VerifyPassword: 200 ``{verified: true}``; 400 without a password; 422 when wrong.
        The emulator checks the digests it can compute (see ``digest_matches``)."""
        row = self.row(request)
        form = await read_form(request, {"password": REQUIRED})
        form.check()
        if row["password_digest"] is None:
            text = "The user does not have a password set."
            raise api_error(400, "no_password_set", "no password", text)
        hasher = row["password_hasher"]
        matches = await run_in_threadpool(
            digest_matches, hasher, row["password_digest"], form["password"]
        )
        if matches is None:
            text = f"The emulator cannot check {hasher} digests."
            raise api_error(422, "password_verification_not_emulated", "cannot verify", text)
        if not matches:
            text = "The password is incorrect."
            raise api_error(422, "incorrect_password", "incorrect password", text)
        return JSONResponse({"verified": True})
