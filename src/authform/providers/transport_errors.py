"""Why a request got no answer, in words a person can act on.

httpx reports a refused connection, a DNS failure, a connect timeout and an untrusted TLS
certificate all as ``ConnectError``; the cause that tells them apart sits further down the
exception chain. Each needs a different fix (start the emulator, correct the host name, check
the network, fix the certificate), and some are not worth retrying at all, so they are told
apart here, once, for every provider.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx


@dataclass(frozen=True)
class TransportFailure:
    """``before_connecting``: no connection was made, so nothing reached the server and any
    request may be retried; ``retryable``: trying again could help at all."""

    reason: str
    retryable: bool
    before_connecting: bool
    hint: str = ""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            for inner in current.exceptions:
                yield from _chain(inner)
        current = current.__cause__ or current.__context__


def describe_transport_error(exc: BaseException, base_url: str) -> TransportFailure:
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    check = "; check target.base_url and the network"

    def unreached(reason: str, *, retryable: bool = True, hint: str = check) -> TransportFailure:
        """No connection was made: nothing reached the server."""
        return TransportFailure(reason, retryable=retryable, before_connecting=True, hint=hint)

    def cut_off(reason: str) -> TransportFailure:
        """A connection was made, so the request may have reached the server."""
        return TransportFailure(reason, retryable=True, before_connecting=False)

    causes = list(_chain(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = cause.verify_message or cause.reason or str(cause)
            return unreached(
                f"the TLS certificate of {host} is not trusted ({detail})",
                retryable=False,
                hint="; authform only sends credentials to a host whose certificate verifies "
                "(is base_url the provider's API, and not a proxy intercepting TLS?)",
            )
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            return unreached(
                f"cannot resolve the host name {host} (DNS lookup failed: {cause.strerror})",
                retryable=cause.errno == socket.EAI_AGAIN,  # a temporary failure
            )
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
        ):
            return unreached(f"connection refused by {host}:{port} (nothing is listening there)")
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return unreached(
                f"the TLS handshake with {host}:{port} failed ({cause.reason or cause})",
                retryable=False,
            )
    if isinstance(exc, httpx.ConnectTimeout):
        return unreached(f"no connection to {host}:{port} within the connect timeout")
    if isinstance(exc, httpx.ConnectError):
        return unreached(f"cannot connect to {host}:{port} ({exc})")
    if isinstance(exc, httpx.TimeoutException):
        return cut_off(f"{host} did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.RemoteProtocolError):
        return cut_off(f"{host} closed the connection without a complete answer")
    return cut_off(f"{type(exc).__name__} talking to {host}:{port} ({exc})")
