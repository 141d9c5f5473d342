"""A local WorkOS API: the endpoints authform calls, with WorkOS's paths, payloads, ids,
pagination, error bodies, rate limits, bcrypt password checks and social-login redirects.

Shapes follow WorkOS's OpenAPI document and the official Python SDK generated from it; where
they disagree the SDK wins, because that is what users' code runs, and the fidelity tests
say so next to the case. One module per resource family; ``backend.py`` assembles them.
"""

from .backend import WorkOSBackend, create_workos_app
from .core import RateLimits

__all__ = ["RateLimits", "WorkOSBackend", "create_workos_app"]
