"""The emulated dashboard: what a person does in a provider's dashboard, done on a running
emulator through its ``/_emulate/`` routes.

Every provider has settings only its dashboard can change (social logins everywhere,
Scalekit's redirect URLs, deleting a WorkOS role or CORS origin). authform plans those as
manual steps and never carries them out, under ``--emulate`` too, so a pipeline rehearsed on
the emulator exits as it will against the real tenant. Doing such a step on the emulator is
an explicit act (``authform emulator dashboard``), and it goes through this one client: the
dashboard's HTTP routes are the whole interface, nothing reaches into an emulator's state.

The table ``DASHBOARD_ACTIONS`` declares, per provider, which steps its dashboard offers. A
step the real dashboard cannot do (Scalekit has no CORS setting anywhere) is not offered here
either: the emulator is a rehearsal of the real tenant, not a way around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .loopback import loopback_client


@dataclass(frozen=True)
class DashboardStep:
    """One dashboard action: configure (``present``) or remove the ``kind`` item ``key``.

    ``kind`` is a resource kind's value (``social_connection``); ``client_id`` is the OAuth
    client id a social connection is configured with.
    """

    kind: str
    key: str
    present: bool
    client_id: str | None = None

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.key}"


class DashboardError(Exception):
    """The emulated dashboard cannot do a step, or refused it (the emulator's own message)."""


# (method, path, query, json body) for one step
_Request = tuple[str, str, dict[str, str] | None, dict[str, Any] | None]
_Action = Callable[[DashboardStep], _Request]


def _social(step: DashboardStep) -> _Request:
    path = f"/_emulate/social_connections/{step.key}"
    if step.present:
        return "PUT", path, None, {"client_id": step.client_id}
    return "DELETE", path, None, None


def _scalekit_redirect_uri(step: DashboardStep) -> _Request:
    if step.present:
        return "POST", "/_emulate/redirect_uris", None, {"uri": step.key}
    return "DELETE", "/_emulate/redirect_uris", {"uri": step.key}, None


def _workos_role_removal(step: DashboardStep) -> _Request:
    if step.present:
        raise DashboardError(f"{step.address}: roles are created through the API, not here")
    return "DELETE", f"/_emulate/roles/{step.key}", None, None


def _workos_cors_origin_removal(step: DashboardStep) -> _Request:
    if step.present:
        raise DashboardError(f"{step.address}: CORS origins are added through the API")
    return "DELETE", "/_emulate/cors_origins", {"origin": step.key}, None


# provider -> kind -> the dashboard action; what is absent, that dashboard cannot do either.
DASHBOARD_ACTIONS: dict[str, dict[str, _Action]] = {
    "workos": {
        "social_connection": _social,
        "role": _workos_role_removal,
        "cors_origin": _workos_cors_origin_removal,
    },
    "scalekit": {"social_connection": _social, "redirect_uri": _scalekit_redirect_uri},
    "clerk": {"social_connection": _social},
}


class EmulatedDashboard:
    """The dashboard of one running emulator, reached over loopback HTTP."""

    def __init__(self, provider: str, url: str, admin_key: str) -> None:
        self.provider = provider
        self.url = url.rstrip("/")
        self._admin_key = admin_key

    def can_do(self, step: DashboardStep) -> bool:
        return step.kind in DASHBOARD_ACTIONS.get(self.provider, {})

    def perform(self, step: DashboardStep) -> None:
        """Do ``step`` as a person would in the dashboard; raises ``DashboardError``."""
        action = DASHBOARD_ACTIONS.get(self.provider, {}).get(step.kind)
        if action is None:
            raise DashboardError(
                f"{step.address}: the {self.provider} dashboard has no setting for this"
            )
        method, path, params, body = action(step)
        with loopback_client() as client:
            try:
                response = client.request(
                    method,
                    f"{self.url}{path}",
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {self._admin_key}"},
                )
            except httpx.TransportError as exc:
                raise DashboardError(
                    f"{step.address}: the emulator did not answer ({exc})"
                ) from None
        if response.status_code >= 400:
            raise DashboardError(
                f"{step.address}: the emulated dashboard refused: {_reason(response)}"
            )


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        errors = body.get("errors")  # Clerk's shape: {"errors": [{"message": ...}]}
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            body = errors[0]
        for field in ("message", "error_description", "error"):
            if isinstance(body.get(field), str):
                return f"{body[field]} (HTTP {response.status_code})"
    return f"HTTP {response.status_code}"
