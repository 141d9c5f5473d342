"""Shared fixtures: emulators on ephemeral loopback ports; every test in a folder of its own."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authform.emulators import RunningEmulator, start_emulator

REPO = Path(__file__).resolve().parent.parent
# What running the suite itself leaves in the clone, as any pytest run would.
TOOL_CACHES = {".pytest_cache", ".mypy_cache", ".ruff_cache", "__pycache__"}


@pytest.fixture(autouse=True)
def _a_working_folder_of_its_own(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test runs in an empty folder of its own, not the clone: an apply writes its
    journal and reports to ./authform-reports, and tests run from the repository's root
    once left 65 journals and a committed id mapping there. The folder is not the test's
    ``tmp_path``, which tests check stays empty."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_CLONE_BEFORE] = _clone_entries()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when the tests wrote into the clone (a report, a state folder, a
    database file) rather than into folders of their own."""
    before = session.config.stash.get(_CLONE_BEFORE, None)
    if before is None:
        return
    written = sorted(_clone_entries() - before)
    if written:
        print(f"\nthe tests wrote into the clone {REPO}: {', '.join(written)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_CLONE_BEFORE = pytest.StashKey[set[str]]()


def _clone_entries() -> set[str]:
    """The clone's files outside the tool caches and virtual environments, as paths."""
    entries: set[str] = set()
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = [
            name
            for name in subfolders
            if name not in TOOL_CACHES and name != ".git" and not name.startswith(".venv")
        ]
        entries.update(os.path.relpath(os.path.join(folder, name), REPO) for name in files)
    return entries


@pytest.fixture(scope="session")
def workos_emulator_server() -> Iterator[RunningEmulator]:
    """One WorkOS emulator for the session; use ``workos_emulator`` for a clean state."""
    emulator = start_emulator("workos")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def workos_emulator(workos_emulator_server: RunningEmulator) -> RunningEmulator:
    """A WorkOS emulator with an empty in-memory state, WorkOS's documented rate limits, no
    fault hooks and an empty request log (the session's server, reset for this test)."""
    workos_emulator_server.reset()
    return workos_emulator_server


# --------------------------------------------------------------------------- Clerk

CLERK_EXPORT = Path(__file__).resolve().parent / "fixtures" / "clerk"


@pytest.fixture(scope="session")
def clerk_emulator_server() -> Iterator[RunningEmulator]:
    """One Clerk emulator for the session; use ``clerk_emulator`` for a clean state."""
    emulator = start_emulator("clerk")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def clerk_emulator(clerk_emulator_server: RunningEmulator) -> RunningEmulator:
    """A Clerk emulator with an empty in-memory state, Clerk's documented development-key
    rate limit, no fault hooks and an empty request log (the session's server, reset)."""
    clerk_emulator_server.reset()
    return clerk_emulator_server


@pytest.fixture(scope="session")
def clerk_export_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared Clerk export sample (``tests/fixtures/clerk``) as an emulator seed file."""
    from emulators.clerk_export_seed import seed_from_clerk_export

    path = tmp_path_factory.mktemp("clerk-seed") / "seed.json"
    path.write_text(json.dumps(seed_from_clerk_export(CLERK_EXPORT)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def clerk_export_emulator_server(clerk_export_seed: Path) -> Iterator[RunningEmulator]:
    emulator = start_emulator("clerk", seed=clerk_export_seed)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def clerk_export_emulator(clerk_export_emulator_server: RunningEmulator) -> RunningEmulator:
    """A Clerk emulator holding the export sample's 14 users, 3 organizations and 7
    memberships (reset to exactly that for this test)."""
    clerk_export_emulator_server.reset()
    return clerk_export_emulator_server


# --------------------------------------------------------------------------- Scalekit


@pytest.fixture(scope="session")
def scalekit_emulator_server() -> Iterator[RunningEmulator]:
    """One Scalekit emulator for the session; use ``scalekit_emulator`` for a clean state.

    ``api_key`` is the environment's client secret and ``client_id`` its client id: the
    provider trades them for an access token at ``POST /oauth/token``."""
    emulator = start_emulator("scalekit", api_key="skc_secret_emulator", client_id="skc_emulator")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def scalekit_emulator(scalekit_emulator_server: RunningEmulator) -> RunningEmulator:
    """A Scalekit emulator with an empty in-memory state (Scalekit's own two permissions
    only), the default rate limit, no fault hooks, no tokens, no registered redirect URLs and
    an empty request log (the session's server, reset for this test)."""
    scalekit_emulator_server.reset()
    return scalekit_emulator_server


@pytest.fixture(scope="session")
def clerk_production_emulator_server() -> Iterator[RunningEmulator]:
    """A second Clerk emulator for the session, with a production secret key (``sk_live_``):
    it reports itself as a production instance and keeps Clerk's production limit."""
    emulator = start_emulator("clerk", api_key="sk_live_authform_production")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def clerk_production_emulator(clerk_production_emulator_server: RunningEmulator) -> RunningEmulator:
    """The production Clerk emulator, reset to an empty instance for this test."""
    clerk_production_emulator_server.reset()
    return clerk_production_emulator_server


# --------------------------------------------------------------------------- KavachOS


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A PostgreSQL server on 127.0.0.1 for the session (tests/kavachos/databases.py); the
    tests that need it skip locally without server binaries, never in CI."""
    from kavachos.databases import postgres_server_session

    yield from postgres_server_session()
