"""A manifest names a third-party provider (issue 13, point 6): the toy package of
tests/providers/plugin_package, installed through its ``.dist-info/entry_points.txt`` in a
folder on ``sys.path``, is the manifest's ``target.provider``; its own settings model
validates the target, its settings reach its build, and ``plan``/``apply`` drive it like
any built-in. The refusals (positioned errors, as for the built-ins) are in
tests/hostile/test_plugin_targets.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.manifest import manifest_json_schema
from authform.providers import registry
from providers.test_plugins import install  # tests/providers, as pytest imports it


def installed_toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The toy plug-in, installed until the generator ends; yields its module (its ``STORE``
    and ``WRITES`` are the toy service's state and request log)."""
    site = tmp_path / "site"
    site.mkdir()
    install(site, "toy = authform_toy_provider:TOY\nbad = authform_toy_provider:WRONG_SETTINGS")
    monkeypatch.syspath_prepend(str(site))
    registry.PROVIDERS.reload()
    import authform_toy_provider

    authform_toy_provider.STORE.clear()
    authform_toy_provider.WRITES.clear()
    yield authform_toy_provider
    monkeypatch.undo()  # sys.path back as it was before the registry is read again
    sys.modules.pop("authform_toy_provider", None)
    registry.PROVIDERS.reload()


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from installed_toy(tmp_path, monkeypatch)


def manifest(tmp_path: Path, target: str) -> str:
    path = tmp_path / "manifest.yaml"
    path.write_text(
        f"version: 1\ntarget: {target}\n"
        "permissions:\n"
        "  - {slug: 'billing:manage', name: Manage billing}\n"
        "  - {slug: 'reports:read', name: Read reports}\n"
    )
    return str(path)


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_a_plugin_provider_is_validated_planned_and_applied_like_a_built_in(
    toy: Any, tmp_path: Path
) -> None:
    path = manifest(tmp_path, "{provider: toy, api_key: toy_key_1, region: us}")
    checked = run("validate", path)
    assert checked.exit_code == 0, checked.output
    planned = run("plan", "--detailed-exitcode", path)
    assert planned.exit_code == 2, planned.output
    assert "+ permission.billing:manage" in planned.output
    assert "+ permission.reports:read" in planned.output
    assert toy.WRITES == []  # a plan writes nothing
    applied = run("apply", "--auto-approve", path)
    assert applied.exit_code == 0, applied.output
    assert sorted(toy.WRITES) == [
        "create permission.billing:manage",
        "create permission.reports:read",
    ]
    # The region setting reached the provider's build: the toy stored them under "us".
    assert sorted(toy.STORE["us"]) == ["billing:manage", "reports:read"]
    again = run("plan", "--detailed-exitcode", path)
    assert again.exit_code == 0, again.output


def test_the_schema_offers_the_plugin_and_its_own_settings(toy: Any) -> None:
    schema = manifest_json_schema()
    choices = schema["properties"]["target"]["anyOf"]
    assert {"$ref": "#/$defs/Target_toy"} in choices
    own = schema["$defs"]["Target_toy"]
    assert own["properties"]["provider"]["const"] == "toy"
    assert own["properties"]["region"]["enum"] == ["eu", "us"]
    assert "toy" not in schema["$defs"]["Target"]["properties"]["provider"]["enum"]
