"""The providers this installation can build, what each declares, and building one.

A declaration is what the rest of authform may know about a provider without connecting:
its name, the rate-limit buckets ``target.rate_limits`` may override, and the prefix its
secret key must have. ``validate`` checks a manifest against the same declarations ``plan``
builds from, so a manifest that validates is not refused later, before the network, with
no position to point at.

Providers are plug-ins, found the way pytest and octoDNS find theirs: every entry point of
the ``authform.providers`` group names a ``ProviderDeclaration``. authform's own providers
are declared in ``providers.builtin`` and registered through the same group in its
``pyproject.toml``; a third-party package registers its own in its metadata (the README's
"Writing a provider plug-in" says how).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authform.providers.base import Provider, ProviderError
from authform.providers.rate_limit import RateLimit

if TYPE_CHECKING:  # the manifest package imports this registry; no import circle at runtime
    from authform.manifest.models import TargetSettings


@dataclass(frozen=True)
class Connection:
    """Resolved credentials and endpoint for one provider account (secrets stay in memory)."""

    provider: str
    api_key: str | None
    client_id: str | None
    base_url: str | None
    max_concurrency: int = 16
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    # Database targets (KavachOS): where the database is.
    database_url: str | None = None
    # The target's settings beyond those every target has, by name, as the provider's
    # settings model validated them (KavachOS's ``legacy_passwords``, a plug-in's own).
    options: Mapping[str, Any] = field(default_factory=dict)

    def given(self, name: str) -> str:
        """The connection field ``name`` (``api_key``, ``base_url``...), which the
        declaration's ``required`` made sure is set before ``build`` was called."""
        value = getattr(self, name)
        if not value:
            raise ProviderError(f"target.{name} is required for {self.provider}")
        return str(value)


@dataclass(frozen=True)
class ProviderDeclaration:
    """One provider, as known before it is built.

    ``rate_limit_buckets`` are the names of the windows its client draws from (each with the
    provider's documented default); ``api_key_prefix`` is what every valid secret key starts
    with, if the provider has such a rule, and ``api_key_hint`` says what the key is.
    ``required`` names the target keys it cannot work without.
    ``settings`` is the model that validates the manifest's ``target`` for this provider:
    a subclass of ``authform.manifest.TargetSettings`` (whose fields every target has), or
    None for authform's own ``Target``. Its fields beyond the common ones reach ``build`` as
    ``Connection.options``.
    """

    name: str
    label: str
    rate_limit_buckets: tuple[str, ...]
    build: Callable[[Connection], Provider]
    api_key_prefix: str | None = None
    api_key_hint: str = ""
    settings: type[TargetSettings] | None = None
    # The target keys (``Connection`` fields) the provider cannot work without, each with
    # what it is: ``validate`` reports a missing one at ``target``, ``build_provider``
    # refuses to build without it (``--emulate`` supplies its own).
    required: tuple[tuple[str, str], ...] = ()

    def missing(self, connection: Connection) -> list[tuple[str, str]]:
        """The ``required`` keys ``connection`` lacks, in declaration order."""
        return [(key, what) for key, what in self.required if not getattr(connection, key)]

    def unknown_buckets(self, names: object) -> list[str]:
        """The names in ``names`` this provider has no rate-limit bucket for, sorted."""
        if not isinstance(names, Mapping):
            return []
        return sorted(str(n) for n in names if n not in self.rate_limit_buckets)


ENTRY_POINT_GROUP = "authform.providers"
# How much of a broken plug-in's own exception message is shown: enough to act on, never a
# wall of text in a CI log.
_REASON_MAX = 300


class EntryPointRegistry(MutableMapping[str, ProviderDeclaration]):
    """The providers of this installation: every entry point of the ``authform.providers``
    group (authform's own included) that names a ``ProviderDeclaration`` of the same name.

    Loaded on first use, once. A plug-in that cannot be imported, names something that is not
    a declaration, declares another name, or claims a name another distribution claims too is
    not registered: ``broken`` keeps why, naming the distribution, so that a manifest asking
    for it gets that reason (located at ``target.provider``) instead of a traceback, and a
    manifest asking for another provider is not stopped by it.
    """

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._declarations: dict[str, ProviderDeclaration] | None = None
        self._broken: dict[str, str] = {}

    def _loaded(self) -> dict[str, ProviderDeclaration]:
        if self._declarations is None:
            self._declarations, self._broken = load_declarations(
                importlib.metadata.entry_points(group=self.group)
            )
        return self._declarations

    def __getitem__(self, name: str) -> ProviderDeclaration:
        return self._loaded()[name]

    def __setitem__(self, name: str, declaration: ProviderDeclaration) -> None:
        """Register a provider in this process only (an embedding program's, a test's)."""
        self._loaded()[name] = declaration

    def __delitem__(self, name: str) -> None:
        del self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    @property
    def broken(self) -> Mapping[str, str]:
        """Why each plug-in that failed to load was left out, by provider name."""
        self._loaded()
        return self._broken

    def reload(self) -> None:
        """Read the entry points again (after installing a plug-in in a running process)."""
        self._declarations = None
        self._broken = {}


def load_declarations(
    entry_points: Iterable[importlib.metadata.EntryPoint],
) -> tuple[dict[str, ProviderDeclaration], dict[str, str]]:
    """``(declarations, broken)`` by provider name from ``entry_points``; see
    ``EntryPointRegistry``."""
    declarations: dict[str, ProviderDeclaration] = {}
    claimed_by: dict[str, list[str]] = {}
    broken: dict[str, str] = {}
    for entry_point in entry_points:
        name, source = entry_point.name, _distribution(entry_point)
        claimed_by.setdefault(name, []).append(source)
        plugin = f"the provider plug-in {name!r} ({entry_point.value}) of {source}"
        try:
            declared = entry_point.load()
        except Exception as exc:  # a plug-in's import may raise anything; report, go on
            reason = f"{type(exc).__name__}: {exc}"[:_REASON_MAX]
            broken[name] = f"{plugin} cannot be loaded ({reason}); fix or uninstall it"
        else:
            if not isinstance(declared, ProviderDeclaration):
                broken[name] = (
                    f"{plugin} names a {type(declared).__name__}, not an "
                    "authform.providers.registry.ProviderDeclaration; fix or uninstall it"
                )
            elif declared.name != name:
                broken[name] = (
                    f"{plugin} declares the provider {declared.name!r} instead; fix or uninstall it"
                )
            elif not _valid_settings(declared.settings):
                broken[name] = (
                    f"{plugin} declares settings {declared.settings!r}, not a subclass of "
                    "authform.manifest.TargetSettings; fix or uninstall it"
                )
            else:
                declarations[name] = declared
    for name, sources in claimed_by.items():
        if len(sources) > 1:  # which one was meant is not ours to guess
            declarations.pop(name, None)
            broken[name] = (
                f"the provider {name!r} is registered more than once, by "
                f"{' and by '.join(sources)}; uninstall all but one"
            )
    return declarations, broken


def _valid_settings(settings: object) -> bool:
    from authform.manifest.models import TargetSettings

    return settings is None or (isinstance(settings, type) and issubclass(settings, TargetSettings))


def _distribution(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = entry_point.dist
    if dist is None:
        return "an unknown distribution"
    return f"the distribution {dist.metadata['Name']} {dist.version}"


PROVIDERS = EntryPointRegistry()


def provider_declaration(name: str) -> ProviderDeclaration:
    """The declaration of provider ``name``; ``ProviderError`` naming the available ones."""
    declaration = PROVIDERS.get(name)
    if declaration is None:
        raise ProviderError(f"target.provider: {unavailable_provider_message(name)}")
    return declaration


def unavailable_provider_message(name: str) -> str:
    broken = PROVIDERS.broken.get(name)
    if broken is not None:
        return f"provider {name!r} is not available: {broken}"
    if not PROVIDERS:
        return (
            f"provider {name!r} is not available: no provider is registered (authform finds "
            f"even its own through the {ENTRY_POINT_GROUP!r} entry points of its installed "
            "metadata; reinstall authform)"
        )
    return (
        f"provider {name!r} is not available in this installation "
        f"(available: {', '.join(sorted(PROVIDERS))})"
    )


def unknown_buckets_message(declaration: ProviderDeclaration, unknown: list[str]) -> str:
    noun = "bucket" if len(unknown) == 1 else "buckets"
    return (
        f"unknown {declaration.label} rate-limit {noun} {', '.join(map(repr, unknown))} "
        f"(known: {', '.join(declaration.rate_limit_buckets)})"
    )


def build_provider(connection: Connection) -> Provider:
    """The provider ``connection`` names, after the checks ``validate`` also makes, guarded
    so that every failure of its calls is a ``ProviderError`` naming the request (see
    ``providers.guarded``)."""
    from authform.providers.guarded import GuardedProvider

    declaration = provider_declaration(connection.provider)
    unknown = declaration.unknown_buckets(connection.rate_limits)
    if unknown:
        raise ProviderError(f"target.rate_limits: {unknown_buckets_message(declaration, unknown)}")
    missing = declaration.missing(connection)
    if missing:
        keys = ", ".join(f"target.{key}" for key, _ in missing)
        raise ProviderError(
            f"{declaration.label} needs {keys} ({'; '.join(what for _, what in missing)})"
        )
    return GuardedProvider(declaration.build(connection))
