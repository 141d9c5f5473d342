"""The contract between the engine and a provider.

The engine never sees HTTP and a provider never sees YAML: a provider reads live resources in
the canonical shapes of ``authform.resources`` and carries out single changes. What a provider
cannot do through its API is declared in ``support`` so the engine can turn those changes into
``manual`` steps in the plan, before anything is written, instead of failing halfway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from authform.redaction import redact
from authform.resources import Kind, Resource


@dataclass(frozen=True)
class KindSupport:
    """What a provider's API can do with one kind.

    ``immutable_fields`` are fields the API cannot update in place: a change to one of them is
    planned as a replace (delete + create) when the kind can be deleted, else as a manual step.
    ``manual`` means the provider has no API for the kind at all (dashboard only); the engine
    plans every change to it as a manual step and ``verify`` checks it by probing.
    """

    create: bool = True
    update: bool = True
    delete: bool = True
    immutable_fields: frozenset[str] = frozenset()
    manual: bool = False


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of checking, without writing, that a manual step was carried out."""

    ok: bool
    detail: str

    def __post_init__(self) -> None:
        # A failed sign-in's detail quotes the API's answer, which may echo the password.
        object.__setattr__(self, "detail", redact(self.detail))


@dataclass(frozen=True)
class ProviderCapabilities:
    name: str
    support: Mapping[Kind, KindSupport] = field(default_factory=dict)

    def supports(self, kind: Kind) -> KindSupport | None:
        return self.support.get(kind)


def api_capabilities(name: str, deviations: Mapping[Kind, KindSupport]) -> ProviderCapabilities:
    """The capabilities of a provider whose API can do everything with every kind but what
    ``deviations`` says, and but the two facts every provider shares: social connections are
    configured in the provider's dashboard only (``verify`` probes them), and a membership
    is its (user, organization) pair, so only its role changes in place."""
    support = {kind: KindSupport() for kind in Kind}
    support[Kind.SOCIAL_CONNECTION] = KindSupport(manual=True)
    support[Kind.MEMBERSHIP] = KindSupport(immutable_fields=frozenset({"user", "organization"}))
    support.update(deviations)
    return ProviderCapabilities(name, support)


@dataclass(frozen=True)
class ApiRefusal:
    """What an API's refusal says beyond its words: the HTTP status, the API's own error
    code, and the request id its support desk asks for. One value, so that an error reworded
    on its way up (a hint added, a secret taken out) keeps the answer it is about."""

    status: int | None = None
    code: str | None = None
    request_id: str | None = None


class ProviderError(Exception):
    """An API call failed. The message names the call and the provider's own explanation;
    ``answer`` (also ``status``, ``code``, ``request_id``) is the API's refusal, when the
    error is one.

    It never contains credentials: providers build it from the response, not the request,
    and the message passes through ``redaction.redact`` here, so a secret or password hash the
    API echoed back is gone before anyone prints, logs or writes it to a report.
    """

    def __init__(self, message: str, answer: ApiRefusal = ApiRefusal()) -> None:
        super().__init__(redact(message))
        self.answer = answer
        self.status, self.code, self.request_id = answer.status, answer.code, answer.request_id

    def reworded(self, message: str) -> ProviderError:
        """The same refusal in other words (a hint added, a secret taken out)."""
        return ProviderError(message, self.answer)


class Provider(Protocol):
    """What the engine asks of a provider.

    Two optional parts serve tenants of a million users (see ``authform.engine.index``):

    - ``read_stream(kinds, desired) -> AsyncIterator[Resource | LiveRows]``: the live state
      yielded as it is read (a page at a time), which the commands write straight to their
      on-disk index; without it, ``read``'s list is indexed whole. A page may come as the
      index's own rows (``engine.live_rows.LiveRows``: specs already canonical JSON), which
      ``read`` then gives as resources.
    - ``remember_ids_in(store: ProviderIds)``: a provider that carries ids from its read to its
      writes keeps them in ``self.ids`` and nowhere else, and the commands hand it a store
      kept on disk (``authform.providers.ids``). ``desired`` may be an ``IndexedResources``:
      iterate it (``resources.of_kind`` reads one kind), never index it.
    """

    capabilities: ProviderCapabilities

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        """Live resources of ``kinds``. ``desired`` lets probe-only kinds (social connections)
        check just what the manifest names, and lets user reads look up candidates."""
        ...

    async def create(self, desired: Resource) -> Resource:
        """Create one resource and return it as live (with ``provider_id``)."""
        ...

    async def update(self, live: Resource, desired: Resource) -> Resource: ...

    async def delete(self, live: Resource) -> None: ...

    def manual_instructions(self, desired: Resource | None, live: Resource | None) -> list[str]:
        """Exact dashboard steps a person must take for a change the API cannot make."""
        ...

    def id_mapping(self) -> Mapping[str, Mapping[str, str]]:
        """Natural key → provider id per kind ("users", "organizations"), as known after the
        last read and writes: the mapping file downstream apps need after an import."""
        ...

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        """Honest statements about what this provider will not carry over (e.g. password
        hashes it cannot import), shown in the plan before anything is written."""
        ...

    async def authenticate(self, email: str, password: str) -> ProbeResult:
        """Sign a canary user in with a password (verify's login check)."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Write:
    """One change of a batch, as a provider carries it out: ``create`` (desired), ``update``
    (live and desired) or ``delete`` (live)."""

    action: Literal["create", "update", "delete"]
    desired: Resource | None = None
    live: Resource | None = None


class NeedsPerson(ProviderError):
    """A write the provider cannot make, which a person can: nothing was written, and
    ``instructions`` say what to do. Apply reports it as a pending manual step."""

    def __init__(self, message: str, instructions: Sequence[str]) -> None:
        super().__init__(message)
        self.instructions = tuple(instructions)


class BatchWriter(Protocol):
    """An optional provider capability: carry out many changes at once.

    A provider with no rate limit to respect (a database) writes thousands of rows per
    transaction this way instead of one call per change. The engine hands it the changes of
    one phase in batches; the answer holds one outcome per write, in order: ``None`` when it
    was made, ``NeedsPerson`` when a person must make it, else the error that names why
    that write, and only it, failed. The next batch of a phase is handed over while the one
    before is still being written (``engine.batches``): a batch that needs what the one
    before writes waits for it itself.
    """

    async def write_batch(self, writes: Sequence[Write]) -> list[ProviderError | None]: ...
