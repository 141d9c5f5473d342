"""What every command imports before it knows its target. httpx (with the rich and click it
pulls in, ~0.1 s) is the HTTP providers' own: reading a manifest, or planning for KavachOS (a
database), must not pay for it. Found: the provider registry took ``RateLimit`` from
``providers.http`` and the provider guard took its last-answer record from there, so every
command imported httpx."""

from __future__ import annotations

import subprocess
import sys

NO_HTTP_CLIENT = """
import sys
import authform.cli
import authform.providers.guarded
import authform.providers.kavachos.provider
import authform.providers.registry
print(sorted(name for name in sys.modules if name == "httpx" or name.startswith("httpx.")))
"""


def test_the_command_line_and_the_kavachos_provider_do_not_import_httpx() -> None:
    run = subprocess.run(
        [sys.executable, "-c", NO_HTTP_CLIENT], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_http_client_still_offers_what_providers_import_from_it() -> None:
    from authform.providers import exchange, http, rate_limit

    assert http.RateLimit is rate_limit.RateLimit
    assert http.answer_error is exchange.answer_error
    assert http.LAST_EXCHANGE is exchange.LAST_EXCHANGE
