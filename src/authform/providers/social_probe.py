"""Checking a dashboard-only social connection by its behaviour, shared by providers whose
authorize endpoint redirects to the OAuth provider: a configured connection answers with a
redirect to that provider's own authorize URL carrying the OAuth client id it was given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

import httpx

from authform.providers.base import ProbeResult, ProviderError
from authform.providers.http import ApiClient
from authform.resources import Kind, Resource
from authform.social import SocialProvider


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


async def probe_social_login(
    http: ApiClient,
    path: str,
    social: SocialProvider,
    *,
    client_id: str | None,
    redirect_uris: Sequence[str],
    no_redirect_uri: str,
    params: Mapping[str, str | None],
) -> tuple[ProbeResult, str | None]:
    """Start an OAuth sign-in through ``social`` at the provider's authorize endpoint, as
    the application ``client_id`` would with its first redirect URI, and read where it
    leads. ``params`` are the provider's own (which connection, scopes); ``no_redirect_uri``
    says, in the provider's terms, why there is no redirect URI to probe with."""
    if not client_id:
        return ProbeResult(False, "target.client_id is not set, so nothing can be probed"), None
    if not redirect_uris:
        return ProbeResult(False, no_redirect_uri), None
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uris[0],
        **params,
        "state": "authform-probe",
    }
    return await probe_authorize(http, path, query, social)


Probe = Callable[[str, Sequence[str]], Awaitable[tuple[ProbeResult, str | None]]]


async def probed_connections(
    desired: Iterable[Resource], redirect_uris: Sequence[str], probe: Probe
) -> list[Resource]:
    """The live state of the social connections ``desired`` names: each one ``probe`` finds
    configured, with the OAuth client id it redirects with (the rest are absent)."""
    live = []
    for resource in desired:
        if resource.kind is not Kind.SOCIAL_CONNECTION:
            continue
        result, client_id = await probe(resource.key, redirect_uris)
        found = probed_connection(resource.key, result, client_id)
        if found is not None:
            live.append(found)
    return live


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
