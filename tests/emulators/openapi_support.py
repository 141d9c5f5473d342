"""Validating recorded HTTP exchanges against a provider's OpenAPI document with
openapi-core: the adapters every emulator's OpenAPI test shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import yaml
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

# The providers' own OpenAPI documents, vendored unchanged with their licences and sources
# (tests/fixtures/openapi/README.md). A contract test never skips for a missing document.
OPENAPI_DOCUMENTS = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"


def load_openapi_document(name: str) -> dict[str, Any]:
    """Parse one vendored OpenAPI document with the C YAML loader (~1 s, not ~20 s)."""
    path = OPENAPI_DOCUMENTS / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the OpenAPI documents live in the repository")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    return data


@dataclass
class OpenAPIRequest:
    """openapi-core's Request protocol over a recorded httpx request."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class OpenAPIResponse:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def as_openapi_request(request: httpx.Request, host_url: str) -> OpenAPIRequest:
    query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
    return OpenAPIRequest(
        host_url=host_url,
        path=request.url.path,
        method=request.method.lower(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(list(request.headers.items()))
        ),
        body=request.content or None,
        content_type=request.headers.get("content-type", ""),
    )


def as_openapi_response(response: httpx.Response) -> OpenAPIResponse:
    return OpenAPIResponse(
        status_code=response.status_code,
        content_type=response.headers.get("content-type", ""),
        headers=Headers(list(response.headers.items())),
        data=response.content or None,
    )


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref``s to the schema they name."""
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema
