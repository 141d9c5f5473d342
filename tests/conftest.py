"""Shared fixtures: emulators on ephemeral loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authform.emulators import RunningEmulator, start_emulator


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
