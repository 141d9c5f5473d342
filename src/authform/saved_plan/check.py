"""Judging a saved plan at apply time: apply exactly what was reviewed, or nothing.

Three steps, each before what depends on it. The command's flags against how the plan was
made (before the manifest is loaded). The seal against the file (before any request): an
edited part is named, and a plan that would widen what apply may do cannot be re-sealed
without the target's API key. Then the fingerprints of the fresh plan against the saved
ones: each part that moved is named (the manifest, a variable it reads, the source data, the
live state, or another manifest altogether), so the operator knows what to look at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authform.engine.plan import Plan
from authform.saved_plan.document import SavedPlan, SavedPlanError
from authform.saved_plan.evidence import MadeWith, fingerprints, seal_credential, sealed_changes
from authform.saved_plan.seal import Sealer, same_tag
from authform.workflow import Session

_MAX_NAMED = 5


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
            f"held when it was reviewed; make it again with `authform plan --force --out "
            f"{path}` and review it; nothing was applied"
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
    if not same_tag(saved.document["seal"]["key_check"], sealer.key_check):
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
    """Refuse unless the fresh plan is exactly the saved one, naming every part that moved."""
    now = fingerprints(fresh, session, verdict.made_with, verdict.sealer)
    then = saved.fingerprints
    fresh_changes = list(sealed_changes(fresh, verdict.sealer))
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
    source = _source_moved(then["source"], now["source"], saved.changes, fresh_changes)
    if source:
        reasons.append(source)
    if then["live"] != now["live"]:
        moved = [] if reasons else _moved_addresses(saved.changes, fresh_changes)
        reasons.append(f"the live state changed since this plan was made{_named(moved)}")
    if verdict.changes_edited:
        reasons.append(f"the plan file was edited: {_edited_entry(saved.changes, fresh_changes)}")
    elif not reasons and saved.changes != fresh_changes:
        reasons.append(
            "the changes differ from the reviewed ones: "
            + _edited_entry(saved.changes, fresh_changes)
        )
    if reasons:
        raise SavedPlanError(_refusal(saved, reasons))


def _refusal(saved: SavedPlan, reasons: Sequence[str]) -> str:
    return (
        f"cannot apply {saved.path}: {'; '.join(reasons)}. Nothing was applied; make the plan "
        "again with `authform plan --out` and review it"
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
        f"`authform plan {made.manifest} --out {saved.path}` and review it"
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
    saved_changes: list[dict[str, Any]],
    fresh_changes: list[dict[str, Any]],
) -> str | None:
    if then is None or now is None:
        return None if then is now else "the user source changed since this plan was made"
    details = []
    if then["records"] != now["records"]:
        details.append("records")
    if then["password_digests"] != now["password_digests"]:
        swapped = _secrets_moved(saved_changes, fresh_changes)
        if swapped:
            plural = "s" if len(swapped) != 1 else ""
            details.append(f"{len(swapped)} password digest{plural}{_named(swapped)}")
        else:
            details.append("password digests")
    if not details:
        return None
    where = f"{then['label']}: {', '.join(details)}"
    return f"the source data changed since this plan was made ({where})"


def _secrets_moved(
    saved_changes: list[dict[str, Any]], fresh_changes: list[dict[str, Any]]
) -> list[str]:
    """Addresses whose write-once secrets (a password digest) differ between the two."""
    fresh = {c["address"]: c.get("secrets") for c in fresh_changes}
    return [
        change["address"]
        for change in saved_changes
        if change["address"] in fresh and change.get("secrets") != fresh[change["address"]]
    ]


def _moved_addresses(
    saved_changes: list[dict[str, Any]], fresh_changes: list[dict[str, Any]]
) -> list[str]:
    before = {c["address"]: c for c in saved_changes}
    after = {c["address"]: c for c in fresh_changes}
    ordered = list(before) + [a for a in after if a not in before]
    return [a for a in ordered if before.get(a) != after.get(a)]


def _named(addresses: list[str]) -> str:
    if not addresses:
        return ""
    shown = ", ".join(addresses[:_MAX_NAMED])
    more = f" and {len(addresses) - _MAX_NAMED} more" if len(addresses) > _MAX_NAMED else ""
    return f" ({shown}{more})"


def _edited_entry(saved_changes: list[dict[str, Any]], fresh_changes: list[dict[str, Any]]) -> str:
    """The first entry of the saved change list that is not the planned one."""
    for index, (saved, fresh) in enumerate(zip(saved_changes, fresh_changes, strict=False)):
        if saved != fresh:
            return f"changes[{index}] (the plan has {fresh['address']} there)"
    if len(saved_changes) != len(fresh_changes):
        index = min(len(saved_changes), len(fresh_changes))
        return (
            f"changes[{index}] (the file lists {len(saved_changes)} changes, the plan has "
            f"{len(fresh_changes)})"
        )
    return "changes[] (its seal does not match its entries)"
