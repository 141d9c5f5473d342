"""The steps every command shares: load the manifest, connect, read live state, plan.

The CLI maps outcomes to exit codes; this module holds no presentation and no exit codes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import (
    AbstractAsyncContextManager,
    asynccontextmanager,
    nullcontext,
)
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authform.emulated_tenant import emulator_state_file, start_embedded_emulator
from authform.engine.index import IndexedResources, StateIndex
from authform.engine.plan import Change, Plan, PlanOptions, Policy
from authform.engine.planner import plan_index
from authform.engine.selection import Selection, select_plan
from authform.engine.spool import dataclass_spool
from authform.engine.verify import Check, PasswordLogin, VerifyReport, compare_index
from authform.importing.build import ImportSet
from authform.importing.canaries import canary_digest_refusals
from authform.importing.reports import write_mapping, write_reenroll, write_skipped
from authform.importing.roles import missing_role_diagnostics
from authform.importing.source import load_import_set, summarize_import
from authform.manifest import LoadedManifest, desired_resources, load_manifest, managed_kinds
from authform.manifest.diagnostics import ManifestError
from authform.output_paths import check_output_file, check_output_folder
from authform.phase_times import phase
from authform.providers.base import Provider, ProviderError
from authform.providers.ids import IndexedIds
from authform.providers.rate_limit import RateLimit
from authform.providers.registry import Connection, build_provider
from authform.redaction import SECRETS
from authform.render.progress import ProgressReporter
from authform.resources import Kind
from authform.sources import SourceError
from authform.worker_threads import track_worker_threads, workers_stopped

if TYPE_CHECKING:  # importing authform.emulators loads every emulator: --emulate only
    from authform.emulators.dashboard import DashboardStep, EmulatedDashboard

DEFAULT_REPORTS_DIR = Path("authform-reports")


@dataclass
class Session:
    loaded: LoadedManifest
    provider: Provider
    # The desired state, kept in ``index`` (on disk) and read back kind by kind.
    desired: IndexedResources
    managed: set[Kind]
    environment: str | None
    # Under --emulate: the emulated tenant's dashboard, for `authform emulator dashboard`.
    dashboard: EmulatedDashboard | None = None
    import_set: ImportSet | None = None
    import_label: str = ""
    progress: ProgressReporter | None = None
    # How the command reached the target: the apply journal records which tenant it wrote
    # to (under --emulate, the manifest's own emulated tenant), and undo checks it.
    emulate: bool = False
    manifest_path: Path | None = None
    index: StateIndex | None = None

    @property
    def reports_dir(self) -> Path:
        users = self.loaded.manifest.users
        return Path(users.reports_dir) if users and users.reports_dir else DEFAULT_REPORTS_DIR

    @property
    def mapping_file(self) -> Path:
        users = self.loaded.manifest.users
        if users and users.mapping_file:
            return Path(users.mapping_file)
        return self.reports_dir / "id-mapping.json"

    @property
    def policy(self) -> Policy:
        policy = self.loaded.manifest.policy
        return Policy(
            allow_delete=policy.allow_delete,
            max_delete_percent=policy.max_delete_percent,
            max_update_percent=policy.max_update_percent,
            threshold_min_existing=policy.threshold_min_existing,
        )

    def locate(self, address: str) -> str:
        """Where the manifest declares the resource ``kind.key`` (``file:line:column``), or
        the manifest's path when it declares no such resource."""
        kind_name, _, key = address.partition(".")
        try:
            kind = Kind(kind_name)
        except ValueError:
            kind = None
        position = self.loaded.resource_position(kind, key) if kind is not None else None
        if position is not None:
            return str(position)
        return str(
            self.loaded.files[0].parent if len(self.loaded.files) > 1 else self.loaded.files[0]
        )

    def password_logins(self) -> list[PasswordLogin]:
        verify = self.loaded.manifest.verify
        if verify is None:
            return []
        self.loaded.require_resolved("verify")  # only verify needs the canary passwords
        return [
            PasswordLogin(login.email, login.password.get_secret_value())
            for login in verify.password_logins
        ]

    def waiting(self, step: str) -> AbstractAsyncContextManager[None]:
        """Around a long step with no counts: in CI a line every 10 s says it goes on."""
        return nullcontext() if self.progress is None else self.progress.waiting(step)

    @property
    def read_kinds(self) -> set[Kind]:
        """The managed kinds, plus roles when memberships are managed: the plan checks that
        every role a membership names exists or is planned (roles are read, not managed)."""
        kinds = set(self.managed)
        role_support = self.provider.capabilities.supports(Kind.ROLE)
        if Kind.MEMBERSHIP in kinds and role_support is not None and not role_support.manual:
            kinds.add(Kind.ROLE)
        return kinds

    async def read_live(self, kinds: set[Kind] | None = None) -> int:
        """Read the live state of ``kinds`` (by default ``read_kinds``) into the index, as the
        provider yields it when it can stream (``read_stream``), else as one list."""
        assert self.index is not None
        self.index.clear_live()
        kinds = self.read_kinds if kinds is None else kinds
        name = self.provider.capabilities.name
        async with self.waiting(f"reading the live state from {name}"):
            with phase("read live"):
                stream = getattr(self.provider, "read_stream", None)
                if stream is not None:
                    return await self.index.add_live_stream(stream(kinds, self.desired))
                # ``desired`` is iterated, never indexed, by every provider's read.
                live = await self.provider.read(kinds, self.desired)  # type: ignore[arg-type]
                return self.index.add_live(live)

    async def plan(
        self,
        *,
        force: bool = False,
        selection: Selection | None = None,
        fingerprint_live: bool = True,
    ) -> Plan:
        """The plan, narrowed to ``selection`` (``--target``/``--exclude``) when given; with
        the live state's fingerprint unless told it will not be saved (``fingerprint_live``)."""
        await self.read_live()
        assert self.index is not None
        with phase("diff"):
            plan = self._plan_index(force, fingerprint_live)
        if selection:
            plan = select_plan(
                plan,
                selection,
                itertools.chain(self.desired, self.index.live()),
                self.policy,
            )
        if plan.missing_roles:
            raise ManifestError(
                missing_role_diagnostics(
                    self.loaded,
                    plan.missing_roles,
                    self.import_set.role_uses if self.import_set else {},
                    self.provider.capabilities.name,
                )
            )
        if self.import_set is not None:
            plan.notes += summarize_import(self.import_set, self.import_label)
            plan.refusals += canary_digest_refusals(self.desired, self._canaries_set_here())
        plan.notes += self.provider.plan_caveats(self.desired)  # type: ignore[arg-type]
        return plan

    def _plan_index(self, force: bool, fingerprint_live: bool = True) -> Plan:
        assert self.index is not None
        options = self.plan_options(force=force, read=self.read_kinds)
        return plan_index(self.index, replace(options, fingerprint_live=fingerprint_live))

    def plan_options(
        self,
        *,
        force: bool = False,
        managed: set[Kind] | None = None,
        read: set[Kind] | None = None,
    ) -> PlanOptions:
        """The options this session plans with (its managed kinds unless told others)."""
        return PlanOptions(
            managed=self.managed if managed is None else managed,
            capabilities=self.provider.capabilities,
            policy=self.policy,
            manual_instructions=self.provider.manual_instructions,
            environment=self.environment,
            force=force,
            read=read,
        )

    async def verify(self) -> VerifyReport:
        """Read back every managed kind and check each desired item is there and equal (a
        keyed join in the index), then sign the canaries in."""
        assert self.index is not None
        logins = self.password_logins()  # an unset canary variable stops before any read
        await self.read_live(set(self.managed))
        with phase("compare"):
            checks = dataclass_spool(Check, "authform-checks-")
            report = VerifyReport(checks)  # type: ignore[arg-type]
            report.passed.update({kind.value: 0 for kind in self.managed})
            for check in compare_index(self.index, self.managed):
                checks.append(check)
                if check.ok:
                    report.passed[check.name.split(".", 1)[0]] += 1
        for login in logins:
            outcome = await self.provider.authenticate(login.email, login.password)
            report.checks.append(
                Check(f"password login {login.email}", outcome.ok, outcome.detail, kind="login")
            )
        return report

    def _canaries_set_here(self) -> list[tuple[str, str]]:
        """The canary logins whose password variable is set in this run (plan may run
        without them: only verify needs them)."""
        verify = self.loaded.manifest.verify
        if verify is None:
            return []
        unset = {
            path[2]
            for path, _ in self.loaded.unresolved
            if path[:2] == ("verify", "password_logins") and len(path) > 2
        }
        return [
            (login.email, login.password.get_secret_value())
            for index, login in enumerate(verify.password_logins)
            if index not in unset
        ]

    def import_count_checks(self, report: VerifyReport) -> list[Check]:
        """Counts after an import: what the source held, minus what was reported skipped,
        must all be present (the per-item checks say which one is not)."""
        if self.import_set is None:
            return []
        counts = self.import_set.counts
        rows = [
            ("users", Kind.USER, counts.users_total, counts.users_skipped),
            ("organizations", Kind.ORGANIZATION, counts.orgs_total, counts.orgs_skipped),
            ("memberships", Kind.MEMBERSHIP, counts.memberships_total, counts.memberships_skipped),
        ]
        checks = []
        for label, kind, total, skipped in rows:
            expected = total - skipped
            present = report.passed.get(kind.value)
            if present is None:
                present = sum(
                    1 for c in report.checks if c.ok and c.name.startswith(f"{kind.value}.")
                )
            checks.append(
                Check(
                    f"import {label}",
                    present >= expected,
                    f"{present} present; the source had {total}, {skipped} reported skipped, "
                    f"so {expected} expected",
                    kind="count",
                )
            )
        return checks

    def check_report_targets(self) -> None:
        """Before the first write: the import reports can be written where the manifest
        says (an apply that imported users and then could not write the id mapping would
        leave the team without it)."""
        if self.import_set is None:
            return
        check_output_folder(self.reports_dir, "users.reports_dir")
        check_output_file(self.mapping_file, "users.mapping_file", create_parents=True)
        for report in self.report_files[1:]:
            check_output_file(report, "users.reports_dir", create_parents=True)

    @property
    def report_files(self) -> list[Path]:
        """The id mapping, skipped and re-enroll files an import writes, in that order."""
        return [
            self.mapping_file,
            self.reports_dir / "skipped.csv",
            self.reports_dir / "reenroll.csv",
        ]

    def write_import_reports(self, failures: list[tuple[str, str, str]]) -> list[Path]:
        """The mapping, skipped and re-enroll files, after an apply (also a partial one)."""
        if self.import_set is None:
            return []
        mapping, skipped, reenroll = self.report_files
        write_mapping(mapping, self.provider.id_mapping(), self.provider.capabilities.name)
        write_skipped(skipped, self.import_set, failures)
        write_reenroll(reenroll, self.import_set)
        return [mapping, skipped, reenroll]


def desired_state(
    loaded: LoadedManifest, import_set: ImportSet | None, index: StateIndex | None = None
) -> tuple[IndexedResources, set[Kind]]:
    """The manifest's own resources (each with the position it is declared at) plus what its
    user source brings, written to ``index``.

    An organization key defined both in the manifest and by the source is an error: which
    of the two names and metadata should win is not authform's guess to make.
    """
    desired = desired_resources(loaded.manifest, loaded.source_map)
    managed = managed_kinds(loaded.manifest)
    index = StateIndex() if index is None else index  # kept alive by the view returned
    index.add_desired(desired)
    if import_set is None:
        return IndexedResources(index), managed
    declared = {r.key for r in desired if r.kind is Kind.ORGANIZATION}
    clashes = sorted(declared & {r.key for r in import_set.organizations})
    if clashes:
        raise ProviderError(
            "organizations defined both in the manifest and by the user source: "
            + ", ".join(clashes)
            + " (remove them from one of the two)"
        )
    if import_set.organizations:
        managed.add(Kind.ORGANIZATION)
    if import_set.index is not index:  # else the import wrote them there as it read them
        index.add_desired(import_set.resources)
    return IndexedResources(index), managed


async def _read_user_source(
    loaded: LoadedManifest, progress: ProgressReporter, index: StateIndex
) -> tuple[ImportSet | None, str]:
    """The manifest's user source read and judged whole (written to ``index``), before
    connecting: a conflict or unreadable file stops here, before any request. With the
    label ``plan`` prints it under."""
    users = loaded.manifest.users
    if users is None:
        return None, ""
    try:
        # In a worker thread: the live Clerk source drives its own event loop.
        async with progress.waiting(f"reading the user source ({users.source.kind})"):
            with phase("parse"):
                import_set = await asyncio.to_thread(
                    load_import_set, users, loaded.manifest.target.provider, index
                )
    except SourceError as exc:
        raise ProviderError(f"user source: {exc}") from None
    source = users.source
    return import_set, f"{source.kind} {getattr(source, 'path', '') or ''}".strip()


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


@asynccontextmanager
async def open_session(
    manifest_path: str | Path, *, emulate: bool = False, environment: str | None = None
) -> AsyncIterator[Session]:
    """Load and validate the manifest (no network before it is valid), then connect."""
    loaded = load_manifest(manifest_path, emulate=emulate, environment=environment)
    loaded.require_resolved("users")  # a clerk-api source reads Clerk with its key
    manifest = loaded.manifest
    target = manifest.target
    # Every secret the manifest and environment supplied is redacted from every output.
    SECRETS.add_model(manifest)
    SECRETS.add_environment()
    progress = ProgressReporter(sys.stderr, tty=sys.stderr.isatty())
    workers = track_worker_threads()
    index = StateIndex()

    def open_connections() -> list[sqlite3.Connection]:
        return [] if index.closed else [index.db]

    try:
        import_set, import_label = await _read_user_source(loaded, progress, index)
        with phase("index desired"):
            desired, managed = desired_state(loaded, import_set, index)
    except BaseException:
        # Ctrl-C during the parse: the parse thread goes on writing to the index until told.
        await workers_stopped(workers, open_connections)
        index.close()
        raise
    emulator = None
    dashboard: EmulatedDashboard | None = None
    tuning: dict[str, Any] = {
        "max_concurrency": target.max_concurrency,
        "rate_limits": {
            name: RateLimit(limit.requests, limit.per_seconds)
            for name, limit in target.rate_limits.items()
        },
    }
    # The provider's own settings (KavachOS's database, a plug-in's fields), as its model read them.
    options = target.provider_settings()
    database: dict[str, Any] = {
        "database_url": _secret(options.pop("database_url", None)),
        "options": options,
    }
    if emulate and target.provider == "kavachos":
        # A database target needs no server: the emulator is a SQLite file with its tables.
        from authform.providers.kavachos.emulate import emulated_database_url

        state = emulator_state_file(manifest_path, target.provider, environment)
        database["database_url"] = await asyncio.to_thread(emulated_database_url, state)
        print(f"Using an emulated KavachOS database ({state}).", file=sys.stderr)
        connection = Connection(target.provider, None, None, None, **tuning, **database)
    elif emulate:
        emulator = await asyncio.to_thread(
            start_embedded_emulator, manifest_path, target.provider, environment
        )
        print(
            f"Using the embedded {target.provider} emulator at {emulator.url} "
            f"(state in {emulator_state_file(manifest_path, target.provider, environment)}).",
            file=sys.stderr,
        )
        connection = Connection(
            target.provider,
            emulator.api_key,
            emulator.client_id,
            emulator.url,
            **tuning,
            **database,
        )
        dashboard = emulator.dashboard
    else:
        connection = Connection(
            target.provider,
            _secret(target.api_key),
            target.client_id,
            str(target.base_url) if target.base_url else None,
            **tuning,
            **database,
        )
    provider = build_provider(connection)
    remember_ids_in = getattr(provider, "remember_ids_in", None)
    if remember_ids_in is not None:  # the provider's read-to-write ids live on disk too
        remember_ids_in(IndexedIds(index.db))
    try:
        yield Session(
            loaded=loaded,
            provider=provider,
            desired=desired,
            managed=managed,
            environment=environment,
            dashboard=dashboard,
            import_set=import_set,
            import_label=import_label,
            progress=progress,
            emulate=emulate,
            manifest_path=Path(manifest_path),
            index=index,
        )
    except ProviderError as exc:
        if exc.status != 401 or emulate:
            raise
        raise exc.reworded(f"{exc}{unauthorized_hint(loaded)}") from None
    finally:
        # A worker may still be reading or writing through the index or the provider's
        # database (Ctrl-C, an error in another task): closing under it crashes SQLite.
        await workers_stopped(workers, open_connections)
        index.close()
        await provider.aclose()
        if emulator is not None:
            await asyncio.to_thread(emulator.stop)


def unauthorized_hint(loaded: LoadedManifest) -> str:
    """What to check when the provider refused the API key: which variable the key came
    from (found by value, since interpolation keeps no record of it) and where the manifest
    reads it."""
    target = loaded.manifest.target
    key = _secret(target.api_key)
    where = loaded.position("target", "api_key")
    place = f" ({where.file}:{where.line})" if where else ""
    names = sorted(name for name, value in os.environ.items() if key and value == key)
    if names:
        source = "$" + " / $".join(names)
        return (
            f". The API key was refused: check {source}, which target.api_key{place} reads; "
            f"is it the {target.provider} key of this environment"
            + (f" ({loaded.environment})" if loaded.environment else "")
            + "?"
        )
    return f". The API key was refused: check target.api_key{place}."


def dashboard_step(change: Change) -> DashboardStep:
    """The dashboard action a manual change asks a person for."""
    from authform.emulators.dashboard import DashboardStep

    client_id = None
    if change.desired is not None and change.kind is Kind.SOCIAL_CONNECTION:
        client_id = change.desired.spec.get("client_id")
    return DashboardStep(change.kind.value, change.key, change.desired is not None, client_id)
