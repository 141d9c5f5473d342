"""OAuth and the dashboard-only state it reads: the client-credentials exchange
(``POST /oauth/token``), the hosted login's ``GET /oauth/authorize`` (which refuses
unregistered redirect URLs and sends social logins on to their provider), and under
``/_emulate`` what only Scalekit's dashboard can change: redirect URLs, token lifetime and
revocation, and the invitation outbox."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from typing import Any, ClassVar
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from authform.social import SOCIAL_PROVIDERS

from ..base import parse_body
from ..routing import Call, Endpoint, hs256_token
from ..store import now_iso
from .errors import invalid, oauth_error
from .schema import DEFAULT_TOKEN_TTL
from .users import Users

REDIRECT_URIS = "SELECT * FROM dashboard_redirect_uris ORDER BY created_at, uri"
OUTBOX = "SELECT kind, email, organization_id, sent_at FROM outbox ORDER BY id"


class TokenStore:
    """Access tokens issued by ``POST /oauth/token``, in memory: they do not outlive the
    process, as a restarted server's would not outlive a key rotation. JWT-shaped (HS256 with
    a per-process key); nothing here or in authform verifies their signature. Handlers run
    on the server's one event-loop thread, and each dict operation is atomic besides."""

    MAX_TOKENS: ClassVar[int] = 10_000

    def __init__(self) -> None:
        self.ttl = DEFAULT_TOKEN_TTL
        self._key = secrets.token_bytes(32)
        self._expiry: dict[str, float] = {}

    def issue(self, client_id: str) -> tuple[str, int]:
        now = int(time.time())
        claims = {"sub": client_id, "iat": now, "exp": now + self.ttl, "jti": secrets.token_hex(8)}
        token = hs256_token(claims, self._key)
        if len(self._expiry) >= self.MAX_TOKENS:  # forget the expired ones
            self._expiry = {t: e for t, e in self._expiry.items() if e > time.monotonic()}
        self._expiry[token] = time.monotonic() + self.ttl
        return token, self.ttl

    def valid(self, token: str) -> bool:
        return time.monotonic() < self._expiry.get(token, 0)

    def revoke_all(self) -> int:
        count = len(self._expiry)
        self._expiry = {}
        return count


class OAuth(Users):
    # The token exchange authenticates with its form body; a browser navigates to authorize.
    public_routes = frozenset({("POST", "/oauth/token"), ("GET", "/oauth/authorize")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.tokens = TokenStore()
        super().__init__(*args, **kwargs)

    def reset(self) -> None:
        """Back to the seeded state; issued tokens are revoked and their lifetime restored."""
        self.tokens.revoke_all()
        self.tokens.ttl = DEFAULT_TOKEN_TTL
        super().reset()

    def accepts_token(self, token: str, api_key: str) -> bool:
        """The API takes access tokens issued by ``POST /oauth/token``; the client secret
        itself is accepted only on ``/_emulate`` admin routes, never on the API."""
        return self.tokens.valid(token)

    def endpoints(self) -> list[Endpoint]:
        redirects, tokens = "/_emulate/redirect_uris", "/_emulate/tokens"
        return [
            Endpoint("POST", "/oauth/token", self._token),
            Endpoint("GET", "/oauth/authorize", self._authorize),
            *super().endpoints(),
            Endpoint("GET", redirects, lambda c: self._rows(REDIRECT_URIS)),
            Endpoint("POST", redirects, self._add_redirect_uri, 201),
            Endpoint("DELETE", redirects, self._delete_redirect_uri, 204),
            Endpoint("DELETE", tokens, lambda c: {"revoked": self.tokens.revoke_all()}),
            Endpoint("PUT", tokens, self._token_settings),
            Endpoint("GET", "/_emulate/emails", lambda c: self._rows(OUTBOX)),
        ]

    def _rows(self, sql: str) -> dict[str, Any]:
        return {"data": [dict(row) for row in self.store.all(sql)]}

    def _token(self, call: Call) -> dict[str, Any]:
        # OAuth token requests are form-urlencoded (RFC 6749 4.4.2); parsed here rather than
        # by starlette's request.form(), which needs python-multipart, a package only the
        # test extra happened to bring in, so a plain install answered 500.
        content_type = call.request.headers.get("content-type", "")
        parsed = (
            parse_body(call.raw, content_type) if "x-www-form-urlencoded" in content_type else None
        )
        form: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        if form.get("grant_type") != "client_credentials":
            message = "grant_type must be client_credentials"
            raise oauth_error(400, "unsupported_grant_type", message)
        expected = {"client_id": self.client_id, "client_secret": self.api_key}
        if not all(
            isinstance(form.get(name), str)
            and hmac.compare_digest(form[name].encode(), value.encode())
            for name, value in expected.items()
        ):
            raise oauth_error(401, "invalid_client", "invalid client credentials")
        token, ttl = self.tokens.issue(self.client_id)
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": "openid"}

    def _authorize(self, call: Call) -> Response:
        """The hosted login's entry point: refuses an unregistered redirect URL; with
        ``provider=`` redirects to that social login's OAuth provider carrying the client id
        configured in the dashboard (what ``verify`` probes); else on to the login page."""
        query = call.query
        missing = [n for n in ("response_type", "client_id", "redirect_uri") if not query.get(n)]
        if missing:
            raise oauth_error(400, "invalid_request", f"missing parameter: {', '.join(missing)}")
        if query["client_id"] != self.client_id:
            raise oauth_error(400, "invalid_client", "unknown client_id")
        redirect_uri = query["redirect_uri"]
        if not self.store.find("dashboard_redirect_uris", "uri", redirect_uri):
            message = "Redirect URI is not part of the pre-approved list of Redirect URIs."
            raise oauth_error(400, "invalid_redirect_uri", message)

        def back_with_error(error: str, description: str) -> Response:
            params = {"error": error, "error_description": description}
            if query.get("state") is not None:
                params["state"] = query["state"]
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", 302)

        if query["response_type"] != "code":
            return back_with_error("unsupported_response_type", "response_type must be code")
        provider = query.get("provider")
        if not provider:
            login = {"client_id": self.client_id, "request_id": secrets.token_hex(8)}
            return RedirectResponse(f"{call.base_url}/ui/login?{urlencode(login)}", 302)
        social = SOCIAL_PROVIDERS.get(provider)
        oauth_client_id = self.social.get(provider) if social else None
        if social is None or oauth_client_id is None:
            where = "Authentication > Auth Methods > Social logins"
            return back_with_error(
                "invalid_request", f"social login '{provider}' is not enabled ({where})"
            )
        params = {
            "client_id": oauth_client_id,
            "redirect_uri": f"{call.base_url}/sso/v1/oauth/{social.name}/callback",
            "response_type": "code",
            "scope": "openid email profile",
            "state": secrets.token_urlsafe(12),
        }
        return RedirectResponse(f"{social.oauth_authorize_url}?{urlencode(params)}", 302)

    # ----------------------------------------------------------------- dashboard-only state

    def add_redirect_uri(self, uri: Any) -> None:
        if not isinstance(uri, str) or not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+", uri):
            raise invalid("uri must be an absolute URL", [("uri", "")])
        self.store.execute(
            "INSERT OR IGNORE INTO dashboard_redirect_uris (uri, created_at) VALUES (?, ?)",
            [uri, now_iso()],
        )

    def _add_redirect_uri(self, call: Call) -> dict[str, Any]:
        self.add_redirect_uri(call.json.get("uri"))
        return {"uri": call.json["uri"]}

    def _delete_redirect_uri(self, call: Call) -> None:
        uri = call.query.get("uri") or ""
        self.store.execute("DELETE FROM dashboard_redirect_uris WHERE uri = ?", [uri])

    def _token_settings(self, call: Call) -> dict[str, Any]:
        ttl = call.json.get("expires_in")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 86400 * 30:
            raise invalid("expires_in must be 1-2592000 seconds")
        self.tokens.ttl = ttl
        return {"expires_in": ttl}
