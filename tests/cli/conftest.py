"""Helpers for driving the CLI against a live emulator over loopback HTTP."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.emulators import RunningEmulator

from .manifests import WORKOS_TARGET
from .targets import PROVIDERS, Target

# What the base manifest configures, but for what only a person can set up on WorkOS.
BASE_CONFIGURATION = """\
permissions:
  - {slug: "billing:manage", name: Manage billing}
  - {slug: "reports:read", name: Read reports, description: See the dashboards}
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage", "reports:read"]}
  - {slug: member, name: Member, permissions: ["reports:read"]}
organizations:
  - key: acme
    name: Acme Inc
    domains: [{domain: acme.com, state: verified}]
    metadata: {tier: enterprise}
  - key: globex
    name: Globex
redirect_uris: [https://app.example.com/callback]
"""

BASE_MANIFEST = (
    WORKOS_TARGET
    + BASE_CONFIGURATION
    + """\
cors_origins: [https://app.example.com]
social_connections:
  - {provider: google, client_id: 1234.apps.googleusercontent.com}
"""
)


@dataclass
class Cli:
    emulator: RunningEmulator
    folder: Path
    runner: CliRunner

    @property
    def env(self) -> dict[str, str]:
        return {
            "WORKOS_API_KEY": self.emulator.api_key,
            "WORKOS_CLIENT_ID": self.emulator.client_id,
            "WORKOS_BASE_URL": self.emulator.url,
            "NO_COLOR": "1",
        }

    def write(self, text: str, name: str = "authform.yaml") -> Path:
        path = self.folder / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def run(self, *args: str, env: dict[str, str] | None = None):
        return self.runner.invoke(app, list(args), env={**self.env, **(env or {})})


def cli_with(manifest: str, emulator: RunningEmulator, tmp_path: Path) -> Cli:
    """A ``Cli`` on ``emulator`` whose manifests folder (in ``tmp_path``) holds ``manifest``."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    helper = Cli(emulator, folder, CliRunner())
    helper.write(manifest)
    return helper


@pytest.fixture
def cli(workos_emulator: RunningEmulator, tmp_path: Path) -> Cli:
    return cli_with(BASE_MANIFEST, workos_emulator, tmp_path)


@pytest.fixture(params=PROVIDERS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """The CLI pointed at one of the WorkOS, Scalekit and Clerk emulators (the test runs once
    per provider), with an empty manifest folder of its own."""
    emulator = request.getfixturevalue(f"{request.param}_emulator")
    return Target(request.param, emulator, tmp_path / "manifests")
