"""What the REST providers (WorkOS, Scalekit, Clerk) share, so each provider module holds only
what is its API's own.

A provider is a table: per kind, the handlers that create, update and delete it
(``KindHandlers``). ``ApiProvider`` dispatches the ``Provider`` protocol's writes through that
table, and a write the table has no handler for is refused with one message, the same on
every provider, before any request. Adding a kind to a provider is one row in its table plus
its handlers; ``tests/providers/test_handler_tables.py`` keeps every table in step with the
provider's declared ``capabilities``.

Also here, once: the id helpers every write needs (a live resource's provider id, a desired
resource returned with the id it got, a value quoted as one path segment), the converging
create (POST, and on a conflict adopt the item that holds our key), the rate-limit windows
built from a provider's documented defaults and the manifest's overrides, the manual steps
table with its dashboard fallback, and the import's id mapping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from authform.providers.base import ProviderCapabilities, ProviderError
from authform.providers.desired_directory import DesiredDirectory
from authform.providers.http import ApiClient, RateLimit, WindowLimiter
from authform.providers.ids import MemoryIds, ProviderIds
from authform.resources import Kind, Resource

Create = Callable[[Resource], Awaitable[Resource]]
Update = Callable[[Resource, Resource], Awaitable[None]]
Delete = Callable[[Resource], Awaitable[None]]
Steps = Callable[[Resource], list[str]]
Find = Callable[[], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class KindHandlers:
    """How one kind is written through a provider's API. ``None`` means the API cannot:
    the provider's ``capabilities`` say the same, so the engine plans such a change as a
    manual step and never asks for it."""

    create: Create | None = None
    update: Update | None = None
    delete: Delete | None = None


@dataclass(frozen=True)
class ManualSteps:
    """The dashboard steps for a change of one kind the API cannot make: ``add`` sets up the
    desired item (also what a changed one is set up again with), ``remove`` takes the live
    one away, ``change`` turns the live item into the desired one when that needs its own
    steps. A change with no steps here gets the provider's generic "change it in the
    dashboard"."""

    add: Steps | None = None
    remove: Steps | None = None
    change: Callable[[Resource, Resource], list[str]] | None = None


def with_provider_id(
    resource: Resource, provider_id: str | None, observed: Mapping[str, Any] | None = None
) -> Resource:
    """``resource`` as it now stands live: with the provider's id (and what the provider
    observed of it), every other field carried over. The write-once data (a password hash)
    stays behind: a live resource never holds it."""
    return dataclasses.replace(
        resource, provider_id=provider_id, observed=dict(observed or {}), create_only={}
    )


def path_segment(value: str, *, safe: str = ":") -> str:
    """``value`` quoted as one URL path segment (slugs and keys may hold ':', which a path
    segment allows, so it stays readable unless the provider's ``safe`` says otherwise)."""
    return quote(value, safe=safe)


def window_limiters(
    label: str, defaults: Mapping[str, RateLimit], overrides: Mapping[str, RateLimit] | None
) -> dict[str, WindowLimiter]:
    """One limiter per rate-limit bucket: the provider's documented default, or the
    manifest's override. An override naming no bucket of this provider is refused (the
    registry checks the same before building; this keeps a directly built provider honest)."""
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise ProviderError(
            f"target.rate_limits: unknown {label} bucket(s) {', '.join(unknown)} "
            f"(known: {', '.join(defaults)})"
        )
    limits = {**defaults, **(overrides or {})}
    return {name: WindowLimiter(limit) for name, limit in limits.items()}


class ApiProvider:
    """The shared half of a REST provider: writes dispatched by kind, id helpers, the id
    mapping, manual-step plumbing, closing the client.

    A subclass sets ``label`` (the provider's name in messages), ``dashboard`` (its URL),
    ``capabilities``, ``conflict_statuses`` (the create answers that may mean "it exists
    already"), and in ``__init__`` its ``http`` client and its ``handlers`` and
    ``manual_steps`` tables. ``ids`` is natural key → provider id per kind, filled by reads
    and creates, so a later write (a membership) can name an item created earlier in the same
    apply; it is also the import's id mapping.
    """

    label: ClassVar[str]
    dashboard: ClassVar[str]
    capabilities: ProviderCapabilities
    conflict_statuses: ClassVar[frozenset[int]] = frozenset({409})
    path_safe: ClassVar[str] = ":"

    http: ApiClient
    handlers: Mapping[Kind, KindHandlers]
    manual_steps: Mapping[Kind, ManualSteps]

    def __init__(self) -> None:
        # See ``authform.providers.ids``: the commands swap in their on-disk store through
        # ``remember_ids_in``.
        self.ids: ProviderIds = MemoryIds()
        self.manual_steps = {}
        # What the last read was asked for, on disk: see ``desired_directory``.
        self._directory: DesiredDirectory | None = None

    # ---- reading: streamed, nothing that grows with the users held -------------------------

    def read_stream(
        self, kinds: Iterable[Kind], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource]:
        """The live resources of ``kinds``, yielded a page at a time (the ``Provider``
        protocol's optional streamed read, which every REST provider has)."""
        raise NotImplementedError

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        return [resource async for resource in self.read_stream(kinds, desired)]

    def remember_ids_in(self, store: ProviderIds) -> None:
        """Keep the ids read and written in ``store`` (see ``authform.providers.ids``)."""
        self.ids = store

    def desired_directory(
        self, desired: Iterable[Resource] | None = None, *, reload: bool = False
    ) -> DesiredDirectory:
        """The on-disk directory of the desired users, organizations and memberships,
        loaded from ``desired`` when given and not loaded from it already (or when
        ``reload``: a read sees the desired state as it is now)."""
        if self._directory is None:
            self._directory = DesiredDirectory()
        if desired is not None and (reload or self._directory.source is not desired):
            self._directory.load(desired)
        return self._directory

    # ---- the Provider protocol's writes, through the table --------------------------------

    async def create(self, desired: Resource) -> Resource:
        create = self._handlers(desired.kind).create
        if create is None:
            raise self._cannot("create", desired)
        return await create(desired)

    async def update(self, live: Resource, desired: Resource) -> Resource:
        update = self._handlers(desired.kind).update
        if update is None:
            raise self._cannot("update", desired)
        await update(live, desired)
        return with_provider_id(desired, live.provider_id)

    async def delete(self, live: Resource) -> None:
        delete = self._handlers(live.kind).delete
        if delete is None:
            raise self._cannot("delete", live)
        await delete(live)

    def _handlers(self, kind: Kind) -> KindHandlers:
        return self.handlers.get(kind) or KindHandlers()

    def _cannot(self, verb: str, resource: Resource) -> ProviderError:
        return ProviderError(f"{self.label}: cannot {verb} {resource.kind.value} through the API")

    # ---- id helpers -------------------------------------------------------------------------

    def require_id(self, live: Resource) -> str:
        """The provider's id of a live resource; a resource read without one cannot be
        changed, and says so instead of sending a request to a path with no id."""
        if not live.provider_id:
            raise ProviderError(f"{self.label}: {live.address} has no {self.label} id")
        return live.provider_id

    def member_ids(self, membership: Resource) -> tuple[str, str]:
        """(user id, organization id) of a desired membership, as the reads and creates of
        this apply recorded them in ``ids``. A membership whose user or organization is not
        there cannot be created, and the error says which of the two is missing."""
        user_id = self.ids[Kind.USER].get(membership.spec["user"])
        org_id = self.ids[Kind.ORGANIZATION].get(membership.spec["organization"])
        if user_id is None or org_id is None:
            missing = "user" if user_id is None else "organization"
            raise ProviderError(
                f"{self.label}: {membership.address}: its {missing} does not exist in "
                f"{self.label} (its create failed or was not attempted)"
            )
        return user_id, org_id

    def seg(self, value: str) -> str:
        """``value`` as one path segment, quoted as this provider's paths want it."""
        return path_segment(value, safe=self.path_safe)

    def delete_by_id(self, collection: str) -> Delete:
        """The delete handler of a kind addressed by its provider id:
        ``DELETE {collection}/{id}``."""

        async def delete(live: Resource) -> None:
            await self.http.send_json("DELETE", f"{collection}/{self.seg(self.require_id(live))}")

        return delete

    def delete_by_key(self, collection: str) -> Delete:
        """The delete handler of a kind addressed by its natural key (a slug):
        ``DELETE {collection}/{key}``."""

        async def delete(live: Resource) -> None:
            await self.http.send_json("DELETE", f"{collection}/{self.seg(live.key)}")

        return delete

    def id_mapping(self) -> Mapping[str, Mapping[str, str]]:
        """Source key → provider id for users and organizations (the import's mapping
        file); items the source never keyed are not the import's."""
        return {
            name: self.ids.keyed(kind)
            for name, kind in (("users", Kind.USER), ("organizations", Kind.ORGANIZATION))
        }

    # ---- converging creates -----------------------------------------------------------------

    async def create_converging(
        self, path: str, body: Mapping[str, Any], find: Find
    ) -> tuple[dict[str, Any], bool]:
        """POST ``body`` to ``path``; when the API refuses it with one of the
        ``conflict_statuses``, look the item up by its key (``find``) before believing the
        error. Every create then converges: a retried create whose answer was lost, a run
        killed after it landed, or another apply running at the same time leaves an item
        holding our key, which is ours. Returns (the item, whether it existed already)."""
        try:
            created: dict[str, Any] = await self.http.send_json("POST", path, body) or {}
        except ProviderError as exc:
            if exc.status not in self.conflict_statuses:
                raise
            existing = await find()
            if existing is None:
                raise
            return existing, True
        return created, False

    async def converged(
        self, desired: Resource, item: Mapping[str, Any], stale: bool, update: Update
    ) -> Resource:
        """``desired`` as its converging create left it: the item that holds its key, first
        brought to the desired spec with ``update`` when it existed already and differs
        (``stale``)."""
        live = with_provider_id(desired, item["id"])
        if stale:
            await update(live, desired)
        return live

    async def relabel(
        self, method: str, path: str, live: Resource, desired: Resource, *, name_field: str = "name"
    ) -> None:
        """Send a permission's or a role's display name and description (``name_field`` is
        what the API calls the name) when either differs from ``live``'s; nothing when both
        are as desired, so a change of the role's permissions alone sends no label."""
        spec = desired.spec
        if (live.spec["name"], live.spec["description"]) != (spec["name"], spec["description"]):
            await self.http.send_json(
                method, path, {name_field: spec["name"], "description": spec["description"]}
            )

    async def get_or_none(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The object at ``path``, or None when the API answers 404."""
        try:
            found: dict[str, Any] = await self.http.get_json(path, params)
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    # ---- what only a person can do ----------------------------------------------------------

    def manual_instructions(self, desired: Resource | None, live: Resource | None) -> list[str]:
        """The kind's own dashboard steps for this change, else the generic one."""
        resource = desired or live
        assert resource is not None
        steps = self.manual_steps.get(resource.kind) or ManualSteps()
        found: list[str] = []
        if desired is not None and live is not None and steps.change is not None:
            found = steps.change(desired, live)
        elif desired is not None and steps.add is not None:
            found = steps.add(desired)
        elif live is not None and steps.remove is not None:
            found = steps.remove(live)
        generic = f"Change {resource.address} in the {self.label} Dashboard ({self.dashboard})."
        return found or [generic]

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        return []

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._directory is not None:
            self._directory.close()
            self._directory = None
