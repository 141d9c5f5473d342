"""Prove the provider holds what the manifest says, by reading it back.

Every desired resource must be present and equal; manual kinds (dashboard-only settings) are
checked by the provider's probe, which is part of its read; password canaries must sign in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from authform.engine.plan import field_changes
from authform.providers.base import Provider
from authform.resources import Kind, Resource

if TYPE_CHECKING:
    from authform.engine.index import StateIndex


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    kind: str = "resource"


# Where ``ok`` sits among a check's fields, as ``spool.dataclass_spool`` stores them.
_OK_FIELD = [f.name for f in fields(Check)].index("ok")


@dataclass
class VerifyReport:
    # A list, or a spool on disk (``Session.verify``: a million users are a million checks).
    checks: list[Check] = field(default_factory=list)
    # Passing resource checks per kind, when counted as they were made.
    passed: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        states = getattr(self.checks, "states", None)
        if states is not None:  # a spool of the checks' fields: read without building them
            return all(state[_OK_FIELD] for state in states())
        return all(c.ok for c in self.checks)


@dataclass(frozen=True)
class PasswordLogin:
    email: str
    password: str  # plain text only in memory; never rendered


def compare_resources(desired: Sequence[Resource], live: Sequence[Resource]) -> list[Check]:
    live_by_address = {r.address: r for r in live}
    checks = []
    for item in desired:
        current = live_by_address.get(item.address)
        if current is None:
            checks.append(Check(item.address, False, "missing"))
            continue
        differences = field_changes(current.spec, item.spec)
        if differences:
            names = ", ".join(f.path for f in differences)
            checks.append(Check(item.address, False, f"differs in {names}"))
        else:
            probe = current.observed.get("probe")
            checks.append(Check(item.address, True, str(probe) if probe else "present and equal"))
    return checks


def compare_index(index: StateIndex, kinds: Iterable[Kind]) -> Iterator[Check]:
    """``compare_resources`` over the on-disk index, in desired order: a pair whose canonical
    specs are equal passes without leaving SQLite (its live item is read only for a probe
    detail); only missing and differing pairs are read back whole."""
    for pair in index.verify_pairs(kinds):
        if not pair.found:
            yield Check(pair.address, False, "missing")
            continue
        if pair.desired is not None and pair.live is not None:
            differences = field_changes(pair.live.spec, pair.desired.spec)
            if differences:
                names = ", ".join(f.path for f in differences)
                yield Check(pair.address, False, f"differs in {names}")
                continue
        yield Check(pair.address, True, str(pair.probe) if pair.probe else "present and equal")


async def verify_state(
    desired: Sequence[Resource],
    managed: Iterable[Kind],
    provider: Provider,
    *,
    password_logins: Sequence[PasswordLogin] = (),
) -> VerifyReport:
    kinds = set(managed)
    wanted = [r for r in desired if r.kind in kinds]
    live = await provider.read(kinds, wanted)
    report = VerifyReport(compare_resources(wanted, live))
    for login in password_logins:
        outcome = await provider.authenticate(login.email, login.password)
        report.checks.append(
            Check(f"password login {login.email}", outcome.ok, outcome.detail, kind="login")
        )
    return report
