"""Signing in: ``POST /user_management/authenticate`` (password grant, bcrypt-checked) and the
browser's ``GET /user_management/authorize``, which redirects to the configured social
provider's consent page (what ``verify`` probes)."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from authform.social import WORKOS_NAME_TO_SOCIAL

from ..routing import Call, Endpoint, hs256_token
from ..store import new_id, now_iso
from .errors import bad_request, oauth_error
from .fields import Rule, read_fields
from .users import Users, password_matches, user_json

GRANT = (Rule("grant_type", required=True), Rule("client_id", required=True))
PASSWORD_GRANT = tuple(Rule(name, required=True) for name in ("client_secret", "email", "password"))


class Sessions(Users):
    public_routes: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            # A browser navigates here; there is no API key to send.
            ("GET", "/user_management/authorize"),
            # Authenticates with client_id + client_secret in the body instead.
            ("POST", "/user_management/authenticate"),
        }
    )

    # Signs the access tokens authenticate issues; a new key per process.
    _token_key: ClassVar[bytes] = secrets.token_bytes(32)

    def endpoints(self) -> list[Endpoint]:
        return [
            *super().endpoints(),
            Endpoint("POST", "/user_management/authenticate", self._authenticate),
            Endpoint("GET", "/user_management/authorize", self._authorize),
        ]

    async def _authenticate(self, call: Call) -> dict[str, Any]:
        if "application/x-www-form-urlencoded" in call.request.headers.get("content-type", ""):
            # OAuth clients may post a form instead of JSON; both are accepted.
            body: dict[str, Any] = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
        else:
            body = call.json
        grant = read_fields(body, GRANT)
        if grant["grant_type"] != "password":
            raise oauth_error(
                "invalid_request",
                f"The emulator supports grant_type 'password' only, not '{grant['grant_type']}'.",
            )
        values = read_fields(body, PASSWORD_GRANT)
        if grant["client_id"] != self.client_id:
            raise oauth_error("invalid_client", f"Invalid client ID '{grant['client_id']}'.")
        if not hmac.compare_digest(values["client_secret"].encode(), self.api_key.encode()):
            raise oauth_error("invalid_client", "Invalid client secret.")
        row = self.store.find("users", "email", values["email"].strip().lower())
        # Only bcrypt digests can be checked here; users imported with another hash type
        # fail like a wrong password would.
        if (
            row is None
            or row["password_hash"] is None
            or row["password_hash_type"] != "bcrypt"
            or not await run_in_threadpool(
                password_matches, values["password"], row["password_hash"]
            )
        ):
            raise bad_request("invalid_credentials", "Invalid credentials.")
        self.store.execute(
            "UPDATE users SET last_sign_in_at = ? WHERE id = ?", [now_iso(), row["id"]]
        )
        memberships = self.store.all(
            "SELECT organization_id FROM organization_memberships "
            "WHERE user_id = ? AND status = 'active'",
            [row["id"]],
        )
        # With several organizations WorkOS asks the user to pick one; with exactly one it
        # signs the user into it. The emulator returns no organization in the first case.
        organization_id = memberships[0]["organization_id"] if len(memberships) == 1 else None
        issued = int(time.time())
        claims: dict[str, Any] = {
            "iss": call.base_url,
            "sub": row["id"],
            "sid": new_id("session_"),
            "jti": new_id(""),
            "iat": issued,
            "exp": issued + 300,
        }
        signed_in = {"org_id": organization_id} if organization_id else {}
        return {
            "user": user_json(self.row("users", row["id"])),
            "access_token": hs256_token({**claims, **signed_in}, self._token_key),
            "refresh_token": secrets.token_urlsafe(24),
            "authentication_method": "Password",
            **({"organization_id": organization_id} if organization_id else {}),
        }

    def _authorize(self, call: Call) -> Response:
        """The browser entry point: redirect to the social provider's own consent page, with
        the OAuth client id configured for that connection (what ``verify`` probes)."""
        query = call.query
        required = ("response_type", "client_id", "redirect_uri")
        if missing := [name for name in required if not query.get(name)]:
            raise bad_request(
                "invalid_request", f"Missing required parameter: {', '.join(missing)}."
            )
        if query["response_type"] != "code":
            raise bad_request("invalid_request", "response_type must be 'code'.")
        if query["client_id"] != self.client_id:
            raise bad_request("invalid_client", f"Invalid client ID '{query['client_id']}'.")
        if not self.store.find("redirect_uris", "uri", query["redirect_uri"]):
            raise bad_request(
                "invalid_redirect_uri",
                f"The redirect URI '{query['redirect_uri']}' is not registered for this "
                "environment.",
            )
        provider = query.get("provider")
        if not provider:
            raise bad_request(
                "invalid_request",
                "The emulator supports social providers only: pass provider, e.g. GoogleOAuth.",
            )
        social = WORKOS_NAME_TO_SOCIAL.get(provider)
        if social is None:
            raise bad_request("invalid_request", f"Unsupported provider '{provider}'.")
        oauth_client_id = self.social.get(social.name)
        if oauth_client_id is None:
            raise bad_request(
                "invalid_connection",
                f"{provider} is not configured for this environment: set it up in the WorkOS "
                "dashboard (Authentication > Social connections).",
            )
        params = {
            "client_id": oauth_client_id,
            "redirect_uri": f"{call.base_url}/sso/oauth/{social.name}/callback",
            "response_type": "code",
        }
        if query.get("state") is not None:
            params["state"] = query["state"]
        return RedirectResponse(f"{social.oauth_authorize_url}?{urlencode(params)}", 302)
