"""Judging a saved plan at apply time: apply exactly what was reviewed, or nothing.

Three steps, each before what depends on it. The command's flags against how the plan was
made (before the manifest is loaded). The seal against the file (before any request): an
edited part is named, and a plan that would widen what apply may do cannot be re-sealed
without the target's API key. Then the fingerprints of the fresh plan against the saved
ones: each part that moved is named (the manifest, a variable it reads, the source data, the
live state, or another manifest altogether), so the operator knows what to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from authform.engine.plan import Plan
from authform.saved_plan.change_join import Moved, entry_digest, moved_addresses
from authform.saved_plan.document import SavedPlan, SavedPlanError
from authform.saved_plan.evidence import (
    MadeWith,
    fingerprints,
    seal_credential,
    sealed_change_lines,
)
from authform.saved_plan.seal import Sealer, canonical, same_tag
from authform.workflow import Session

_MAX_NAMED = 5
NOTHING_MOVED = Moved([], 0)


def settings_for_apply(
    saved: SavedPlan,
    *,
    emulate: bool,
    environment: str | None,
    force: bool,
    selection: Mapping[str, list[str]] | None = None,
) -> MadeWith:
    """How apply runs a saved plan: as it was made. A flag may repeat what the plan was made
    with; one that contradicts it (or widens it, like --force) is refused."""
    made = saved.made_with
    path = saved.path
    if selection and selection != made.selection:
        made_for = (
            f"for {_flags(made.selection)}" if made.selection else "without --target/--exclude"
        )
        raise SavedPlanError(
            f"{path} was made {made_for}, not {_flags(selection)}: it applies the selection "
            "it was reviewed with; nothing was applied"
        )
    if environment is not None and environment != made.environment:
        made_for = (
            "without an environment"
            if made.environment is None
            else f"for environment {made.environment!r}"
        )
        raise SavedPlanError(
            f"{path} was made {made_for}, not for {environment!r}; nothing was applied"
        )
    if emulate and not made.emulate:
        raise SavedPlanError(
            f"flag --emulate differs: {path} was made against the provider's API, without "
            "--emulate; nothing was applied"
        )
    if force and not made.force:
        raise SavedPlanError(
            f"flag --force differs: {path} was made without --force, so its safety thresholds "
            f"held when it was reviewed; make it again with "
            f"`{made.remake_command(path, force=True)}` and review it; nothing was applied"
        )
    if not Path(made.manifest).exists():
        raise SavedPlanError(
            f"{path} was made from the manifest at {made.manifest} ({made.manifest_dir}), "
            f"which is not there from {Path.cwd()}: run apply where the plan was made; "
            "nothing was applied"
        )
    return made


def _flags(selection: Mapping[str, list[str]]) -> str:
    return " ".join(
        [f"--target {t}" for t in selection.get("target", [])]
        + [f"--exclude {e}" for e in selection.get("exclude", [])]
    )


@dataclass(frozen=True)
class SealVerdict:
    """The seal verified for every part but perhaps the change list, which is located
    against the fresh plan (only it can say which entry was edited)."""

    sealer: Sealer
    made_with: MadeWith
    changes_edited: bool


def verify_seal(saved: SavedPlan, session: Session) -> SealVerdict:
    """Offline: refuse an edited plan before any request is made."""
    made = saved.made_with
    sealer = Sealer(saved.salt, seal_credential(session, emulate=made.emulate))
    if not same_tag(saved.key_check, sealer.key_check):
        raise SavedPlanError(
            _refusal(
                saved,
                [
                    "its seal does not verify with the target's API key: target.api_key "
                    "changed since the plan was made, or the file was not sealed by authform"
                ],
            )
        )
    edited = saved.edited_parts(sealer)
    if [part for part in edited if part != "changes"]:
        named = ", ".join("changes[]" if part == "changes" else part for part in edited)
        raise SavedPlanError(_refusal(saved, [f"the plan file was edited: {named}"]))
    return SealVerdict(sealer, made, "changes" in edited)


def check_saved_plan(saved: SavedPlan, verdict: SealVerdict, fresh: Plan, session: Session) -> None:
    """Refuse unless the fresh plan is exactly the saved one, naming every part that moved.

    The saved changes are read from the file one line at a time, beside the fresh plan's,
    so neither list is held whole."""
    sealer = verdict.sealer
    now = fingerprints(fresh, session, verdict.made_with, sealer)
    then = saved.fingerprints
    if _from_another_manifest(saved, then, now):
        raise SavedPlanError(_another_manifest(saved, now))
    reasons: list[str] = []
    if then["target"] != now["target"]:
        reasons.append(
            "the target changed since this plan was made (provider, base_url or client_id)"
        )
    manifest = _manifest_moved(then["manifest"], now["manifest"])
    if manifest:
        reasons.append(manifest)
    source = _source_moved(then["source"], now["source"], saved, fresh, sealer)
    if source:
        reasons.append(source)
    if then["live"] != now["live"]:
        moved = NOTHING_MOVED if reasons else _moved_changes(saved, fresh, sealer)
        reasons.append(f"the live state changed since this plan was made{_named(moved)}")
    compared = _compare_changes(saved, fresh, sealer)
    if verdict.changes_edited:
        reasons.append(f"the plan file was edited: {compared.first_difference}")
    elif not same_tag(compared.saved_tag, saved.trailer["seal"]["parts"]["changes"]):
        # The seal held when it was checked: the file was replaced while apply read it.
        reasons.append(f"the plan file was edited while apply read it: {compared.first_difference}")
    elif not reasons and compared.differ:
        reasons.append(f"the changes differ from the reviewed ones: {compared.first_difference}")
    if reasons:
        raise SavedPlanError(_refusal(saved, reasons))


@dataclass(frozen=True)
class _Comparison:
    """The saved change lines against the fresh ones, in one pass over both."""

    differ: bool
    first_difference: str
    saved_tag: str  # the saved lines' tag as this pass read them


def _compare_changes(saved: SavedPlan, fresh: Plan, sealer: Sealer) -> _Comparison:
    """The first entry of the saved change list that is not the planned one. The lines are
    compared as written: both sides are the canonical form of their entry."""
    stream = sealer.stream("part\x00changes")
    first: str | None = None
    counts = [0, 0]
    pairs = zip_longest(saved.change_lines(), sealed_change_lines(fresh, sealer))
    for index, (saved_line, fresh_line) in enumerate(pairs):
        if saved_line is not None:
            stream.add_line(saved_line)
            counts[0] += 1
        if fresh_line is not None:
            counts[1] += 1
        if first is None and None not in (saved_line, fresh_line) and saved_line != fresh_line:
            address = json.loads(fresh_line or b"{}")["address"]
            first = f"changes[{index}] (the plan has {address} there)"
    differ = first is not None or counts[0] != counts[1]
    if first is None and counts[0] != counts[1]:
        first = (
            f"changes[{min(counts)}] (the file lists {counts[0]} changes, the plan has {counts[1]})"
        )
    return _Comparison(
        differ, first or "changes[] (its seal does not match its entries)", stream.tag()
    )


def _refusal(saved: SavedPlan, reasons: Sequence[str]) -> str:
    return (
        f"cannot apply {saved.path}: {'; '.join(reasons)}. Nothing was applied; make the plan "
        f"again with `{saved.made_with.remake_command(saved.path)}` and review it"
    )


def _from_another_manifest(saved: SavedPlan, then: dict[str, Any], now: dict[str, Any]) -> bool:
    """Another folder whose files are not the ones the plan was made from. The same files in
    a moved checkout are the same manifest; other files in the same folder are an edit."""
    here = str(Path(saved.made_with.manifest).resolve())
    moved = here != saved.made_with.manifest_dir
    return moved and then["manifest"]["files"] != now["manifest"]["files"]


def _another_manifest(saved: SavedPlan, now: dict[str, Any]) -> str:
    made = saved.made_with
    then_files = ", ".join(sorted(saved.fingerprints["manifest"]["files"]))
    now_files = ", ".join(sorted(now["manifest"]["files"]))
    here = Path(made.manifest).resolve()
    return (
        f"cannot apply {saved.path}: it was made from another manifest ({made.manifest_dir}: "
        f"{then_files}, for {saved.document['provider']}), not the one at {here} "
        f"({now_files}). Nothing was applied; make a plan from this manifest with "
        f"`{made.remake_command(saved.path)}` and review it"
    )


def _manifest_moved(then: dict[str, Any], now: dict[str, Any]) -> str | None:
    before, after = then["files"], now["files"]
    files = [name for name in sorted(set(before) & set(after)) if before[name] != after[name]]
    files += [f"added {name}" for name in sorted(set(after) - set(before))]
    files += [f"removed {name}" for name in sorted(set(before) - set(after))]
    if files:
        return f"the manifest changed since this plan was made ({', '.join(files)})"
    sections = [
        name
        for name in sorted(set(then["sections"]) | set(now["sections"]))
        if then["sections"].get(name) != now["sections"].get(name)
    ]
    if sections:
        return (
            "a variable the manifest reads changed since this plan was made (section "
            f"{', '.join(sections)})"
        )
    return None


def _source_moved(
    then: dict[str, Any] | None,
    now: dict[str, Any] | None,
    saved: SavedPlan,
    fresh: Plan,
    sealer: Sealer,
) -> str | None:
    if then is None or now is None:
        return None if then is now else "the user source changed since this plan was made"
    details = []
    if then["records"] != now["records"]:
        details.append("records")
    if then["password_digests"] != now["password_digests"]:
        swapped = _secrets_moved(saved, fresh, sealer)
        if swapped.total:
            plural = "s" if swapped.total != 1 else ""
            details.append(f"{swapped.total} password digest{plural}{_named(swapped)}")
        else:
            details.append("password digests")
    if not details:
        return None
    where = f"{then['label']}: {', '.join(details)}"
    return f"the source data changed since this plan was made ({where})"


def _entries(lines: Iterable[bytes], part: str | None) -> Iterator[tuple[str, bytes]]:
    """(address, digest) of each change line: of the whole line, or of one of its parts."""
    for line in lines:
        entry = json.loads(line)
        content = line if part is None else canonical(entry.get(part))
        yield entry["address"], entry_digest(content)


def _secrets_moved(saved: SavedPlan, fresh: Plan, sealer: Sealer) -> Moved:
    """Addresses in both lists whose write-once secrets (a password digest) differ."""
    return moved_addresses(
        _entries(saved.change_lines(), "secrets"),
        _entries(sealed_change_lines(fresh, sealer), "secrets"),
        shared_only=True,
        first=_MAX_NAMED,
    )


def _moved_changes(saved: SavedPlan, fresh: Plan, sealer: Sealer) -> Moved:
    return moved_addresses(
        _entries(saved.change_lines(), None),
        _entries(sealed_change_lines(fresh, sealer), None),
        shared_only=False,
        first=_MAX_NAMED,
    )


def _named(moved: Moved) -> str:
    if not moved.total:
        return ""
    shown = ", ".join(moved.first[:_MAX_NAMED])
    more = f" and {moved.total - _MAX_NAMED} more" if moved.total > _MAX_NAMED else ""
    return f" ({shown}{more})"
