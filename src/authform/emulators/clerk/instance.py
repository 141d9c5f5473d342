"""The instance's configuration: redirect URLs (``/v1/redirect_urls``), its settings and
allowed origins (``/v1/instance``) and its domain (``/v1/domains``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authform.social import CLERK_STRATEGIES, SOCIAL_PROVIDERS

from ..base import SocialConnections
from ..store import SqliteStore, from_json, to_json
from .collection import Collection, Filters, Unique, query_bool
from .family import Family, Operation, clerk_id
from .forms import Form, Rule, body, read_form

# The path under which the emulator serves the slice of Clerk's Frontend API authform reads;
# GET /v1/domains names it as the instance's frontend_api_url.
FRONTEND_API_PREFIX: Final = "/fapi"
REDIRECT_URL: Final = Rule(
    pattern=re.compile(r"[a-z][a-z0-9+.-]*://.+"),
    invalid="url must be a full URL prefixed with https:// or a custom scheme, e.g. "
    "my-app://oauth-callback.",
)
# UpdateInstance's documented body (additionalProperties: false).
UPDATE_INSTANCE: Final = body(
    "test_mode hibp cookieless_dev url_based_session_syncing support_email clerk_js_version "
    "development_origin preferred_sign_in_strategy_when_password_required allowed_origins",
    allowed_origins=Rule(
        "texts",
        pattern=re.compile(r".*://.+"),
        invalid="allowed_origins must be origins such as https://example.com or "
        "chrome-extension://extension_uuid.",
    ),
    preferred_sign_in_strategy_when_password_required=Rule(
        choices=("password", "otp", ""),
        invalid="preferred_sign_in_strategy_when_password_required must be password, otp or empty.",
    ),
)


def instance_settings(store: SqliteStore) -> tuple[str, dict[str, Any]]:
    """The instance id and its settings (created on first use)."""
    row = store.one("SELECT * FROM clerk_instance")
    if row is not None:
        return str(row["id"]), dict(from_json(row["settings"], {}))
    instance_id, settings = clerk_id("ins_"), {"allowed_origins": None}
    store.insert("clerk_instance", {"id": instance_id, "settings": to_json(settings)})
    return instance_id, settings


class RedirectUrls(Collection):
    table, noun, object = "clerk_redirect_urls", "redirect url", "redirect_url"
    path, prefix = "/redirect_urls", "ru_"
    verbs, item, open_body = ("list", "create", "get", "delete"), "redirect_url_id", True
    create_rules = body("url!", url=REDIRECT_URL)
    order, default_order = {"created_at": "t.created_at"}, "+created_at"
    unique = (Unique("url", "That redirect URL already exists.", "duplicate_record"),)

    async def list(self, request: Request) -> Response:
        """ListRedirectURLs answers a bare array; ``limit``/``offset`` apply only when
        ``paginated`` is true (the default lists them all)."""
        if query_bool(request, "paginated"):
            rows = self.rows(Filters(), *self.paging(request))
        else:
            rows = self.store.all("SELECT * FROM clerk_redirect_urls ORDER BY created_at, rowid")
        return JSONResponse(self.answers(rows))

    def created(self, form: Form) -> str:
        return self.insert({"url": form["url"]})


class Instance(Family):
    def __init__(self, store: SqliteStore, environment_type: str) -> None:
        super().__init__(store)
        self.environment_type = environment_type

    def operations(self) -> Sequence[Operation]:
        return (
            ("GET", "/instance", self.get),
            ("PATCH", "/instance", self.update),
            ("GET", "/domains", self.list_domains),
        )

    async def get(self, request: Request) -> Response:
        instance_id, settings = instance_settings(self.store)
        return JSONResponse(
            {
                "object": "instance",
                "id": instance_id,
                "environment_type": self.environment_type,
                "allowed_origins": settings.get("allowed_origins"),
                "workspace_id": None,
            }
        )

    async def update(self, request: Request) -> Response:
        """UpdateInstance answers 204 "Accepted" with no body; ``allowed_origins`` replaces
        the whole list (GetInstance reads it back)."""
        form = await read_form(request, UPDATE_INSTANCE)
        form.check()
        changes = {name: form[name] for name in UPDATE_INSTANCE if form.sent(name)}
        if form.sent("allowed_origins"):
            changes["allowed_origins"] = list(dict.fromkeys(form["allowed_origins"] or []))
        instance_id, settings = instance_settings(self.store)
        settings.update(changes)
        self.store.execute(
            "UPDATE clerk_instance SET settings = ? WHERE id = ?", [to_json(settings), instance_id]
        )
        return Response(status_code=204)

    async def list_domains(self, request: Request) -> Response:
        """ListDomains: the instance's one primary domain. Its ``frontend_api_url`` is the
        emulator's own Frontend API slice, so clients find it as they find Clerk's."""
        base = str(request.base_url).rstrip("/")
        instance_id, _ = instance_settings(self.store)
        domain = {
            "object": "domain",
            "id": "dmn_" + instance_id.removeprefix("ins_"),
            "name": request.url.hostname or "127.0.0.1",
            "is_satellite": False,
            "frontend_api_url": f"{base}{FRONTEND_API_PREFIX}",
            "accounts_portal_url": f"{base}/accounts",
            "proxy_url": None,
            "development_origin": "",
            "cname_targets": None,
        }
        return JSONResponse({"data": [domain], "total_count": 1})


ENVIRONMENT_PATH: Final = f"{FRONTEND_API_PREFIX}/v1/environment"


class FrontendEnvironment:
    def __init__(self, social: SocialConnections, environment_type: str) -> None:
        self.social, self.environment_type = social, environment_type

    def routes(self) -> list[Route]:
        return [Route(ENVIRONMENT_PATH, self.get, methods=["GET"])]

    async def get(self, request: Request) -> Response:
        """``GET /v1/environment``, reduced to what the dashboard decides and authform reads:
        which social connections are enabled (``user_settings.social``, keyed by OAuth
        strategy). Like Clerk's, it names no client id or secret."""
        enabled = {item["provider"] for item in self.social.list()}
        social = {
            strategy: {
                "enabled": name in enabled,
                "required": False,
                "authenticatable": name in enabled,
                "strategy": strategy,
                "name": SOCIAL_PROVIDERS[name].label,
                "logo_url": None,
            }
            for name, strategy in CLERK_STRATEGIES.items()
        }
        display = {"object": "display_config", "instance_environment_type": self.environment_type}
        return JSONResponse(
            {
                "object": "environment",
                "auth_config": {"object": "auth_config", "single_session_mode": True},
                "display_config": display,
                "user_settings": {"social": social},
            }
        )
