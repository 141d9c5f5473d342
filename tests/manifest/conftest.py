"""Helpers for manifest tests: write YAML into a temporary working directory (so diagnostics
show short relative file names) and collect the diagnostics a load raises."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from authform.manifest import ManifestError, load_manifest

DATA = Path(__file__).parent / "data"

# Every variable the fixtures under data/ reference, so they load.
FIXTURE_ENV: dict[str, str] = {
    "WORKOS_API_KEY": "sk_test_123",
    "WORKOS_CLIENT_ID": "client_123",
    "CANARY_PASSWORD": "correct horse battery staple",
    "CLERK_SECRET_KEY": "sk_test_clerk",
    "SCALEKIT_CLIENT_SECRET": "scalekit-secret",
    "SCALEKIT_CLIENT_ID": "skc_123",
    "GOOGLE_CLIENT_SECRET": "google-secret",
}

# A valid header: most error tests only add the sections they are about.
HEADER = "version: 1\ntarget: {provider: workos, api_key: sk_test_123}\n"

Write = Callable[..., Path]
Problems = Callable[..., list[str]]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    monkeypatch.chdir(tmp_path)

    def write(name: str, *parts: str) -> Path:
        """Write the parts, each dedented on its own, one after another."""
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(textwrap.dedent(part) for part in parts), encoding="utf-8")
        return path

    return write


@pytest.fixture
def problems() -> Problems:
    def problems(
        path: str | Path,
        env: Mapping[str, str] | None = None,
        emulate: bool = False,
        require_secrets: bool = False,
    ) -> list[str]:
        with pytest.raises(ManifestError) as raised:
            load_manifest(
                path,
                env=FIXTURE_ENV if env is None else env,
                emulate=emulate,
                require_secrets=require_secrets,
            )
        return [str(d) for d in raised.value.diagnostics]

    return problems
