"""What the HTTP client says when a request gets no usable answer (issue 9, finding 10), and
the redactor every output passes through (finding 8)."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
from pydantic import BaseModel, SecretStr

from authform.providers.base import ProviderError
from authform.providers.http import ApiClient, RetryPolicy
from authform.providers.transport_errors import describe_transport_error
from authform.redaction import Redactor


def client(url: str, retry: RetryPolicy) -> ApiClient:
    async def headers() -> dict[str, str]:
        return {"Authorization": "Bearer sk_test_emulator"}

    def describe(response: httpx.Response) -> tuple[str | None, str]:
        body = response.json()
        return body.get("code"), body.get("message", "")

    return ApiClient(
        url,
        provider_name="WorkOS",
        headers=headers,
        describe_error=describe,
        limiters_for=lambda method, path: (),
        retry=retry,
    )


async def request(api: ApiClient, method: str, path: str) -> None:
    try:
        await api.request(method, path)
    finally:
        await api.aclose()


def test_a_gateway_html_page_after_the_retries_reads_as_a_gateway_page(workos_emulator):
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    workos_emulator.add_fault(method="GET", path="^/organizations$", status=502, raw_body=page)
    api = client(workos_emulator.url, RetryPolicy(max_attempts=2, base_delay=0.01))
    with pytest.raises(ProviderError) as caught:
        asyncio.run(request(api, "GET", "/organizations"))
    assert str(caught.value).startswith(
        "WorkOS: GET /organizations → HTTP 502: 502 Bad Gateway nginx (a text/html page, not "
        "the API's answer: a proxy or gateway?) (request id "
    )
    assert caught.value.status == 502 and caught.value.request_id


def test_an_unreachable_host_is_retried_a_bounded_number_of_times_and_says_so(caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = client(f"http://127.0.0.1:{port}", RetryPolicy(base_delay=0.01, max_connect_attempts=2))
    with (
        caplog.at_level(logging.WARNING, logger="authform.http"),
        pytest.raises(ProviderError) as caught,
    ):
        asyncio.run(request(api, "POST", "/organizations"))
    assert str(caught.value) == (
        f"WorkOS: POST http://127.0.0.1:{port}/organizations failed: connection refused by "
        f"127.0.0.1:{port} (nothing is listening there) (tried 2 times); check target.base_url "
        "and the network"
    )
    [notice] = [r.getMessage() for r in caplog.records]  # one retry, announced
    assert notice.startswith(f"WorkOS: connection refused by 127.0.0.1:{port} (nothing is ")
    assert "; retrying in " in notice and notice.endswith(" s (attempt 2 of 2)")


def test_a_connect_timeout_is_told_apart_from_a_slow_answer():
    url = "https://api.example.com"
    connect = describe_transport_error(httpx.ConnectTimeout("timed out"), url)
    assert connect.reason == "no connection to api.example.com:443 within the connect timeout"
    assert connect.before_connecting and connect.retryable
    read = describe_transport_error(httpx.ReadTimeout("timed out"), url)
    assert read.reason == "api.example.com did not answer in time (ReadTimeout)"
    assert not read.before_connecting


# --------------------------------------------------------------------------- redaction


def test_a_secret_is_redacted_as_written_and_as_an_api_would_echo_it():
    redactor = Redactor()
    secret = 'p@ss "word"/+é'
    redactor.add(secret)
    echoed = (
        f"raw {secret} | json {secret.replace(chr(34), chr(92) + chr(34))} | "
        "url p%40ss%20%22word%22%2F%2B%C3%A9 | form p%40ss+%22word%22%2F%2B%C3%A9"
    )
    assert redactor(echoed) == (
        "raw (sensitive) | json (sensitive) | url (sensitive) | form (sensitive)"
    )


def test_environment_credentials_are_recognised_by_name_and_shape():
    redactor = Redactor()
    redactor.add_environment(
        {
            "WORKOS_API_KEY": "sk_test_abcdefgh",
            "SCALEKIT_CLIENT_SECRET": "skc_secret_1234",
            "GITHUB_TOKEN": "ghp_0123456789",
            "CANARY_PASSWORD": "correct-horse",
            "PWD": "/home/runner/work",  # the working directory, not a password
            "KEYBOARD_LAYOUT": "dvorak-international",
            "SHORT_TOKEN": "abc",  # too short to be a credential
        }
    )
    text = (
        "sk_test_abcdefgh skc_secret_1234 ghp_0123456789 correct-horse "
        "/home/runner/work dvorak-international abc"
    )
    assert redactor(text) == (
        "(sensitive) (sensitive) (sensitive) (sensitive) /home/runner/work dvorak-international abc"
    )


def test_every_secret_field_of_a_model_is_registered_however_deep():
    class Login(BaseModel):
        email: str
        password: SecretStr

    class Manifest(BaseModel):
        api_key: SecretStr
        logins: list[Login]
        extra: dict[str, SecretStr]

    redactor = Redactor()
    redactor.add_model(
        Manifest(
            api_key=SecretStr("sk_live_key_1"),
            logins=[Login(email="a@example.com", password=SecretStr("hunter22"))],
            extra={"webhook": SecretStr("whsec_abc123")},
        )
    )
    assert redactor("a@example.com sk_live_key_1 hunter22 whsec_abc123") == (
        "a@example.com (sensitive) (sensitive) (sensitive)"
    )


def test_a_provider_error_is_redacted_when_raised():
    from authform.redaction import register_secret

    register_secret("canary-secret-for-provider-error")
    error = ProviderError("echo: canary-secret-for-provider-error and $2b$10$" + "a" * 53)
    assert str(error) == "echo: (sensitive) and (password hash)"
