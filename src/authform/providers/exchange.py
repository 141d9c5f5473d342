"""The last request a task sent and the answer it got, for errors about that answer. Apart
from the HTTP client that records it (``providers.http``), so that ``providers.guarded``, which
wraps every provider, does not import httpx for a target that is not an HTTP API."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from authform.providers.base import ApiRefusal, ProviderError


@dataclass(frozen=True)
class Exchange:
    """One request and the answer it got: what an error about that answer must name."""

    provider: str
    method: str
    url: str
    path: str
    status: int
    request_id: str | None
    content_type: str

    def describe(self) -> str:
        where = f"{self.provider}: {self.method} {self.path} → HTTP {self.status}"
        return where + (f" (request id {self.request_id})" if self.request_id else "")


# The last answer this task received. A provider's code that finds the answer malformed (no
# ``id``, a list where an object belongs) raises a plain KeyError or TypeError far from here;
# ``providers.guarded`` reads this to name the request the bad answer came from.
LAST_EXCHANGE: ContextVar[Exchange | None] = ContextVar("authform_last_exchange", default=None)


def answer_error(what: str, action: str = "") -> ProviderError:
    """A ProviderError about the last answer this task received: ``what`` is wrong with it
    (it has no ``id``...), named with its request so the user can look it up."""
    exchange = LAST_EXCHANGE.get()
    during = f" (while {action})" if action else ""
    if exchange is None:
        return ProviderError(f"{action}: {what}" if action else what)
    return ProviderError(
        f"{exchange.describe()}: {what}{during}",
        ApiRefusal(exchange.status, request_id=exchange.request_id),
    )
