"""KavachOS 0.2.1 as a target: authform writes the database KavachOS reads.

KavachOS is a library with no admin API, so the "API" here is its tables (see ``schema``).
There is no rate limit: writes are batched into transactions by group commit (``writer``),
blocking database calls run in a worker thread so the engine's workers keep handing in
changes, and a rerun or a concurrent apply converges because every row has a natural id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from authform.providers.base import (
    KindSupport,
    NeedsPerson,
    ProbeResult,
    ProviderCapabilities,
    ProviderError,
    Write,
)
from authform.providers.kavachos import instructions, live, schema, writes
from authform.providers.kavachos import statements as sql
from authform.providers.kavachos.canary import check_canary
from authform.providers.kavachos.codec import Codec, inspect_database
from authform.providers.kavachos.database import Database, connect
from authform.providers.kavachos.writer import Change, GroupCommitter
from authform.resources import Kind, Resource, is_unkeyed

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

# Which tables each managed kind reads or writes.
TABLES: dict[Kind, tuple[str, ...]] = {
    Kind.ROLE: (schema.ORGANIZATIONS, schema.ORG_ROLES),
    Kind.ORGANIZATION: (schema.USERS, schema.ORGANIZATIONS, schema.ORG_ROLES),
    Kind.USER: (schema.USERS, schema.OAUTH_ACCOUNTS),
    Kind.MEMBERSHIP: (schema.USERS, schema.ORGANIZATIONS, schema.ORG_MEMBERS),
}
ROLE_PRIORITY = {"owner": 0, "admin": 1}


class KavachOSProvider:
    capabilities = CAPABILITIES

    def __init__(self, *, database_url: str, legacy_passwords: str = "keep") -> None:
        self._url = database_url
        self.reset_passwords = legacy_passwords == "reset"
        self._db: Database | None = None
        self._codec: Codec | None = None
        self._committer: GroupCommitter | None = None
        self.index = live.LiveIndex()
        self._desired_users: dict[str, Resource] = {}
        self._desired_role_items: dict[str, Resource] = {}
        self._desired_roles: dict[str, list[str]] = {}
        self._roles_managed = False
        self._owners: dict[str, str] = {}  # organization key → user key of its owner

    # ---- connecting ------------------------------------------------------------------------

    async def _open(self, kinds: set[Kind], desired: Sequence[Resource]) -> Codec:
        if self._db is None:
            self._db = await asyncio.to_thread(connect, self._url)
        tables = {t for kind in kinds for t in TABLES.get(kind, ())}
        if Kind.USER in kinds:
            # Kept digests need the email plugin's table; in reset mode it is written when
            # present (so the plugin's reset flow finds a row) and not required (KavachOS
            # 0.2.1's plugin cannot create it on PostgreSQL).
            wants_passwords = not self.reset_passwords and any(
                r.kind is Kind.USER and r.create_only.get("password_hash") for r in desired
            )
            has_table = await asyncio.to_thread(self._db.columns, schema.EMAIL_ACCOUNTS)
            if wants_passwords or has_table is not None:
                tables.add(schema.EMAIL_ACCOUNTS)
        self._codec = await asyncio.to_thread(inspect_database, self._db, tables)
        self._committer = GroupCommitter(self._db, sql.ORDER)
        return self._codec

    @property
    def codec(self) -> Codec:
        if self._codec is None:
            raise ProviderError("KavachOS: the database was not read before writing")
        return self._codec

    async def aclose(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ---- reading ---------------------------------------------------------------------------

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        wanted = set(kinds)
        codec = await self._open(wanted, desired)
        self._remember(wanted, desired)
        return await asyncio.to_thread(self._read, wanted, desired, codec)

    def _remember(self, kinds: set[Kind], desired: Sequence[Resource]) -> None:
        """What writes need of the desired state, in one pass over it: users by key (an
        organization's owner may be written before its user's turn), role rows, and each
        organization's owner (its highest-ranked member)."""
        self._desired_users, self._desired_role_items = {}, {}
        self._roles_managed = Kind.ROLE in kinds
        candidates: dict[str, tuple[int, str]] = {}
        for r in desired:
            if r.kind is Kind.USER:
                self._desired_users[r.key] = r
            elif r.kind is Kind.MEMBERSHIP:
                rank = (ROLE_PRIORITY.get(r.spec["role"], 2), r.spec["user"])
                org = r.spec["organization"]
                if org not in candidates or rank < candidates[org]:
                    candidates[org] = rank
            elif r.kind is Kind.ROLE:
                self._desired_role_items[r.key] = r
        self._desired_roles = {
            key: list(r.spec["permissions"]) for key, r in self._desired_role_items.items()
        }
        self._owners = {org: user for org, (_, user) in candidates.items()}

    def _read(self, kinds: set[Kind], desired: Sequence[Resource], codec: Codec) -> list[Resource]:
        assert self._db is not None
        db, index = self._db, live.LiveIndex()
        self.index = index
        result: list[Resource] = []
        if kinds & {Kind.USER, Kind.MEMBERSHIP, Kind.ORGANIZATION}:
            users = live.read_users(db, codec, index, self._desired_users)
            if Kind.USER in kinds:
                result += users
        if kinds & {Kind.ORGANIZATION, Kind.ROLE, Kind.MEMBERSHIP}:
            organizations = live.read_organizations(db, codec, index)
            if Kind.ORGANIZATION in kinds:
                result += organizations
        if kinds & {Kind.ROLE, Kind.ORGANIZATION}:
            roles = live.read_roles(db, codec, index, self._desired_role_items)
            if Kind.ROLE in kinds:
                result += roles
        if Kind.MEMBERSHIP in kinds:
            result += live.read_memberships(db, index)
        if Kind.PERMISSION in kinds:
            result += live.present_as_desired(
                Kind.PERMISSION,
                desired,
                "KavachOS has no permission table: the string lives in role rows",
            )
        return result

    # ---- writing ---------------------------------------------------------------------------
    # Every write is first built into the rows it changes (``_build``: no I/O), then committed:
    # one at a time through the group committer (``create``/``update``/``delete``), or
    # thousands per transaction through ``write_batch``, the engine's bulk path.

    async def write_batch(self, batch: Sequence[Write]) -> list[ProviderError | None]:
        """Many writes in as few transactions as the rows allow (see ``writer``): a write
        whose rows cannot be built or committed fails alone, naming why."""
        now = time.time()
        outcomes: list[ProviderError | None] = [None] * len(batch)
        built: list[tuple[int, Built]] = []
        for position, write in enumerate(batch):
            try:
                built.append((position, self._build(write, now)))
            except ProviderError as exc:
                outcomes[position] = exc
        committer = self._require_committer()
        errors = await asyncio.to_thread(committer.commit, [b.change for _, b in built])
        for (position, item), error in zip(built, errors, strict=True):
            if error is None:
                item.learn()
            outcomes[position] = error
        return outcomes

    async def create(self, desired: Resource) -> Resource:
        return await self._write_one(Write("create", desired=desired))

    async def update(self, live_item: Resource, desired: Resource) -> Resource:
        return await self._write_one(Write("update", desired=desired, live=live_item))

    async def delete(self, live_item: Resource) -> None:
        await self._write_one(Write("delete", live=live_item))

    async def _write_one(self, write: Write) -> Resource:
        built = self._build(write, time.time())
        if built.change.writes:
            await self._require_committer().submit(built.change)
        built.learn()
        return built.resource

    def _require_committer(self) -> GroupCommitter:
        if self._committer is None:
            raise ProviderError("KavachOS: the database was not read before writing")
        return self._committer

    def _build(self, write: Write, now: float) -> Built:
        if write.action == "delete":
            assert write.live is not None
            return Built(self._delete_change(write.live), write.live)
        desired = write.desired
        assert desired is not None
        change, codec, index = Change(), self.codec, self.index
        if desired.kind is Kind.PERMISSION:
            return Built(change, desired)  # nothing to store: the string is in role rows
        if desired.kind is Kind.ROLE:  # role rows are upserts in every organization
            for org_id in live.managed_org_ids(index):
                writes.role_row_writes(
                    change, org_id, desired.key, desired.spec["permissions"], codec, index
                )
            return Built(change, desired)
        if desired.kind is Kind.ORGANIZATION:
            if write.live is not None:
                org_id = writes.organization_update_writes(change, write.live, desired, codec, now)
            else:
                owner_id = self._owner_writes(change, desired, now)
                roles = self._desired_roles if self._roles_managed else {}
                org_id = writes.organization_writes(
                    change, desired, owner_id, roles, codec, index, now
                )
            return Built(change, desired, org_id, ids=index.org_ids)
        if desired.kind is Kind.USER:
            user_id = writes.user_writes(
                change,
                desired,
                write.live,
                codec,
                index,
                now,
                reset_passwords=self.reset_passwords,
            )
            return Built(change, desired, user_id, ids=index.user_ids)
        if desired.kind is Kind.MEMBERSHIP:  # an update sets the role in place on the row
            org_id, user_id = self._membership_ends(desired)
            member_id = writes.membership_writes(
                change, org_id, user_id, desired.spec["role"], codec, index, now
            )
            return Built(change, desired, member_id)
        raise ProviderError(f"KavachOS: {desired.kind.value} is kept in code, not the database")

    def _delete_change(self, live_item: Resource) -> Change:
        change = Change()
        if live_item.kind is Kind.ROLE:
            managed = live.managed_org_ids(self.index)
            for (org_id, name), row_id in self.index.role_rows.items():
                if name == live_item.key and org_id in managed:
                    change.add(sql.DELETE_ROLE, [row_id])
        elif live_item.kind is Kind.ORGANIZATION:
            writes.organization_delete_writes(change, _require_id(live_item))
        elif live_item.kind is Kind.USER:
            writes.user_delete_writes(change, _require_id(live_item), self.codec)
        elif live_item.kind is Kind.MEMBERSHIP:
            change.add(sql.DELETE_MEMBER, [_require_id(live_item)])
        elif live_item.kind is not Kind.PERMISSION:
            raise ProviderError(f"KavachOS: {live_item.kind.value} is kept in code")
        return change

    def _owner_writes(self, change: Change, organization: Resource, now: float) -> str:
        """The owner KavachOS requires, written first in the same transaction when the user
        is still to be created (users come after organizations in a plan). Its highest-ranked
        member (owner, then admin, then any; the first by key) owns it; with no member, a
        person must create it (authform will not make someone owner of a stranger's org)."""
        org_key = organization.key
        owner_key = self._owners.get(org_key)
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
        existing = self.index.user_ids.get(owner_key)
        if existing is not None:
            return existing
        user = self._desired_users.get(owner_key)
        if user is None:
            raise ProviderError(f"KavachOS: the owner {owner_key} of {org_key} does not exist")
        return writes.user_writes(
            change, user, None, self.codec, self.index, now, reset_passwords=self.reset_passwords
        )

    def _membership_ends(self, desired: Resource) -> tuple[str, str]:
        spec = desired.spec
        user_id = self.index.user_ids.get(spec["user"])
        org_id = self.index.org_ids.get(spec["organization"])
        if user_id is None or org_id is None:
            missing = "user" if user_id is None else "organization"
            raise ProviderError(
                f"KavachOS: {desired.address}: its {missing} does not exist in the database "
                "(its create failed or was not attempted)"
            )
        return org_id, user_id

    # ---- reporting -------------------------------------------------------------------------

    def id_mapping(self) -> dict[str, dict[str, str]]:
        return {
            "users": {k: v for k, v in sorted(self.index.user_ids.items()) if not is_unkeyed(k)},
            "organizations": {
                k: v for k, v in sorted(self.index.org_ids.items()) if not is_unkeyed(k)
            },
        }

    def manual_instructions(
        self, desired: Resource | None, live_item: Resource | None
    ) -> list[str]:
        return instructions.manual_instructions(desired, live_item)

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        native = self._codec is not None and any(
            encoding is schema.Encoding.DATETIME
            for columns in self._codec.encodings.values()
            for encoding in columns.values()
        )
        notes = instructions.plan_caveats(
            desired, reset_passwords=self.reset_passwords, postgres_native_types=native
        )
        organizations = [r.key for r in desired if r.kind is Kind.ORGANIZATION]
        unowned = [
            key
            for key in organizations
            if key not in self.index.org_ids and key not in self._owners
        ]
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
    """One write as rows, and what the live index learns once they are committed."""

    change: Change
    subject: Resource
    provider_id: str | None = None
    ids: dict[str, str] | None = None  # the LiveIndex map that learns subject key → id

    @property
    def resource(self) -> Resource:
        """The resource as written (with its KavachOS id when it has one)."""
        if self.provider_id is None:
            return self.subject
        return dataclasses.replace(self.subject, provider_id=self.provider_id)

    def learn(self) -> None:
        if self.ids is not None and self.provider_id is not None:
            self.ids[self.subject.key] = self.provider_id


def _require_id(resource: Resource) -> str:
    if not resource.provider_id:
        raise ProviderError(f"KavachOS: {resource.address} has no KavachOS id")
    return resource.provider_id
