"""The saved-plan file: written by ``plan --out``, read (and judged) by ``apply PLAN.json``.

A saved plan is the plan's JSON rendering (what the reviewer saw) plus how it was made, the
keyed fingerprints of everything it was computed from, and a seal: one keyed tag per
top-level part, so an edit is refused naming the part that moved. The file is checked in
this order, each step before anything that depends on it: readable JSON, a saved plan of
this format, its shape (every key known, every type right), then its seal.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from authform.engine.plan import Plan
from authform.render.json_output import plan_header_to_json
from authform.saved_plan.evidence import MadeWith, fingerprints, sealed_changes
from authform.saved_plan.seal import TAG_PREFIX, Sealer, same_tag
from authform.workflow import Session

SAVED_PLAN_FORMAT = 2
# Parts of the document that are not sealed themselves: the seal, and the digest over it.
_SEAL_KEYS = ("seal", "plan_digest")


class SavedPlanError(Exception):
    """A saved plan that cannot be applied: unreadable, edited, or stale."""


# ---- shape --------------------------------------------------------------------------------

Tag = Annotated[str, StringConstraints(pattern=f"^{TAG_PREFIX}[0-9a-f]{{64}}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Selection(_Strict):
    target: list[str]
    exclude: list[str]


class _MadeWith(_Strict):
    manifest: str
    manifest_dir: str
    emulate: bool
    environment: str | None
    force: bool
    undo_journal: str | None = None
    selection: _Selection | None = None


class _ManifestPrints(_Strict):
    files: dict[str, str]
    sections: dict[str, str]


class _SourcePrints(_Strict):
    label: str
    records: Tag
    password_digests: Tag


class _Fingerprints(_Strict):
    target: Tag
    manifest: _ManifestPrints
    source: _SourcePrints | None
    live: Tag


class _Change(BaseModel):
    """A change entry's own shape; its content is judged by the seal and the fresh plan."""

    model_config = ConfigDict(extra="allow", strict=True)
    action: Literal["create", "update", "replace", "delete", "manual"]
    address: str
    kind: str
    key: str
    fields: list[dict[str, Any]]


class _Seal(_Strict):
    salt: Annotated[str, StringConstraints(pattern="^[0-9a-f]{32}$")]
    key_check: Tag
    parts: dict[str, str]


class _Document(_Strict):
    format_version: Literal[2]
    made_with: _MadeWith
    provider: str
    environment: str | None
    managed: list[str]
    refusals: list[str]
    notes: list[str]
    forced: bool
    summary: dict[str, int]
    fingerprints: _Fingerprints
    changes: list[_Change]
    seal: _Seal
    plan_digest: Tag


# ---- writing ------------------------------------------------------------------------------


def seal_plan(plan: Plan, session: Session, made_with: MadeWith, sealer: Sealer) -> dict[str, Any]:
    """The saved-plan document for ``plan``, as ``plan --out`` writes it."""
    document: dict[str, Any] = {
        **plan_header_to_json(plan),
        "format_version": SAVED_PLAN_FORMAT,
        "made_with": made_with.to_json(),
        "fingerprints": fingerprints(plan, session, made_with, sealer),
        "changes": list(sealed_changes(plan, sealer)),
    }
    parts = seal_parts(document, sealer)
    document["seal"] = {"salt": sealer.salt.hex(), "key_check": sealer.key_check, "parts": parts}
    document["plan_digest"] = sealer.tag("plan", parts)
    return document


def seal_parts(document: dict[str, Any], sealer: Sealer) -> dict[str, str]:
    """One tag per top-level part; the change list as a stream, one change per line."""
    parts = {
        name: sealer.tag(f"part\x00{name}", value)
        for name, value in document.items()
        if name not in (*_SEAL_KEYS, "changes")
    }
    parts["changes"] = sealer.stream_tag("part\x00changes", document.get("changes", []))
    return parts


def write_saved_plan(path: Path, document: dict[str, Any]) -> None:
    """Write whole or not at all: a half-written plan must never be left to be applied."""
    partial = path.with_name(f".{path.name}.partial")
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SavedPlanError(f"{path}: cannot write the saved plan ({exc.strerror})") from None


# ---- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan whose shape is right; ``verify_seal`` judges whether it was edited."""

    path: Path
    document: dict[str, Any]

    @property
    def made_with(self) -> MadeWith:
        return MadeWith.from_json(self.document["made_with"])

    @property
    def salt(self) -> bytes:
        return bytes.fromhex(self.document["seal"]["salt"])

    @property
    def changes(self) -> list[dict[str, Any]]:
        return list(self.document["changes"])

    @property
    def fingerprints(self) -> dict[str, Any]:
        return dict(self.document["fingerprints"])

    def edited_parts(self, sealer: Sealer) -> list[str]:
        """The parts whose content no longer matches their tag (``plan_digest`` last)."""
        seal = self.document["seal"]
        recorded: dict[str, str] = seal["parts"]
        computed = seal_parts(self.document, sealer)
        edited = [
            name
            for name in sorted(set(recorded) | set(computed))
            if not same_tag(recorded.get(name, ""), computed.get(name, ""))
        ]
        if not edited and not same_tag(self.document["plan_digest"], sealer.tag("plan", recorded)):
            edited.append("plan_digest")
        return edited


def is_saved_plan_path(path: Path) -> bool:
    """``apply`` takes a manifest (YAML files) or a saved plan (a ``.json`` file)."""
    return path.suffix == ".json" and not path.is_dir()


def read_saved_plan(path: Path) -> SavedPlan:
    """The saved plan at ``path``, its shape checked; raises ``SavedPlanError`` saying where."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SavedPlanError(f"{path}: no such saved plan; nothing was applied") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SavedPlanError(f"{path}: cannot read this saved plan ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SavedPlanError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); the saved plan is "
            "damaged or cut short: make it again with `authform plan --out`"
        ) from None
    if not isinstance(document, dict) or "format_version" not in document:
        raise SavedPlanError(
            f"{path}: not a saved plan (no format_version); make one with `authform plan --out`"
        )
    version = document["format_version"]
    if version != SAVED_PLAN_FORMAT:
        raise SavedPlanError(
            f"{path}: saved-plan format {json.dumps(version)} is not one this authform reads "
            f"(format {SAVED_PLAN_FORMAT}); make the plan again with `authform plan --out`"
        )
    try:
        _Document.model_validate(document)
    except ValidationError as exc:
        raise SavedPlanError(f"{path}: not a valid saved plan: {_first_problem(exc)}") from None
    return SavedPlan(path, document)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    others = len(exc.errors()) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    message = re.sub(r" or instance of _\w+", "", error["msg"])  # no internal class names
    return f"{where or '(top level)'}: {message}{more}"
