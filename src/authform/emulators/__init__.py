"""Local emulators of the identity providers' APIs, for tests and ``--emulate`` runs.

``start_emulator("workos")`` (or ``"clerk"``) serves one on 127.0.0.1 in a background
thread; ``serve`` runs one in the foreground for ``authform emulator``.
"""

from .clerk import ClerkRateLimits, create_clerk_app
from .limits import Limit
from .server import RunningEmulator, create_app, serve, start_emulator
from .workos import RateLimits, create_workos_app

__all__ = [
    "ClerkRateLimits",
    "Limit",
    "RateLimits",
    "RunningEmulator",
    "create_app",
    "create_clerk_app",
    "create_workos_app",
    "serve",
    "start_emulator",
]
