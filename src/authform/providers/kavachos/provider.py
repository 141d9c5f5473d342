"""KavachOS 0.2.1 as a target: authform writes the database KavachOS reads.

KavachOS is a library with no admin API, so the "API" here is its tables (see ``schema``).
There is no rate limit: writes are batched into transactions by group commit (``writer``),
blocking database calls run in a worker thread so the engine's workers keep handing in
changes, and a rerun or a concurrent apply converges because every row has a natural id.
The read streams (``read_stream``) and the desired state is read once (``desired``), so
memory stays flat in the number of users.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import (
    AsyncIterator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from authform.collector import collected_rarely
from authform.engine.live_rows import LiveRows
from authform.providers.base import (
    KindSupport,
    NeedsPerson,
    ProbeResult,
    ProviderCapabilities,
    ProviderError,
    Write,
)
from authform.providers.ids import DeferredIds, MemoryIds, ProviderIds
from authform.providers.kavachos import instructions, live, schema, writes
from authform.providers.kavachos import statements as sql
from authform.providers.kavachos.canary import check_canary
from authform.providers.kavachos.codec import Codec, inspect_database
from authform.providers.kavachos.database import PAGE, Database, DatabaseError, connect
from authform.providers.kavachos.desired import DesiredFacts
from authform.providers.kavachos.writer import Change, GroupCommitter
from authform.resources import Kind, Resource

# Kept in the application's createKavach configuration, not in the database: manual steps.
KEPT_IN_CODE = (Kind.REDIRECT_URI, Kind.CORS_ORIGIN, Kind.SOCIAL_CONNECTION)
# Rows authform writes. A permission is a string inside role rows: present by definition
# (see ``read``). A membership row is its (user, organization) pair: only the role changes.
WRITTEN = {
    kind: KindSupport(immutable_fields=frozenset({"user", "organization"}))
    if kind is Kind.MEMBERSHIP
    else KindSupport()
    for kind in (Kind.PERMISSION, Kind.ROLE, Kind.ORGANIZATION, Kind.USER, Kind.MEMBERSHIP)
}
CAPABILITIES = ProviderCapabilities(
    name="kavachos",
    support={**WRITTEN, **dict.fromkeys(KEPT_IN_CODE, KindSupport(manual=True))},
)

T = TypeVar("T")

# Which tables each managed kind reads or writes.
TABLES: dict[Kind, tuple[str, ...]] = {
    Kind.ROLE: (schema.ORGANIZATIONS, schema.ORG_ROLES),
    Kind.ORGANIZATION: (schema.USERS, schema.ORGANIZATIONS, schema.ORG_ROLES),
    Kind.USER: (schema.USERS, schema.OAUTH_ACCOUNTS),
    Kind.MEMBERSHIP: (schema.USERS, schema.ORGANIZATIONS, schema.ORG_MEMBERS),
}


class KavachOSProvider:
    capabilities = CAPABILITIES

    def __init__(self, *, database_url: str, legacy_passwords: str = "keep") -> None:
        self._url = database_url
        self.reset_passwords = legacy_passwords == "reset"
        self._db: Database | None = None
        self._codec: Codec | None = None
        self._committer: GroupCommitter | None = None
        # Natural key → KavachOS id of users and organizations, from the read and the
        # writes: the command's on-disk store once ``remember_ids_in`` hands it over. The
        # users' are remembered when first asked for (``DeferredIds``), not by each read.
        self.ids = DeferredIds(MemoryIds())
        self.index = live.LiveIndex()
        self._facts: DesiredFacts | None = None
        self._roles_managed = False
        # The commit of the last batch handed to ``write_batch`` (see there).
        self._last_commit: asyncio.Future[list[DatabaseError | None]] | None = None
        # Users written whole, and committed, with an organization they own (see
        # ``_owner_writes``): at most one per organization.
        self._owners_written: set[str] = set()

    def remember_ids_in(self, store: ProviderIds) -> None:
        """Keep the ids read and written in ``store`` (see ``authform.providers.ids``)."""
        self.ids = DeferredIds(store)

    # ---- connecting ------------------------------------------------------------------------

    async def _open(self, kinds: set[Kind], facts: DesiredFacts) -> Codec:
        if self._db is None:
            self._db = await asyncio.to_thread(connect, self._url)
        tables = {t for kind in kinds for t in TABLES.get(kind, ())}
        if Kind.USER in kinds:
            # Kept digests need the email plugin's table; in reset mode it is written when
            # present (so the plugin's reset flow finds a row) and not required (KavachOS
            # 0.2.1's plugin cannot create it on PostgreSQL).
            wants_passwords = not self.reset_passwords and facts.password_digests > 0
            has_table = await asyncio.to_thread(self._db.columns, schema.EMAIL_ACCOUNTS)
            if wants_passwords or has_table is not None:
                tables.add(schema.EMAIL_ACCOUNTS)
        self._codec = await asyncio.to_thread(inspect_database, self._db, tables)
        self._committer = GroupCommitter(self._db, sql.ORDER)
        return self._codec

    @property
    def codec(self) -> Codec:
        return _read_first(self._codec)

    async def aclose(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._facts is not None:
            self._facts.close()
            self._facts = None

    # ---- reading ---------------------------------------------------------------------------

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        read: list[Resource] = []
        async for item in self.read_stream(kinds, desired):
            if isinstance(item, LiveRows):
                read += item.resources()
            else:
                read.append(item)
        return read

    async def read_stream(
        self, kinds: Iterable[Kind], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource | LiveRows]:
        """The live rows of ``kinds``, a page at a time (users and memberships are never
        held whole, and come as pages of the index's own rows: ``LiveRows``). The database
        calls run in a worker thread, a page per call, so the engine writes each page to its
        index while the next is read.

        The read makes no cyclic garbage (rows of text, and tuples and mappings of them:
        none over a 100,000-user read), so it runs with the collector's first generation
        enlarged (``collected_rarely``): at the default, 1,300 collections walked every
        page as it aged, 0.3 s of that read's 2.8 s (CPU)."""
        with collected_rarely():
            async for item in self._read_pages(set(kinds), desired):
                yield item

    async def _read_pages(
        self, wanted: set[Kind], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource | LiveRows]:
        """``read_stream``'s pages."""
        facts = await self._gather(desired)
        self._roles_managed = Kind.ROLE in wanted
        codec = await self._open(wanted, facts)
        assert self._db is not None
        db, index = self._db, live.LiveIndex()
        self.index = index
        if wanted & {Kind.USER, Kind.MEMBERSHIP, Kind.ORGANIZATION}:
            # The users' ids are what writes of every one of these kinds need of the users
            # (a membership's user, an organization's owner), and the import's mapping: asked
            # of the database again when first needed. A plan reads them all and writes
            # nothing: remembering each user's id as it was read cost 0.25 s of 2.8 (CPU) of
            # a 100,000-user plan's read.
            self.ids.defer(Kind.USER, functools.partial(live.user_ids, db))
        if Kind.USER in wanted:
            async for block in _blocks(live.read_users(db, codec, facts.users)):
                yield block
        if wanted & {Kind.ORGANIZATION, Kind.ROLE, Kind.MEMBERSHIP}:
            organizations = live.read_organizations(db, codec, self.ids, index)
            async for resource in _pages(organizations):
                if Kind.ORGANIZATION in wanted:
                    yield resource
        if wanted & {Kind.ROLE, Kind.ORGANIZATION}:
            roles = await asyncio.to_thread(live.read_roles, db, codec, index, facts.roles)
            if Kind.ROLE in wanted:
                for resource in roles:
                    yield resource
        if Kind.MEMBERSHIP in wanted:
            async for block in _blocks(live.read_memberships(db, index)):
                yield block
        if Kind.PERMISSION in wanted:
            for resource in live.present_as_desired(
                Kind.PERMISSION,
                facts.permissions,
                "KavachOS has no permission table: the string lives in role rows",
            ):
                yield resource

    async def _gather(self, desired: Iterable[Resource]) -> DesiredFacts:
        """What reads, writes and caveats need of ``desired``, in one pass (see
        ``desired``); gathered again on every read, as the desired state may differ."""
        if self._facts is not None:
            self._facts.close()
        self._facts = await asyncio.to_thread(DesiredFacts.gather, desired)
        return self._facts

    @property
    def facts(self) -> DesiredFacts:
        return _read_first(self._facts)

    # ---- writing ---------------------------------------------------------------------------
    # Every write is first built into the rows it changes (``_build``: no I/O), then committed:
    # one at a time through the group committer (``create``/``update``/``delete``), or
    # thousands per transaction through ``write_batch``, the engine's bulk path.

    async def write_batch(self, batch: Sequence[Write]) -> list[ProviderError | None]:
        """Many writes in as few transactions as the rows allow (see ``writer``): a write
        whose rows cannot be built or committed fails alone, naming why.

        The engine hands over the next batch while this one commits; its rows are built
        meanwhile when they need nothing of what the batch before writes (``_stands_alone``),
        else once that batch has committed and its ids are learnt."""
        await self._ids_remembered()
        if not _stands_alone(batch) and self._last_commit is not None:
            await asyncio.wait([self._last_commit])  # its outcome is that batch's to tell
        stamped = writes.Stamped(self.codec, time.time())
        links = await self._links_of(batch)
        ends = self._membership_ends_of(batch)
        outcomes: list[ProviderError | None] = [None] * len(batch)
        built: list[tuple[int, Built]] = []
        for position, write in enumerate(batch):
            try:
                built.append((position, self._build(write, stamped, links, ends)))
            except ProviderError as exc:
                outcomes[position] = exc
        committer = self._require_committer()
        commit = asyncio.ensure_future(
            asyncio.to_thread(committer.commit, [b.change for _, b in built])
        )
        self._last_commit = commit
        errors = await commit
        self._learn(item for (_, item), error in zip(built, errors, strict=True) if error is None)
        for (position, _), error in zip(built, errors, strict=True):
            outcomes[position] = error
        return outcomes

    async def create(self, desired: Resource) -> Resource:
        return await self._write_one(Write("create", desired=desired))

    async def update(self, live_item: Resource, desired: Resource) -> Resource:
        return await self._write_one(Write("update", desired=desired, live=live_item))

    async def delete(self, live_item: Resource) -> None:
        await self._write_one(Write("delete", live=live_item))

    async def _write_one(self, write: Write) -> Resource:
        await self._ids_remembered()
        links = await self._links_of([write])
        stamped = writes.Stamped(self.codec, time.time())
        built = self._build(write, stamped, links, self._membership_ends_of([write]))
        if built.change.writes:
            await self._require_committer().submit(built.change)
        self._learn([built])
        return built.resource

    async def _ids_remembered(self) -> None:
        """The ids the read left to remember (``DeferredIds``), remembered before the first
        write asks for them, in a worker thread: 100,000 users' take 0.5 s, which the event
        loop would otherwise spend blocked."""
        if self.ids.deferred:
            await asyncio.to_thread(self.ids.remember_deferred)

    def _learn(self, committed: Iterable[Built]) -> None:
        """What committed writes taught: the ids of the users and organizations written (in
        one statement per kind), and the keys of those deleted, which no later write may
        target."""
        learnt: dict[Kind, list[tuple[str, str]]] = {}
        for item in committed:
            kind = item.subject.kind
            if kind not in (Kind.USER, Kind.ORGANIZATION):
                continue
            if item.deleted:
                self.ids[kind].pop(item.subject.key, None)
            elif item.provider_id is not None:
                learnt.setdefault(kind, []).append((item.subject.key, item.provider_id))
            if item.owner is not None:  # the organization's owner, written with it
                self._owners_written.add(item.owner[0])
                learnt.setdefault(Kind.USER, []).append(item.owner)
        for kind, pairs in learnt.items():
            self.ids.remember(kind, pairs)

    def _membership_ends_of(self, batch: Sequence[Write]) -> dict[Kind, dict[str, str]]:
        """The KavachOS ids of the users and organizations the memberships of ``batch``
        name, looked up in one statement per kind (see ``_membership_ends``)."""
        keys: dict[Kind, set[str]] = {Kind.USER: set(), Kind.ORGANIZATION: set()}
        for write in batch:
            desired = write.desired
            if desired is not None and desired.kind is Kind.MEMBERSHIP and write.action != "delete":
                keys[Kind.USER].add(desired.spec["user"])
                keys[Kind.ORGANIZATION].add(desired.spec["organization"])
        return {kind: self.ids.known(kind, sorted(wanted)) for kind, wanted in keys.items()}

    async def _links_of(self, batch: Sequence[Write]) -> dict[live.Pair, list[live.OAuthRow]]:
        """The rows of every OAuth link the users of ``batch`` name (an organization's owner
        is written with it), read once per batch rather than held for every user."""
        pairs: list[live.Pair] = []
        for write in batch:
            desired = write.desired
            if desired is None or write.action == "delete":
                continue
            if desired.kind is Kind.USER:
                pairs += writes.named_links(desired)
            elif desired.kind is Kind.ORGANIZATION and write.live is None:
                owner = self.facts.owner_of(desired.key)
                if owner is not None:
                    pairs += writes.named_links(owner)
        if not pairs:
            return {}
        db = self._require_db()
        return await asyncio.to_thread(live.oauth_rows, db, pairs)

    def _require_committer(self) -> GroupCommitter:
        return _read_first(self._committer)

    def _require_db(self) -> Database:
        return _read_first(self._db)

    def _build(
        self,
        write: Write,
        stamped: writes.Stamped,
        links: Mapping[live.Pair, Sequence[live.OAuthRow]],
        ends: Mapping[Kind, Mapping[str, str]],
    ) -> Built:
        if write.action == "delete":
            assert write.live is not None
            return Built(self._delete_change(write.live), write.live, deleted=True)
        desired = write.desired
        assert desired is not None
        change, index, kind = Change(), self.index, desired.kind
        # The kinds an import writes most of, first.
        if kind is Kind.MEMBERSHIP:  # an update sets the role in place on the row
            org_id, user_id = _membership_ends(desired, ends)
            member_id = writes.membership_writes(
                change, org_id, user_id, desired.spec["role"], stamped, index
            )
            return Built(change, desired, member_id)
        if kind is Kind.USER:
            if write.live is None and desired.key in self._owners_written:
                # Written whole earlier in this apply, with an organization it owns: the
                # same rows again would only be a second write of each.
                return Built(change, desired, desired.key)
            user_id = writes.user_writes(
                change, desired, write.live, stamped, links, reset_passwords=self.reset_passwords
            )
            return Built(change, desired, user_id)
        if kind is Kind.ORGANIZATION:
            if write.live is not None:
                org_id = writes.organization_update_writes(change, write.live, desired, stamped)
            else:
                owner_id, written = self._owner_writes(change, desired, stamped, links)
                roles = self.facts.role_permissions if self._roles_managed else {}
                org_id = writes.organization_writes(
                    change, desired, owner_id, roles, stamped, index
                )
                owner = None if written is None else (written, owner_id)
                return Built(change, desired, org_id, owner=owner)
            return Built(change, desired, org_id)
        if kind is Kind.PERMISSION:
            return Built(change, desired)  # nothing to store: the string is in role rows
        if kind is Kind.ROLE:  # role rows are upserts in every organization
            for org_id in live.managed_org_ids(self.ids):
                writes.role_row_writes(
                    change, org_id, desired.key, desired.spec["permissions"], stamped, index
                )
            return Built(change, desired)
        raise ProviderError(f"KavachOS: {kind.value} is kept in code, not the database")

    def _delete_change(self, live_item: Resource) -> Change:
        change = Change()
        if live_item.kind is Kind.ROLE:
            for org_id in live.managed_org_ids(self.ids):  # every row of it, whatever its id
                change.add(sql.DELETE_ROLE, [org_id, live_item.key])
        elif live_item.kind is Kind.ORGANIZATION:
            writes.organization_delete_writes(change, _require_id(live_item))
        elif live_item.kind is Kind.USER:
            writes.user_delete_writes(change, _require_id(live_item), self.codec)
        elif live_item.kind is Kind.MEMBERSHIP:
            change.add(sql.DELETE_MEMBER, [_require_id(live_item)])
        elif live_item.kind is not Kind.PERMISSION:
            raise ProviderError(f"KavachOS: {live_item.kind.value} is kept in code")
        return change

    def _owner_writes(
        self,
        change: Change,
        organization: Resource,
        stamped: writes.Stamped,
        links: Mapping[live.Pair, Sequence[live.OAuthRow]],
    ) -> tuple[str, str | None]:
        """The owner KavachOS requires, written first in the same transaction when the user
        is still to be created (users come after organizations in a plan). Its highest-ranked
        member (owner, then admin, then any; the first by key) owns it; with no member, a
        person must create it (authform will not make someone owner of a stranger's org).
        Returns the owner's KavachOS id, and its key when it was written here."""
        org_key = organization.key
        owner_key = self.facts.owners.get(org_key)
        if owner_key is None:
            raise NeedsPerson(
                f"KavachOS: organization {org_key} has no member to own it, and KavachOS "
                "requires an owner (kavach_organizations.owner_id); nothing was written for it",
                instructions.ownerless_organization_steps(
                    org_key,
                    organization.spec["name"],
                    writes.slug_for(org_key, organization.spec, self.index, org_key),
                ),
            )
        existing = self.ids[Kind.USER].get(owner_key)
        if existing is not None:
            return existing, None
        user = self.facts.owner_of(org_key)
        if user is None:
            raise ProviderError(f"KavachOS: the owner {owner_key} of {org_key} does not exist")
        written = writes.user_writes(
            change, user, None, stamped, links, reset_passwords=self.reset_passwords
        )
        return written, owner_key

    # ---- reporting -------------------------------------------------------------------------

    def id_mapping(self) -> dict[str, Mapping[str, str]]:
        return {
            "users": self.ids.keyed(Kind.USER),
            "organizations": self.ids.keyed(Kind.ORGANIZATION),
        }

    def manual_instructions(
        self, desired: Resource | None, live_item: Resource | None
    ) -> list[str]:
        return instructions.manual_instructions(desired, live_item)

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        """What the plan must say before any write, from the facts the read gathered of
        ``desired`` (gathered here when no read came first)."""
        facts = self._facts if self._facts is not None else DesiredFacts.gather(desired)
        native = self._codec is not None and any(
            encoding is schema.Encoding.DATETIME
            for columns in self._codec.encodings.values()
            for encoding in columns.values()
        )
        notes = instructions.plan_caveats(
            facts, reset_passwords=self.reset_passwords, postgres_native_types=native
        )
        # Looked up together: a lookup each was a statement each, 10,000 of them.
        org_ids = self.ids.known(Kind.ORGANIZATION, facts.organizations)
        unowned = [
            key for key in facts.organizations if key not in org_ids and key not in facts.owners
        ]
        if facts is not self._facts:
            facts.close()
        return notes + instructions.owner_caveat(unowned)

    async def authenticate(self, email: str, password: str) -> ProbeResult:
        if self._db is None:
            self._db = await asyncio.to_thread(connect, self._url)
        return await asyncio.to_thread(self._authenticate, email.lower(), password)

    def _authenticate(self, email: str, password: str) -> ProbeResult:
        assert self._db is not None
        users = self._db.fetch("SELECT id FROM kavach_users WHERE email = ?", (email,))
        if not users:
            return ProbeResult(False, f"no KavachOS user has the email {email}")
        if self._db.columns(schema.EMAIL_ACCOUNTS) is None:
            return check_canary(password, None, account_verified=False, has_account=False)
        rows = self._db.fetch(
            "SELECT password_hash, email_verified FROM kavach_email_accounts WHERE user_id = ?",
            (users[0][0],),
        )
        if not rows:
            return check_canary(password, None, account_verified=False, has_account=False)
        digest, verified = rows[0]
        return check_canary(
            password, str(digest), account_verified=Codec.bool_value(verified), has_account=True
        )


@dataclass
class Built:
    """One write as rows, and what the provider learns once they are committed (see
    ``KavachOSProvider._learn``)."""

    change: Change
    subject: Resource
    provider_id: str | None = None  # the KavachOS id it was written with
    deleted: bool = False  # it was removed: its key no longer names a KavachOS id
    # An organization's owner written whole with it: (user key, KavachOS id).
    owner: tuple[str, str] | None = None

    @property
    def resource(self) -> Resource:
        """The resource as written (with its KavachOS id when it has one)."""
        if self.provider_id is None:
            return self.subject
        return dataclasses.replace(self.subject, provider_id=self.provider_id)


def _stands_alone(batch: Sequence[Write]) -> bool:
    """Whether the rows of ``batch`` can be built while the batch before commits: they read
    nothing that batch writes. Memberships and users with no OAuth link qualify (their rows
    come from the desired item, the read and the ids of earlier phases); a user's links are
    checked against the links table, an organization may write its owner (known once
    committed), a role writes a row per organization."""
    for write in batch:
        item = write.desired if write.desired is not None else write.live
        if write.action == "delete" or item is None:
            return False
        if item.kind is Kind.USER:
            if item.spec.get("oauth_accounts"):
                return False
        elif item.kind is not Kind.MEMBERSHIP:
            return False
    return True


def _membership_ends(desired: Resource, ends: Mapping[Kind, Mapping[str, str]]) -> tuple[str, str]:
    """The KavachOS ids of a membership's organization and user (``ends``: what
    ``_membership_ends_of`` looked up for its batch)."""
    spec = desired.spec
    user_id = ends[Kind.USER].get(spec["user"])
    org_id = ends[Kind.ORGANIZATION].get(spec["organization"])
    if user_id is None or org_id is None:
        missing = "user" if user_id is None else "organization"
        raise ProviderError(
            f"KavachOS: {desired.address}: its {missing} does not exist in the database "
            "(its create failed or was not attempted)"
        )
    return org_id, user_id


async def _pages(rows: Iterator[Resource]) -> AsyncIterator[Resource]:
    """``rows`` drawn a page at a time in a worker thread, closed however the reading ends
    (a server-side cursor left open would hold the connection)."""
    try:
        while page := await asyncio.to_thread(lambda: list(islice(rows, PAGE))):
            for resource in page:
                yield resource
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


async def _blocks(pages: Iterator[LiveRows]) -> AsyncIterator[LiveRows]:
    """``pages`` drawn one at a time in a worker thread, closed however the reading ends
    (as ``_pages``)."""
    try:
        while (page := await asyncio.to_thread(next, pages, None)) is not None:
            yield page
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def _read_first(value: T | None) -> T:
    """What the read sets up (connection, codec, committer, desired facts): writes need it."""
    if value is None:
        raise ProviderError("KavachOS: the database was not read before writing")
    return value


def _require_id(resource: Resource) -> str:
    if not resource.provider_id:
        raise ProviderError(f"KavachOS: {resource.address} has no KavachOS id")
    return resource.provider_id
