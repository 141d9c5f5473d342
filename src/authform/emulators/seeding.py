"""Seed files for every emulator: read one, and apply it section by section.

An emulator declares its seed as a tuple of ``SeedSection``s, each naming a top-level key of
the seed and a function that creates one item of it (and skips the item when its natural key
already exists, so seeding a persistent database on every start is harmless). The loop, the
checks every emulator needs (unknown sections, container types) and the translation of an
emulator's API refusal into a message that says which item failed live here once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

from .errors import ApiError
from .social_connections import SocialConnections, check_social_provider
from .store import SqliteStore

T = TypeVar("T")


def load_seed(path: str | Path) -> dict[str, Any]:
    """Read a seed file (YAML or JSON, which YAML reads too); it must hold a mapping."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed file must be a mapping")
    return data


@dataclass(frozen=True)
class SeedSection:
    """One top-level key of a seed.

    ``apply_item(backend, item)`` creates one item through the backend's own operations (so
    a seed is validated like an API request) and skips it when its natural key exists.
    ``container`` is the type the section must hold: ``list`` (each element is an item) or
    ``dict`` (each ``(key, value)`` pair is an item, e.g. ``{google: client-id}``).
    """

    name: str
    apply_item: Callable[[Any, Any], object]
    container: type = list

    def items(self, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, self.container):
            shape = "a mapping" if self.container is dict else f"a {self.container.__name__}"
            raise ValueError(f"seed section {self.name!r} must be {shape}")
        if isinstance(value, Mapping):
            return list(value.items())
        return list(cast(Iterable[Any], value))


def apply_seed(backend: Any, seed: Mapping[str, Any], sections: Sequence[SeedSection]) -> None:
    """Apply ``seed`` to ``backend``, section by section in the order of ``sections`` (so
    roles can name permissions and memberships organizations seeded before them).

    Unknown sections are refused before anything is written. An item the emulator refuses
    (an ``ApiError``, or a database constraint) becomes ``ValueError("seed <section> item <n>:
    <reason>")`` with ``n`` counted from 1, so a bad seed fails at start saying which item.
    """
    unknown = set(seed) - {section.name for section in sections}
    if unknown:
        raise ValueError(f"unknown seed sections: {', '.join(sorted(unknown))}")
    prepared = [(section, section.items(seed.get(section.name))) for section in sections]
    for section, items in prepared:
        for number, item in enumerate(items, start=1):
            try:
                section.apply_item(backend, item)
            except ApiError as exc:
                # A trace id (Clerk's ``clerk_trace_id``) is random per answer: left out, so
                # the message says where and what, the same on every run.
                body = {k: v for k, v in exc.body.items() if not k.endswith("trace_id")}
                raise ValueError(f"seed {section.name} item {number}: {json.dumps(body)}") from None
            except sqlite3.IntegrityError as exc:  # e.g. two seed users with one external_id
                raise ValueError(f"seed {section.name} item {number}: {exc}") from None


# A seed as a caller gives it: a file's path, the data itself, or none.
Seed = Path | str | Mapping[str, Any] | None


def open_backend(backend: Callable[..., T], db_path: str | Path, seed: Seed, **options: Any) -> T:
    """``backend(store, social, seed=…, **options)`` over a store at ``db_path``, the seed
    read from its file if a path is given; the store is closed when building fails."""
    store = SqliteStore(db_path)
    try:
        data = load_seed(seed) if isinstance(seed, str | Path) else seed
        return backend(store, SocialConnections(store), seed=data, **options)
    except BaseException:
        store.close()
        raise


def required(item: Any, key: str) -> Any:
    """``item[key]``; a seed item that is not a mapping holding ``key`` is refused."""
    if not isinstance(item, dict) or item.get(key) is None:
        raise ValueError(f"seed item {item!r} needs {key!r}")
    return item[key]


def create_once(
    table: str, key: str, operation: str, *, scalar: bool = False
) -> Callable[[Any, Any], None]:
    """A seed item created through ``backend.<operation>(body)`` unless ``table`` already
    holds its ``key``; a ``scalar`` item (a bare URI) is the body ``{key: item}``."""

    def apply_item(backend: Any, item: Any) -> None:
        body = {key: item} if scalar else item
        if not backend.store.find(table, key, item if scalar else required(item, key)):
            getattr(backend, operation)(body)

    return apply_item


def find_organization(store: SqliteStore, reference: str, name_column: str) -> str | None:
    """How seed memberships name an organization: its id by external id, else by name (the
    oldest of that name)."""
    row = store.find("organizations", "external_id", reference) or store.one(
        f"SELECT id FROM organizations WHERE {name_column} = ? ORDER BY id",  # noqa: S608
        [reference],
    )
    return None if row is None else str(row["id"])


def seed_social_connection(backend: Any, pair: tuple[str, Any]) -> None:
    """A ``social_connections: {provider: client_id}`` item: what the dashboard would set."""
    provider, client_id = pair
    check_social_provider(provider)
    backend.social.set(provider, str(client_id))
