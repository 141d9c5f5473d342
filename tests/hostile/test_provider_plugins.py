"""A broken provider plug-in, as the commands see it: refused at ``target.provider`` with its
place in the manifest, the distribution to blame, exit 1, no traceback and no write. The
plug-in is the real package of tests/providers/plugin_package, installed by writing its
``.dist-info`` into a folder put on ``sys.path`` for this test only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from providers.test_plugins import install  # tests/providers, as pytest imports it
from typer.testing import CliRunner

from authform.cli import app
from authform.emulators import RunningEmulator
from authform.providers import registry

from .refusal import assert_refused

TOY = r"the distribution authform-toy-provider 0\.1\.0"
AUTHFORM = r"the distribution authform [0-9.]+"


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    monkeypatch.undo()  # sys.path back as it was before the registry is read again
    registry.PROVIDERS.reload()


@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize(
    ("entry_point", "reason"),
    [
        (
            # A plug-in that claims a built-in's name, and cannot even be imported.
            "scalekit = authform_toy_missing:SCALEKIT",
            rf"the provider 'scalekit' is registered more than once, by "
            rf"({TOY} and by {AUTHFORM}|{AUTHFORM} and by {TOY}); uninstall all but one",
        ),
        (
            # A plug-in that claims a built-in's name with another provider's declaration.
            "scalekit = authform_toy_provider:TOY",
            rf"the provider 'scalekit' is registered more than once, by "
            rf"({TOY} and by {AUTHFORM}|{AUTHFORM} and by {TOY}); uninstall all but one",
        ),
    ],
)
def test_a_broken_plugin_is_refused_at_target_provider_naming_its_distribution(
    plugin_site: Path,
    tmp_path: Path,
    workos_emulator: RunningEmulator,
    command: str,
    entry_point: str,
    reason: str,
) -> None:
    install(plugin_site, entry_point)
    registry.PROVIDERS.reload()
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "version: 1\n"
        'target: {provider: scalekit, api_key: s, client_id: c, base_url: "https://x.example"}\n'
    )
    assert_refused(
        CliRunner().invoke(app, [command, str(manifest)]),
        r"manifest\.yaml:2:20: target\.provider: provider 'scalekit' is not available: " + reason,
        emulator=workos_emulator,
    )
