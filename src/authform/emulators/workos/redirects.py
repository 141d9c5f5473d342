"""Redirect URIs and CORS origins (``/user_management/redirect_uris``, ``…/cors_origins``).

The first redirect URI becomes the environment's default, and the oldest remaining one takes
over when the default is deleted. The API cannot remove a CORS origin; the dashboard's
remove lives at ``DELETE /_emulate/cors_origins?origin=…``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import ApiError
from ..routing import Call, Endpoint, Shape
from ..store import now_iso
from .authorization import Authorization
from .errors import error_body
from .fields import Rule, read_fields

redirect_uri_json = Shape(
    columns=("id", "uri", "created_at", "updated_at"),
    flags={"default": "is_default"},
    constants={"object": "redirect_uri"},
)
cors_origin_json = Shape(
    columns=("id", "origin", "created_at", "updated_at"), constants={"object": "cors_origin"}
)
# The document gives the CORS endpoint class-validator style errors.
INVALID_ORIGIN = {
    "message": "Validation failed.",
    "code": "invalid_request_parameters",
    "errors": [
        {
            "property": "origin",
            "constraints": {"isOrigin": "origin must be a scheme://host[:port] origin"},
        }
    ],
}


def is_valid_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path == ""
        and not parts.query
        and not parts.fragment
        and not parts.username
    )


def is_valid_redirect_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    if not parts.scheme or " " in uri:
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname)
    return True  # native apps register custom schemes (myapp://callback)


class Redirects(Authorization):
    def endpoints(self) -> list[Endpoint]:
        uris, origins = "/user_management/redirect_uris", "/user_management/cors_origins"
        return [
            *super().endpoints(),
            Endpoint(
                "GET", uris, lambda c: self.listing(c, "redirect_uris", redirect_uri_json.many)
            ),
            Endpoint("POST", uris, lambda c: self.create_redirect_uri(c.json), 201),
            Endpoint("DELETE", f"{uris}/{{id}}", self._delete_redirect_uri, 204),
            Endpoint(
                "GET", origins, lambda c: self.listing(c, "cors_origins", cors_origin_json.many)
            ),
            Endpoint("POST", origins, lambda c: self.create_cors_origin(c.json), 201),
            # What only the dashboard can do: Authentication → Sessions → CORS → remove.
            Endpoint("DELETE", "/_emulate/cors_origins", self._dashboard_delete_origin, 204),
        ]

    def create_redirect_uri(self, data: Mapping[str, Any]) -> dict[str, Any]:
        uri = read_fields(data, [Rule("uri", required=True, non_empty=True)])["uri"]
        if not is_valid_redirect_uri(uri):
            raise ApiError(400, error_body(f"'{uri}' is not a valid redirect URI."))
        if self.store.find("redirect_uris", "uri", uri):
            message = f"Redirect URI '{uri}' already exists."
            raise ApiError(400, error_body(message, "redirect_uri_already_exists"))
        # The first redirect URI of an environment becomes its default.
        is_first = self.store.one("SELECT 1 FROM redirect_uris LIMIT 1") is None
        redirect_id = self.insert("redirect_uris", "redir_", {"uri": uri, "is_default": is_first})
        return redirect_uri_json(self.row("redirect_uris", redirect_id))

    def create_cors_origin(self, data: Mapping[str, Any]) -> dict[str, Any]:
        origin = data.get("origin")
        if not isinstance(origin, str) or not is_valid_origin(origin):
            raise ApiError(422, INVALID_ORIGIN)
        if self.store.find("cors_origins", "origin", origin):
            raise ApiError(409, error_body("CORS origin already exists.", "duplicate_cors_origin"))
        self.insert("cors_origins", "cors_origin_", {"origin": origin})
        return cors_origin_json(self.row("cors_origins", origin))

    def _delete_redirect_uri(self, call: Call) -> None:
        row = self.row("redirect_uris", call.path["id"])
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM redirect_uris WHERE id = ?", [row["id"]])
            if row["is_default"]:  # the oldest remaining URI takes over as default
                conn.execute(
                    "UPDATE redirect_uris SET is_default = 1, updated_at = ? WHERE id = "
                    "(SELECT id FROM redirect_uris ORDER BY id LIMIT 1)",
                    [now_iso()],
                )

    def _dashboard_delete_origin(self, call: Call) -> None:
        self.delete("cors_origins", call.query.get("origin") or "")
