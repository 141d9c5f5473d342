"""WorkOS's error bodies: ``{message, code}`` (plus ``errors`` on validation failures), and
the ``{error, error_description}`` shape of its OAuth-style endpoints. Codes are the OpenAPI
document's own where it names one (``external_id_already_used``, ``role_slug_conflict``…)."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError


def error_body(message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["code"] = code
    body.update(extra)
    return body


def not_found(kind: str, identifier: str) -> ApiError:
    # The document's 404 example: "Organization not found: 'org_01EHQMYV6MBK39QC5PZXHY59C3'."
    return ApiError(404, error_body(f"{kind} not found: '{identifier}'.", "entity_not_found"))


def bad_request(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(400, error_body(message, code, **extra))


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, error_body(message, code))


def unprocessable(message: str, errors: list[dict[str, str]] | None = None) -> ApiError:
    extra = {"errors": errors} if errors else {}
    return ApiError(422, error_body(message, "invalid_request_parameters", **extra))


def oauth_error(error: str, description: str) -> ApiError:
    """The ``{error, error_description}`` shape WorkOS uses on its OAuth-style endpoints."""
    return ApiError(400, {"error": error, "error_description": description})
