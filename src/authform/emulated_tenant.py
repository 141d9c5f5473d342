"""Where an ``--emulate`` run's tenant lives: one emulated tenant per manifest.

A real tenant is chosen by the manifest's credentials; under ``--emulate`` there are none, so
the manifest itself chooses: its state lives in ``.authform/<name>-<hash>/`` (the name of the
manifest file or folder, and a hash of its path relative to the working directory), one
SQLite file per provider and environment. Trying a second example therefore starts from an
empty tenant instead of planning against the first one's objects.

``authform export --emulate --out DIR`` makes ``DIR`` serve the tenant it was exported from,
as exported manifests with the same credentials would against a real provider: ``DIR``'s
state folder then holds a ``tenant`` file naming the folder whose state it shares.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

EMULATOR_STATE_DIR = Path(".authform")
EMULATOR_API_KEY = "sk_test_authform_emulator"
EMULATOR_CLIENT_ID = "client_authform_emulator"
SHARED_TENANT_FILE = "tenant"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _own_state_folder(manifest_path: str | Path) -> Path:
    resolved = Path(manifest_path).resolve()
    relative = os.path.relpath(resolved, Path.cwd().resolve())
    identity = relative if not relative.startswith("..") else str(resolved)
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:8]
    name = _NAME.sub("-", resolved.stem if resolved.is_file() else resolved.name).strip("-.")
    return EMULATOR_STATE_DIR / f"{name or 'manifest'}-{digest}"


def emulated_tenant_dir(manifest_path: str | Path) -> Path:
    """The state folder of ``manifest_path``'s emulated tenant (following a share that
    ``export --emulate`` recorded)."""
    own = _own_state_folder(manifest_path)
    shared = own / SHARED_TENANT_FILE
    if shared.is_file():
        name = shared.read_text(encoding="utf-8").strip()
        # Only a sibling folder name: a hand-edited file cannot point anywhere else.
        if name and _NAME.sub("", name) == name and name not in (".", ".."):
            return EMULATOR_STATE_DIR / name
    return own


def emulator_state_file(
    manifest_path: str | Path, provider: str, environment: str | None = None
) -> Path:
    """One state file per provider and environment: each environment is its own tenant."""
    suffix = f"-{environment}" if environment else ""
    return emulated_tenant_dir(manifest_path) / f"{provider}{suffix}.sqlite3"


def share_emulated_tenant(manifest_path: str | Path, source_manifest: str | Path) -> Path:
    """Make ``manifest_path`` serve ``source_manifest``'s emulated tenant; returns its folder."""
    tenant = emulated_tenant_dir(source_manifest)
    own = _own_state_folder(manifest_path)
    if own != tenant:
        own.mkdir(parents=True, exist_ok=True)
        (own / SHARED_TENANT_FILE).write_text(tenant.name + "\n", encoding="utf-8")
    return tenant


def start_embedded_emulator(
    manifest_path: str | Path, provider: str, environment: str | None = None
) -> Any:
    """``provider``'s emulator on a loopback port, serving ``manifest_path``'s tenant."""
    from authform.emulators.server import start_emulator

    state = emulator_state_file(manifest_path, provider, environment)
    state.parent.mkdir(parents=True, exist_ok=True)
    return start_emulator(
        provider, db_path=state, api_key=EMULATOR_API_KEY, client_id=EMULATOR_CLIENT_ID
    )
