"""A manifest whose target names a provider plug-in, refused the way the built-ins' are:
at its place (file:line:column), exit 1, no traceback, and the plug-in never built, read or
written. The toy plug-in of tests/providers/plugin_package is installed for each case (the
``toy`` fixture), with its own settings model, key prefix and rate-limit bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from providers.test_plugin_target import installed_toy, manifest, run

from .refusal import assert_refused


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from installed_toy(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param(
            "{provider: toy, api_key: toy_1, region: mars}",
            r"manifest\.yaml:2:49: target\.region: invalid region 'mars' \(expected one of: eu, "
            r"us\)",
            id="its-own-field",
        ),
        pytest.param(
            "{provider: toy, api_key: toy_1, database_url: 'sqlite:///x.db'}",
            r"manifest\.yaml:2:41: target\.database_url: unknown key 'database_url' \(expected "
            r"one of: api_key, base_url, client_id, max_concurrency, provider, rate_limits, "
            r"region\)",
            id="a-built-in-only-key",
        ),
        pytest.param(
            "{provider: toy, api_key: sk_live_1}",
            r"manifest\.yaml:2:34: target\.api_key: must be the toy's key, toy_… \(starts with "
            r"'toy_'; the value is not shown\)",
            id="its-key-prefix",
        ),
        pytest.param(
            "{provider: toy, api_key: toy_1, rate_limits: {writes: {requests: 1, per_seconds: 1}}}",
            r"manifest\.yaml:2:55: target\.rate_limits\.writes: unknown Toy rate-limit bucket "
            r"'writes' \(known: general\)",
            id="its-rate-limit-buckets",
        ),
        pytest.param(
            "{provider: toyy, api_key: toy_1}",
            r"manifest\.yaml:2:20: target\.provider: invalid provider 'toyy' \(expected one of: "
            r"clerk, kavachos, scalekit, toy, workos\); did you mean 'toy'\?",
            id="an-uninstalled-name",
        ),
        pytest.param(
            "{provider: bad, api_key: toy_1}",
            r"manifest\.yaml:2:20: target\.provider: provider 'bad' is not available: the "
            r"provider plug-in 'bad' \(authform_toy_provider:WRONG_SETTINGS\) of the distribution "
            r"authform-toy-provider 0\.1\.0 declares settings <class 'dict'>, not a subclass of "
            r"authform\.manifest\.TargetSettings; fix or uninstall it",
            id="a-plugin-with-a-wrong-settings-model",
        ),
    ],
)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_bad_plugin_target_is_refused_at_its_place_before_the_provider_is_built(
    toy: Any, tmp_path: Path, command: str, target: str, message: str
) -> None:
    assert_refused(run(command, manifest(tmp_path, target)), message)
    assert toy.STORE == {} and toy.WRITES == []  # never built, nothing read or written
