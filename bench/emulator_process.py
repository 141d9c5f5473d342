"""An emulator in a process of its own, for benchmarks: the figures a bench prints are then
the importer's alone, and the emulator outlives an importer killed with SIGKILL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator_process(folder: Path, api_key: str, provider: str = "workos") -> Iterator[str]:
    """Serve ``provider``'s emulator on a free loopback port with its state in ``folder``;
    yields its URL once ``/_emulate/health`` answers, and stops it on exit."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "authform.cli",
            "emulator",
            provider,
            "--port",
            str(port),
            "--db",
            str(folder / "emulator.sqlite3"),
            "--api-key",
            api_key,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/_emulate/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise SystemExit(f"the {provider} emulator did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
