"""Scalekit's error bodies: gRPC statuses as grpc-gateway renders them (``{code, message,
details: [ErrorInfo]}``), and RFC 6749's ``{error, error_description}`` on the OAuth routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ..errors import ApiError

ERROR_INFO_TYPE: Final = "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo"

# gRPC status name → (code, HTTP status), as grpc-gateway maps them.
GRPC: Final[dict[str, tuple[int, int]]] = {
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
    "UNAUTHENTICATED": (16, 401),
}
# HTTP status → the gRPC status grpc-gateway maps it from (for the shared app's own errors).
STATUS_TO_GRPC: Final = {
    **{http: name for name, (_, http) in GRPC.items() if name != "FAILED_PRECONDITION"},
    405: "UNIMPLEMENTED",
    413: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    502: "UNAVAILABLE",
}


def status_body(
    name: str, message: str, violations: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """A gRPC-status error body: ``{code, message, details: [ErrorInfo]}``."""
    detail: dict[str, Any] = {"@type": ERROR_INFO_TYPE, "error_code": name}
    if violations:
        detail["validation_error_info"] = {
            "field_violations": [
                {"field": field, "description": description} for field, description in violations
            ]
        }
    return {"code": GRPC.get(name, (2, 500))[0], "message": message, "details": [detail]}


def grpc_error(name: str, message: str, violations: Sequence[tuple[str, str]] = ()) -> ApiError:
    return ApiError(GRPC[name][1], status_body(name, message, violations))


def invalid(message: str, violations: Sequence[tuple[str, str]] = ()) -> ApiError:
    return grpc_error("INVALID_ARGUMENT", message, violations)


def not_found(what: str, identifier: str) -> ApiError:
    return grpc_error("NOT_FOUND", f"{what} not found: {identifier}")


def oauth_error(status: int, error: str, description: str) -> ApiError:
    """RFC 6749 §5.2: the token and authorize endpoints answer in OAuth's shape."""
    return ApiError(status, {"error": error, "error_description": description})
