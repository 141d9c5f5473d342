"""Social (OAuth) connections as Clerk's Frontend API shows them.

Clerk configures social connections in its dashboard only (the emulated dashboard is the
shared ``/_emulate/social_connections`` routes); the Backend API has no endpoint for them.
authform reads which are enabled where Clerk's own browser SDK does: the Frontend API's
``GET /v1/environment`` (clerk-js ``core/resources/Environment.ts``), served here under
``/fapi``, the ``frontend_api_url`` that ``GET /v1/domains`` names."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authform.social import CLERK_STRATEGIES, SOCIAL_PROVIDERS

from ..base import SocialConnections
from .instance import FRONTEND_API_PREFIX

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
