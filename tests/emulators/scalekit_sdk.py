"""The REST mappings of Scalekit's official SDK: every ``google.api.http`` rule of the proto
services authform uses. Scalekit's SDK speaks gRPC, so these annotations are the API's own
definition of its REST routes; the OpenAPI test and the route contract test both read them."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

SDK_MODULES = (
    "scalekit.v1.organizations.organizations_pb2",
    "scalekit.v1.users.users_pb2",
    "scalekit.v1.roles.roles_pb2",
    "scalekit.v1.domains.domains_pb2",
)


@dataclass(frozen=True)
class Binding:
    """One REST mapping from the SDK's protos: method, path regex, output message."""

    method: str
    template: str
    pattern: re.Pattern[str]
    service: str
    rpc: str
    output: Any


def load_sdk_bindings() -> list[Binding]:
    """Every ``google.api.http`` rule of the services authform uses, from the SDK's protos."""
    annotations_pb2 = importlib.import_module("google.api.annotations_pb2")
    message_factory = importlib.import_module("google.protobuf.message_factory")
    bindings = []
    for name in SDK_MODULES:
        module = importlib.import_module(name)
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                options = method.GetOptions()
                if not options.HasExtension(annotations_pb2.http):
                    continue
                rule = options.Extensions[annotations_pb2.http]
                output = message_factory.GetMessageClass(method.output_type)
                for binding in [rule, *rule.additional_bindings]:
                    kind = binding.WhichOneof("pattern")
                    if kind in (None, "custom"):
                        continue
                    template = getattr(binding, kind)
                    parts = re.split(r"\{[^}]+\}", template)
                    regex = "[^/]+".join(re.escape(part) for part in parts)
                    bindings.append(
                        Binding(
                            kind.upper(),
                            template,
                            re.compile(regex),
                            service.name,
                            method.name,
                            output,
                        )
                    )
    return bindings


def binding_for(bindings: list[Binding], method: str, path: str) -> Binding | None:
    """The SDK's mapping of a concrete request (the most literal template wins)."""
    matches = [b for b in bindings if b.method == method and b.pattern.fullmatch(path)]
    return max(matches, key=lambda b: len(re.sub(r"\{[^}]+\}", "", b.template)), default=None)
