"""Users (``/user_management/users``): plaintext passwords are bcrypt-hashed (off the event
loop), imported digests are stored with their type, and emails are trimmed and lowercased
before storing, as WorkOS documents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NoReturn

import bcrypt
from starlette.concurrency import run_in_threadpool

from ..routing import Call, Endpoint, Shape
from ..store import to_json
from .errors import bad_request
from .fields import EXTERNAL_ID, Fields, Rule, parse_metadata
from .organizations import Organizations
from .schema import BCRYPT_PATTERN, EMAIL_PATTERN, PASSWORD_HASH_TYPES

BCRYPT_ROUNDS = 10
BCRYPT_MAX_BYTES = 72  # bcrypt ignores the rest; the library refuses longer input

user_json = Shape(
    columns=(
        "id", "email", "first_name", "last_name", "name", "external_id", "locale",
        "last_sign_in_at", "created_at", "updated_at",
    ),
    flags={"email_verified": "email_verified"},
    documents={"metadata": {}},
    constants={"object": "user", "profile_picture_url": None},
)  # fmt: skip
EMAIL = Rule("email", pattern=EMAIL_PATTERN, hint="must be a valid email address")
CREATE_RULES = (
    replace(EMAIL, required=True),
    *(Rule(name, nullable=True) for name in ("first_name", "last_name", "name")),
    Rule("email_verified", kind="boolean", nullable=True),
    EXTERNAL_ID,
    *(Rule(name, nullable=True) for name in ("ip_address", "user_agent")),
    Rule("signals_id"),
)
UPDATE_RULES = (
    EMAIL,
    *(Rule(name) for name in ("first_name", "last_name", "name")),
    Rule("email_verified", kind="boolean"),
    EXTERNAL_ID,
    Rule("locale", nullable=True),
)
USER_COLUMNS = ("email", "first_name", "last_name", "name", "email_verified", "external_id")


def hash_password(password: str) -> str:
    secret = password.encode()[:BCRYPT_MAX_BYTES]
    return bcrypt.hashpw(secret, bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def password_matches(password: str, stored_hash: str) -> bool:
    """bcrypt check accepting ``$2a$``, ``$2b$`` and ``$2y$`` digests (Clerk exports 2a/2b)."""
    try:
        return bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], stored_hash.encode())
    except ValueError:
        return False


def parse_password(fields: Fields, precomputed_hash: str | None) -> tuple[str, str] | None:
    """``(hash, hash_type)`` from ``password`` or ``password_hash``+``password_hash_type``."""
    data = fields.data
    has_password = data.get("password") is not None
    has_hash = data.get("password_hash") is not None
    if has_password and has_hash:
        raise bad_request(
            "password_and_password_hash_provided",
            "Provide either password or password_hash, not both.",
        )
    if has_password and data.get("password_hash_type") is not None:
        raise bad_request(
            "password_and_password_hash_type_provided",
            "password_hash_type can only be used with password_hash.",
        )
    if data.get("password_salt_position") is not None and not has_hash:
        raise bad_request(
            "password_salt_position_requires_password_hash",
            "password_salt_position can only be used with password_hash.",
        )
    if has_password:
        password = fields.string("password")
        fields.check()
        if password is not None and not password:
            raise bad_request(
                "password_strength_error",
                "Password does not meet strength requirements.",
                errors=[{"code": "password_too_short", "message": "Password is empty."}],
            )
        return None if password is None else (precomputed_hash or hash_password(password), "bcrypt")
    if not has_hash:
        return None
    password_hash = fields.string("password_hash", non_empty=True)
    hash_type = fields.string("password_hash_type", required=True, choices=PASSWORD_HASH_TYPES)
    fields.string("password_salt_position", pattern="prefix|suffix")
    fields.check()
    if hash_type == "bcrypt" and re.fullmatch(BCRYPT_PATTERN, password_hash) is None:
        raise bad_request("invalid_password_hash", "The bcrypt password hash is invalid.")
    return (password_hash, hash_type)


async def precompute_hash(body: Mapping[str, Any]) -> str | None:
    """Hash a plaintext password off the event loop (bcrypt takes tens of ms)."""
    password = body.get("password")
    if isinstance(password, str) and password and body.get("password_hash") is None:
        return await run_in_threadpool(hash_password, password)
    return None


class Users(Organizations):
    def endpoints(self) -> list[Endpoint]:
        users, one = "/user_management/users", "/user_management/users/{id}"
        by_external_id = f"{users}/external_id/{{external_id:path}}"
        return [
            *super().endpoints(),
            Endpoint("GET", users, self._list_users),
            Endpoint("POST", users, self._create_user, 201),
            Endpoint("GET", by_external_id, lambda c: self._user_json(c, "external_id")),
            Endpoint("GET", one, lambda c: self._user_json(c, "id")),
            Endpoint("PUT", one, self._update_user),
            Endpoint("DELETE", one, lambda c: self.delete("users", c.path["id"])),
        ]

    def _user_json(self, call: Call, column: str) -> dict[str, Any]:
        return user_json(self.row("users", call.path[column], column))

    def create_user(
        self, data: Mapping[str, Any], *, precomputed_hash: str | None = None
    ) -> dict[str, Any]:
        fields = Fields(data)
        values = fields.read(CREATE_RULES)
        fields.check()
        password = parse_password(fields, precomputed_hash)
        metadata = parse_metadata(data) or {}
        # "WorkOS trims whitespace and converts the address to lowercase before storing it."
        email = values["email"].strip().lower()
        external_id = values["external_id"]
        if self.store.find("users", "email", email):
            self._refuse_creation("email_not_available", "This email is not available.")
        if external_id is not None and self.store.find("users", "external_id", external_id):
            message = f"The external_id '{external_id}' is already used."
            self._refuse_creation("external_id_already_used", message)
        row = {name: values[name] for name in USER_COLUMNS}
        row.update(
            email=email,
            email_verified=bool(values["email_verified"]),
            metadata=to_json(metadata),
            password_hash=password[0] if password else None,
            password_hash_type=password[1] if password else None,
        )
        return user_json(self.row("users", self.insert("users", "user_", row)))

    @staticmethod
    def _refuse_creation(code: str, message: str) -> NoReturn:
        errors = [{"code": code, "message": message}]
        raise bad_request("user_creation_error", "Could not create user.", errors=errors)

    def update_user(
        self, user_id: str, data: Mapping[str, Any], *, precomputed_hash: str | None = None
    ) -> dict[str, Any]:
        self.row("users", user_id)
        fields = Fields(data)
        values = fields.read(UPDATE_RULES)
        fields.check()
        password = parse_password(fields, precomputed_hash)
        metadata = parse_metadata(data)
        changes = {name: value for name, value in values.items() if value is not None}
        for nullable in ("external_id", "locale"):  # an explicit null clears these
            if fields.has(nullable):
                changes[nullable] = values[nullable]
        if values["email"] is not None:
            changes["email"] = email = values["email"].strip().lower()
            if self.store.taken_by("users", "email", email, user_id):
                raise bad_request("email_not_available", "This email is not available.")
        if values["external_id"] is not None:
            self.check_external_id_free("users", values["external_id"], user_id)
        if metadata is not None:
            changes["metadata"] = to_json(metadata)
        if password is not None:
            changes["password_hash"], changes["password_hash_type"] = password
        self.touch("users", user_id, **changes)
        return user_json(self.row("users", user_id))

    def _list_users(self, call: Call) -> dict[str, Any]:
        conditions: dict[str, list[Any]] = {}
        if email := call.query.get("email"):
            conditions["email = ?"] = [email.strip().lower()]
        if organization_id := call.query.get("organization_id") or call.query.get("organization"):
            members = "SELECT user_id FROM organization_memberships WHERE organization_id = ?"
            conditions[f"id IN ({members})"] = [organization_id]
        return self.listing(call, "users", user_json.many, conditions)

    async def _create_user(self, call: Call) -> dict[str, Any]:
        precomputed = await precompute_hash(call.json)
        return self.create_user(call.json, precomputed_hash=precomputed)

    async def _update_user(self, call: Call) -> dict[str, Any]:
        body = call.json  # a malformed body is refused before an unknown user
        user_id = self.row("users", call.path["id"])["id"]
        precomputed = await precompute_hash(body)
        return self.update_user(user_id, body, precomputed_hash=precomputed)
