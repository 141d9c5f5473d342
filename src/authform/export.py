"""Export: write manifests from what a provider holds, so a team with a configured tenant starts
from it instead of typing it (octoDNS's ``dump``).

The promise is a round trip: the written folder, planned against the same provider, shows no
changes. Three things would break it, and each is handled where a reviewer can see it:

- Secrets are never read back, never written: ``target`` holds ``${env:...}`` placeholders.
- What the API cannot list (WorkOS social connections) is left out, so that kind stays
  unmanaged, and the written file says so.
- An organization without an ``external_id`` has no key. It gets one generated from its name
  (stable: the same name and id give the same key on every export) and a comment saying so.
  authform cannot store that key without writing, so the first plan shows the organization as
  *adopted* (``~``, by its unique name, see ``engine.plan.ADOPTION_FIELD``); one apply stores
  the key as its ``external_id`` and from then on the round trip is exact. Organizations
  sharing a name cannot be adopted by name; they are not exported, the file lists them, and
  the plan shows them as deletes (carried out only with ``policy.allow_delete: true``).

Strings are escaped for interpolation (``${`` is written ``$${``), so a live value that
happens to contain ``${`` is not read back as a variable.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authform.render.yaml_text import Commented, dump_document, flow_if_short
from authform.resources import Kind, Resource

# The first line of every file export writes: export overwrites only files that start with it.
EXPORT_HEADER = "Written by `authform export`"
GENERATED_KEY_MAX = 48


@dataclass(frozen=True)
class ExportProfile:
    """What one provider's export reads and how its target is written."""

    provider: str
    label: str
    kinds: tuple[Kind, ...]
    # target field -> environment variable its placeholder names (None: no such field)
    api_key_variable: str
    client_id_variable: str | None
    base_url_variable: str
    # Scalekit has no default host and no token without the client id: both always written.
    base_url_required: bool = False
    client_id_required: bool = False
    # Comment lines for target.yaml about what the API cannot give back, and their gist.
    not_exported: tuple[str, ...] = ()
    not_exported_summary: str = ""


_USERS_NOTE = "Users and memberships are not exported either: they come from a `users.source`."
_SOCIAL_EXAMPLE = (
    "social_connections:",
    '  - {provider: google, client_id: "1234.apps.googleusercontent.com"}',
)

WORKOS = ExportProfile(
    provider="workos",
    label="WorkOS",
    kinds=(Kind.PERMISSION, Kind.ROLE, Kind.ORGANIZATION, Kind.REDIRECT_URI, Kind.CORS_ORIGIN),
    api_key_variable="WORKOS_API_KEY",
    client_id_variable="WORKOS_CLIENT_ID",
    base_url_variable="WORKOS_BASE_URL",
    not_exported=(
        "Not exported: social connections. WorkOS has no API that lists them (they are set in",
        "the dashboard), so they cannot be read and `social_connections` stays unmanaged. To",
        "manage them, add the section; plan then shows the dashboard steps and verify probes",
        "them, for example:",
        *_SOCIAL_EXAMPLE,
        _USERS_NOTE,
    ),
    not_exported_summary="social connections (WorkOS has no API that lists them)",
)

SCALEKIT = ExportProfile(
    provider="scalekit",
    label="Scalekit",
    kinds=(Kind.PERMISSION, Kind.ROLE, Kind.ORGANIZATION),
    api_key_variable="SCALEKIT_CLIENT_SECRET",
    client_id_variable="SCALEKIT_CLIENT_ID",
    base_url_variable="SCALEKIT_ENVIRONMENT_URL",
    base_url_required=True,
    client_id_required=True,
    not_exported=(
        "Not exported: redirect URIs and social connections. Scalekit sets both in its",
        "dashboard only and has no API that lists them, so they stay unmanaged. To manage",
        "them, add `redirect_uris` and `social_connections`; plan then shows the dashboard",
        "steps and verify probes them through the authorization URL, for example:",
        "redirect_uris: [https://app.example.com/callback]",
        *_SOCIAL_EXAMPLE,
        "Scalekit has no CORS-origin setting at all, so there is nothing to export for it.",
        _USERS_NOTE,
    ),
    not_exported_summary=(
        "redirect URIs and social connections (Scalekit's dashboard holds them; no API lists them)"
    ),
)

CLERK = ExportProfile(
    provider="clerk",
    label="Clerk",
    kinds=(Kind.PERMISSION, Kind.ROLE, Kind.ORGANIZATION, Kind.REDIRECT_URI, Kind.CORS_ORIGIN),
    api_key_variable="CLERK_SECRET_KEY",
    client_id_variable=None,
    base_url_variable="CLERK_API_URL",
    not_exported=(
        "Not exported: social connections. Clerk's API says which are enabled but not with",
        "which OAuth client id, which the manifest names, so `social_connections` stays",
        "unmanaged. To manage them, add the section; plan then shows the dashboard steps and",
        "verify checks each is enabled, for example:",
        *_SOCIAL_EXAMPLE,
        "Clerk's own system roles and permissions (org:sys_...) are Clerk's, never exported.",
        _USERS_NOTE,
    ),
    not_exported_summary="social connections (Clerk's API does not give their client ids)",
)

PROFILES: dict[str, ExportProfile] = {p.provider: p for p in (WORKOS, SCALEKIT, CLERK)}

# One file per section, in this order, each holding just that section.
SECTION_FILES: tuple[tuple[Kind, str], ...] = (
    (Kind.PERMISSION, "permissions.yaml"),
    (Kind.ROLE, "roles.yaml"),
    (Kind.ORGANIZATION, "organizations.yaml"),
    (Kind.REDIRECT_URI, "redirect_uris.yaml"),
    (Kind.CORS_ORIGIN, "cors_origins.yaml"),
)
TARGET_FILE = "target.yaml"
_LABELS = {
    Kind.PERMISSION: "permission(s)",
    Kind.ROLE: "role(s)",
    Kind.ORGANIZATION: "organization(s)",
    Kind.REDIRECT_URI: "redirect URI(s)",
    Kind.CORS_ORIGIN: "CORS origin(s)",
}


class ExportError(Exception):
    """The export cannot be written (an existing file it would overwrite, say)."""


@dataclass(frozen=True)
class GeneratedKey:
    provider_id: str
    name: str
    key: str


@dataclass
class Export:
    """The documents to write and what a person must know about them."""

    documents: dict[str, str]
    counts: dict[Kind, int]
    generated: list[GeneratedKey] = field(default_factory=list)
    # Organizations that share a name and have no external_id: (name, provider ids).
    ambiguous: list[tuple[str, list[str]]] = field(default_factory=list)


def escape_interpolation(text: str) -> str:
    """``${`` in a live value is text, not a variable: write it as ``$${``."""
    return text.replace("${", "$${")


def _text(value: Any) -> Any:
    return escape_interpolation(value) if isinstance(value, str) else value


def generated_key(name: str, provider_id: str, taken: set[str]) -> str:
    """A readable key from the organization's name (``Acme Inc`` → ``acme-inc``); when that
    is taken, the end of its provider id is appended, so the key depends only on the
    organization itself and re-exports give the same key."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:GENERATED_KEY_MAX].strip("-")
    tail = re.sub(r"[^a-z0-9]", "", provider_id.lower())[-8:] or "org"
    if not base:
        base = f"org-{tail}"
    if base not in taken:
        return base
    return f"{base[: GENERATED_KEY_MAX - len(tail) - 1]}-{tail}"


def build_export(
    live: Sequence[Resource],
    profile: ExportProfile,
    *,
    with_client_id: bool,
    with_base_url: bool,
) -> Export:
    """Every file's text, sorted by key so a re-export of the same state is byte-identical."""
    by_kind: dict[Kind, list[Resource]] = {kind: [] for kind in profile.kinds}
    for resource in live:
        if resource.kind in by_kind:
            by_kind[resource.kind].append(resource)
    export = Export(documents={}, counts={k: len(v) for k, v in by_kind.items()})
    header = (
        f"{EXPORT_HEADER} from {profile.label}; a later export overwrites this file while",
        "this line is here (delete it once you edit the file by hand). Export again and diff",
        "to see what changed in the provider since.",
    )

    target: dict[str, Any] = {
        "provider": profile.provider,
        "api_key": f"${{env:{profile.api_key_variable}}}",
    }
    footer: tuple[str, ...] = ()
    if profile.client_id_variable is not None:
        client_id = f"${{env:{profile.client_id_variable}}}"
        if with_client_id or profile.client_id_required:
            target["client_id"] = client_id
        else:
            footer += (
                f'Add `client_id: "{client_id}"` under target to let plan and verify',
                "probe social connections.",
            )
    if with_base_url or profile.base_url_required:
        target["base_url"] = f"${{env:{profile.base_url_variable}}}"
    target_notes = (
        "Credentials come from the environment when authform runs; never write them here.",
    )
    export.documents[TARGET_FILE] = dump_document(
        {"version": 1, "target": target},
        header=header + target_notes,
        footer=footer + profile.not_exported,
    )

    sections: dict[Kind, list[Any]] = {
        Kind.PERMISSION: [_permission(r) for r in _sorted(by_kind.get(Kind.PERMISSION))],
        Kind.ROLE: [_role(r) for r in _sorted(by_kind.get(Kind.ROLE))],
        Kind.REDIRECT_URI: sorted(_text(r.spec["uri"]) for r in by_kind.get(Kind.REDIRECT_URI, [])),
        Kind.CORS_ORIGIN: sorted(
            _text(r.spec["origin"]) for r in by_kind.get(Kind.CORS_ORIGIN, [])
        ),
    }
    organizations, comments = _organizations(by_kind.get(Kind.ORGANIZATION, []), export)
    sections[Kind.ORGANIZATION] = organizations
    for kind, filename in SECTION_FILES:
        if kind not in by_kind:
            continue
        notes = comments if kind is Kind.ORGANIZATION else ()
        export.documents[filename] = dump_document(
            {kind.plural: sections[kind]}, header=header + notes
        )
    return export


def _sorted(resources: Sequence[Resource] | None) -> list[Resource]:
    return sorted(resources or [], key=lambda r: r.key)


def _permission(resource: Resource) -> dict[str, Any]:
    spec = resource.spec
    item = {"slug": _text(spec["slug"]), "name": _text(spec["name"])}
    if spec.get("description"):
        item["description"] = _text(spec["description"])
    return item


def _role(resource: Resource) -> dict[str, Any]:
    spec = resource.spec
    item: dict[str, Any] = {"slug": _text(spec["slug"]), "name": _text(spec["name"])}
    if spec.get("description"):
        item["description"] = _text(spec["description"])
    permissions = sorted(_text(p) for p in spec.get("permissions") or [])
    if permissions:
        item["permissions"] = flow_if_short(permissions, 6 + len("permissions: "))
    return item


def _organizations(
    resources: Sequence[Resource], export: Export
) -> tuple[list[Any], tuple[str, ...]]:
    keyed = [r for r in resources if not r.observed.get("unkeyed")]
    unkeyed = [r for r in resources if r.observed.get("unkeyed")]
    names: dict[str, list[Resource]] = {}
    for resource in unkeyed:
        names.setdefault(resource.spec["name"], []).append(resource)
    taken = {r.key for r in keyed}
    items: list[tuple[str, Any]] = [(r.key, _organization(r.key, r)) for r in keyed]
    # Generate in a fixed order (by provider id) so collisions resolve the same way each time.
    for resource in sorted(unkeyed, key=lambda r: r.provider_id or ""):
        name = resource.spec["name"]
        if len(names[name]) > 1:
            continue
        key = generated_key(name, resource.provider_id or "", taken)
        taken.add(key)
        export.generated.append(GeneratedKey(resource.provider_id or "", name, key))
        comment = (
            f"No external_id in the provider ({resource.provider_id}): this key was generated",
            "from the name. The first apply stores it as the organization's external_id (the",
            "plan shows it as adopted, by its name, until then).",
        )
        items.append((key, Commented(_organization(key, resource), comment)))
    items.sort(key=lambda pair: pair[0])
    notes: tuple[str, ...] = ()
    for name, group in sorted(names.items()):
        if len(group) < 2:
            continue
        ids = sorted(r.provider_id or "" for r in group)
        export.ambiguous.append((name, ids))
        notes += (
            f"Not exported: {len(group)} organizations named {name!r} have no external_id "
            f"({', '.join(ids)}),",
            "so authform cannot tell them apart by name. Give each an external_id in the",
            "provider, then export again. Until then plan lists them as deletes (carried out",
            "only with policy.allow_delete: true).",
        )
    return [item for _, item in items], notes


def _organization(key: str, resource: Resource) -> dict[str, Any]:
    spec = resource.spec
    item: dict[str, Any] = {"key": _text(key), "name": _text(spec["name"])}
    domains = sorted(spec.get("domains") or [], key=lambda d: d["domain"])
    if domains:
        item["domains"] = [
            flow_if_short({"domain": _text(d["domain"]), "state": d["state"]}, 8) for d in domains
        ]
    metadata: Mapping[str, Any] = spec.get("metadata") or {}
    if metadata:
        item["metadata"] = {_text(k): _text(v) for k, v in sorted(metadata.items())}
    return item


# ---- reading ------------------------------------------------------------------------------


async def export_live(
    profile: ExportProfile,
    *,
    env: Mapping[str, str] | None = None,
    emulated_manifest: str | Path | None = None,
) -> Export:
    """Read everything the profile lists from the live provider (or, given
    ``emulated_manifest``, from that manifest's emulated tenant) and build the documents."""
    from authform.emulated_tenant import emulator_state_file, start_embedded_emulator
    from authform.providers.registry import Connection, build_provider

    emulator = None
    if emulated_manifest is not None:
        emulator = await asyncio.to_thread(
            start_embedded_emulator, emulated_manifest, profile.provider
        )
        print(
            f"Using the embedded {profile.provider} emulator at {emulator.url} "
            f"(state in {emulator_state_file(emulated_manifest, profile.provider)}).",
            file=sys.stderr,
        )
        connection = Connection(
            profile.provider, emulator.api_key, emulator.client_id, emulator.url
        )
        with_client_id, with_base_url = True, False
    else:
        connection = connection_from_environment(profile, os.environ if env is None else env)
        with_client_id = connection.client_id is not None
        with_base_url = connection.base_url is not None
    provider = build_provider(connection)
    try:
        live = await provider.read(set(profile.kinds), [])
    finally:
        await provider.aclose()
        if emulator is not None:
            await asyncio.to_thread(emulator.stop)
    return build_export(live, profile, with_client_id=with_client_id, with_base_url=with_base_url)


def connection_from_environment(profile: ExportProfile, variables: Mapping[str, str]) -> Any:
    """The provider's credentials from the variables the exported ``target`` names, checked
    before any request: what is missing or unsafe is named, by variable."""
    from authform.manifest.models import check_base_url
    from authform.providers.registry import Connection

    def needed(variable: str, what: str) -> str:
        value = variables.get(variable)
        if not value:
            raise ExportError(
                f"set {variable} to {what} of the {profile.label} environment to export "
                "(or use --emulate)"
            )
        return value

    api_key = needed(profile.api_key_variable, "the API key")
    client_id = None
    if profile.client_id_variable is not None:
        if profile.client_id_required:
            client_id = needed(profile.client_id_variable, "the client id")
        else:
            client_id = variables.get(profile.client_id_variable) or None
    if profile.base_url_required:
        base_url: str | None = needed(profile.base_url_variable, "the URL")
    else:
        base_url = variables.get(profile.base_url_variable) or None
    if base_url is not None:
        try:
            check_base_url(base_url)
        except ValueError as exc:
            raise ExportError(f"{profile.base_url_variable}: {exc}") from None
    return Connection(profile.provider, api_key, client_id, base_url)


# ---- writing ------------------------------------------------------------------------------


def foreign_files(out: Path) -> list[Path]:
    """YAML files in ``out`` that export did not write: overwriting or merging with them
    needs ``--force``."""
    if not out.is_dir():
        return []
    foreign = []
    for entry in sorted(out.iterdir()):
        if entry.suffix not in (".yaml", ".yml") or entry.name.startswith(".") or entry.is_dir():
            continue
        try:
            with entry.open(encoding="utf-8") as handle:
                first = handle.readline()
        except (OSError, UnicodeDecodeError):
            first = ""
        if not first.startswith(f"# {EXPORT_HEADER}"):
            foreign.append(entry)
    return foreign


def write_export(out: Path, export: Export, *, force: bool = False) -> list[Path]:
    """Write every document; each file is replaced whole (written beside, then renamed), so
    an interrupted export never leaves a half-written manifest."""
    foreign = foreign_files(out)
    if foreign and not force:
        shown = ", ".join(str(p) for p in foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise ExportError(
            f"{out} already holds manifest files that `authform export` did not write "
            f"({shown}); export into an empty folder, or pass --force to write beside them"
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in export.documents.items():
        path = out / name
        partial = out / f".{name}.partial"
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        written.append(path)
    return written


def summary_lines(export: Export, profile: ExportProfile, out: Path) -> list[str]:
    """What a person needs to read after an export, for stderr."""
    counts = ", ".join(f"{count} {_LABELS[kind]}" for kind, count in export.counts.items())
    lines = [
        f"Exported from {profile.label}: {counts}; wrote {len(export.documents)} files to {out}."
    ]
    if profile.not_exported_summary:
        lines.append(f"Not exported: {profile.not_exported_summary}; see {out / TARGET_FILE}.")
    if export.generated:
        lines.append(
            f"{len(export.generated)} organization(s) had no external_id and got keys generated "
            "from their names; the first plan shows each as adopted (~), and one apply stores "
            "the keys so the round trip is exact from then on:"
        )
        lines += [f"  {g.key}: {g.name} ({g.provider_id})" for g in export.generated]
    for name, ids in export.ambiguous:
        lines.append(
            f"Warning: {len(ids)} organizations named {name!r} have no external_id "
            f"({', '.join(ids)}) and were not exported: give each an external_id and export "
            "again; until then plan lists them as deletes."
        )
    return lines
