"""Checking a dashboard-only social connection by its behaviour, shared by providers whose
authorize endpoint redirects to the OAuth provider: a configured connection answers with a
redirect to that provider's own authorize URL carrying the OAuth client id it was given."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from authform.providers.base import ProbeResult, ProviderError
from authform.providers.http import ApiClient
from authform.resources import Kind, Resource
from authform.social import SOCIAL_PROVIDERS, SocialProvider


def read_authorize_redirect(
    response: httpx.Response | None, social: SocialProvider
) -> tuple[ProbeResult, str | None]:
    """(outcome, the client id found) from the answer to an authorize request."""
    if response is None or not 300 <= response.status_code < 400:
        status = response.status_code if response is not None else "no answer"
        return ProbeResult(False, f"authorize URL did not redirect (HTTP {status})"), None
    location = response.headers.get("location", "")
    target = urlsplit(location)
    expected = urlsplit(social.oauth_authorize_url)
    if (target.scheme, target.netloc, target.path) != (
        expected.scheme,
        expected.netloc,
        expected.path,
    ):
        return ProbeResult(False, f"authorize URL redirected elsewhere: {location}"), None
    client_ids = parse_qs(target.query).get("client_id", [])
    found = client_ids[0] if client_ids else ""
    return ProbeResult(True, f"redirects to {social.label} with client_id {found}"), found


async def probe_authorize(
    http: ApiClient, path: str, params: Mapping[str, str | None], social: SocialProvider
) -> tuple[ProbeResult, str | None]:
    """Ask the provider's authorize endpoint (a read: it only redirects) and read the answer;
    an API error there means the connection is not usable, not that the run failed."""
    try:
        response = await http.request("GET", path, params=params, expected=(), follow=True)
    except ProviderError:
        response = None
    return read_authorize_redirect(response, social)


@dataclass(frozen=True)
class SocialLoginProbe:
    """Probes a provider's social logins at its OAuth authorize endpoint (``path``), as the
    application ``client_id`` would start a sign-in with its first redirect URI.

    ``params`` gives the provider's own query parameters for one social provider (which
    connection, scopes); ``no_redirect_uri`` says, in the provider's terms, why there is no
    redirect URI to probe with."""

    http: ApiClient
    path: str
    client_id: str | None
    no_redirect_uri: str
    params: Callable[[SocialProvider], Mapping[str, str | None]]

    async def connections(
        self, desired: Iterable[Resource], redirect_uris: Sequence[str]
    ) -> list[Resource]:
        """The live state of the social connections ``desired`` names: each one found
        configured, with the OAuth client id it redirects with (the rest are absent)."""
        live = []
        for resource in desired:
            if resource.kind is not Kind.SOCIAL_CONNECTION:
                continue
            result, client_id = await self.probe(resource.key, redirect_uris)
            found = probed_connection(resource.key, result, client_id)
            if found is not None:
                live.append(found)
        return live

    async def probe(
        self, provider: str, redirect_uris: Sequence[str]
    ) -> tuple[ProbeResult, str | None]:
        """(outcome, the OAuth client id the login redirects with) for one social provider."""
        social = SOCIAL_PROVIDERS[provider]
        if not self.client_id:
            return ProbeResult(False, "target.client_id is not set, so nothing can be probed"), None
        if not redirect_uris:
            return ProbeResult(False, self.no_redirect_uri), None
        query: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uris[0],
            **self.params(social),
            "state": "authform-probe",
        }
        return await probe_authorize(self.http, self.path, query, social)


def probed_connection(provider: str, result: ProbeResult, client_id: str | None) -> Resource | None:
    """The live social connection a probe found, in the manifest's shape; None if absent."""
    if client_id is None:
        return None
    return Resource(
        Kind.SOCIAL_CONNECTION,
        provider,
        {"provider": provider, "client_id": client_id},
        observed={"probe": result.detail},
    )
