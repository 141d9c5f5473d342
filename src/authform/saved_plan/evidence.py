"""What a saved plan fingerprints: everything apply will write and everything that decides it.

The parts are kept apart so a refusal can say which one moved: the target (which tenant),
the manifest (each file, and each resolved section, so a changed variable is caught too),
the user-import source (its records, and its password digests apart), the live state, and
the changes themselves, each sealed with the fingerprints of the secrets it would write.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from authform.emulated_tenant import EMULATOR_API_KEY
from authform.engine.codec import (
    change_state_fields,
    change_states,
    resource_states,
    state_fields,
)
from authform.engine.plan import Plan
from authform.render.json_output import change_entry
from authform.render.values import is_sensitive
from authform.saved_plan.seal import Sealer, canonical
from authform.workflow import Session

# Manifest sections that decide nothing apply writes: the target is fingerprinted on its own
# (without the API key, which may be rotated), verify only reads back.
_SECTIONS_NOT_APPLIED = frozenset({"target", "verify", "environments"})
# What the source's fingerprints read of each item.
_SOURCE_FIELDS = state_fields("kind", "key", "spec", "create_only")
# What a saved plan's change line reads of each change, and of its desired item.
_CHANGE_PARTS = change_state_fields(
    "action", "kind", "key", "desired", "fields", "instructions", "blocked", "note", "after"
)
_CREATE_ONLY = state_fields("create_only")


@dataclass(frozen=True)
class MadeWith:
    """How a plan was made: what apply must use again (issue: a plan made with --emulate
    must apply to the emulator without repeating the flag)."""

    manifest: str  # as given on the command line, resolved from where apply runs
    manifest_dir: str  # absolute: tells another manifest from an edited one
    emulate: bool
    environment: str | None
    force: bool
    # Made by `authform undo JOURNAL`: apply plans the undo of that journal again.
    undo_journal: str | None = None
    # --target/--exclude, as {"target": [...], "exclude": [...]}; None for a whole plan.
    selection: Mapping[str, list[str]] | None = None

    @classmethod
    def of_command(
        cls,
        manifest: str | Path,
        *,
        emulate: bool,
        environment: str | None,
        force: bool,
        undo_journal: str | None = None,
        selection: Mapping[str, list[str]] | None = None,
    ) -> MadeWith:
        resolved = str(Path(manifest).resolve())
        return cls(
            str(manifest),
            resolved,
            emulate,
            environment,
            force,
            undo_journal=undo_journal,
            selection=selection,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MadeWith:
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def remake_command(self, out: str | Path, *, force: bool = False) -> str:
        """The command that makes this plan again, for a refusal to name: `authform undo
        JOURNAL MANIFEST` for a plan made by undo, `authform plan MANIFEST` for any other,
        with the flags it was made with (and ``--force`` when asked), saving to ``out``."""
        if self.undo_journal is not None:
            words = ["authform", "undo", self.undo_journal, self.manifest]
        else:
            words = ["authform", "plan", self.manifest]
        if self.environment is not None:
            words += ["--environment", self.environment]
        if self.emulate:
            words.append("--emulate")
        if self.force or force:
            words.append("--force")
        for flag, patterns in (self.selection or {}).items():
            for pattern in patterns:
                words += [f"--{flag}", pattern]
        return shlex.join([*words, "--out", str(out)])


def seal_credential(session: Session, *, emulate: bool) -> str | None:
    """The target's API credential, which keys the seal; never written anywhere."""
    if emulate:
        return EMULATOR_API_KEY
    key = session.loaded.manifest.target.api_key
    return key.get_secret_value() if key is not None else None


def fingerprints(
    plan: Plan, session: Session, made_with: MadeWith, sealer: Sealer
) -> dict[str, Any]:
    return {
        "target": sealer.tag("target", _target_identity(session, made_with)),
        "manifest": {
            "files": _manifest_files(session, sealer),
            "sections": _manifest_sections(session, sealer),
        },
        "source": _source(session, sealer),
        "live": sealer.tag("live", plan.live_fingerprint),
    }


def sealed_change_lines(plan: Plan, sealer: Sealer) -> Iterator[bytes]:
    """Each change as the plan shows it (masked), plus keyed fingerprints of the secret
    values apply would write with it, so a swapped password digest changes the entry: one
    canonical JSON line per change, in plan order, as the saved plan's file holds them.

    Written from the changes' stored states (``codec.change_states``): a million changes
    are read back without being built as objects."""
    for state in change_states(plan.changes):
        action, kind, key, desired, fields, instructions, blocked, note, after = _CHANGE_PARTS(
            state
        )
        create_only = None if desired is None else _CREATE_ONLY(desired)
        entry = change_entry(
            action, kind, key, fields, create_only, instructions, blocked, note, after
        )
        secrets = _change_secrets(f"{kind}.{key}", fields, create_only, sealer)
        if secrets:
            entry["secrets"] = secrets
        yield canonical(entry)


def _change_secrets(
    address: str,
    fields: Iterable[tuple[str, Any, Any]],
    create_only: Mapping[str, Any] | None,
    sealer: Sealer,
) -> dict[str, str]:
    secrets = {
        path: sealer.tag(f"{address}\x00{path}", [old, new])
        for path, old, new in fields
        if is_sensitive(path)
    }
    if create_only:
        for name, value in sorted(create_only.items()):
            secrets[name] = sealer.tag(f"{address}\x00{name}", str(value))
    return secrets


def _target_identity(session: Session, made_with: MadeWith) -> dict[str, Any]:
    target = session.loaded.manifest.target
    if made_with.emulate:
        return {"emulator": target.provider, "environment": made_with.environment}
    return {
        "provider": target.provider,
        "base_url": str(target.base_url) if target.base_url else None,
        "client_id": target.client_id,
    }


def _manifest_files(session: Session, sealer: Sealer) -> dict[str, str]:
    """Each manifest file by name, fingerprinted by content."""
    return {
        file.name: sealer.tag(f"manifest-file\x00{file.name}", _sha256(file))
        for file in session.loaded.files
    }


def _manifest_sections(session: Session, sealer: Sealer) -> dict[str, str]:
    """Each resolved section (after variables and the environment), so a changed variable
    moves the plan although no file changed. Secrets are fingerprinted like the rest."""
    manifest = session.loaded.manifest
    return {
        name: sealer.tag(f"manifest-section\x00{name}", _plain(getattr(manifest, name)))
        for name in type(manifest).model_fields
        if name not in _SECTIONS_NOT_APPLIED
    }


def _source(session: Session, sealer: Sealer) -> dict[str, str] | None:
    """The source's records and, apart, its password digests: each a stream of one
    canonical line per item (``[kind, key, spec]``; ``[address, name, digest]`` per
    write-once value), both fed in one pass over the items' stored states."""
    import_set = session.import_set
    if import_set is None:
        return None
    records = sealer.stream("source-records")
    digests = sealer.stream("source-password-digests")
    for state in resource_states(import_set.resources):
        kind, key, spec, create_only = _SOURCE_FIELDS(state)
        records.add_line(canonical([kind, key, spec]))
        for name, value in sorted(create_only.items()):
            digests.add_line(canonical([f"{kind}.{key}", name, str(value)]))
    return {
        "label": session.import_label,
        "records": records.tag(),
        "password_digests": digests.tag(),
    }


def _sha256(file: Path) -> str:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        return "(unreadable)"


def _plain(value: Any) -> Any:
    """A manifest value as plain JSON data, secrets included (they are only fingerprinted)."""
    if isinstance(value, BaseModel):
        return {name: _plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
