"""Manifests: YAML in, validated ``Manifest`` and desired ``Resource``s out.

Everything a command needs to read a manifest is re-exported here; the submodules are
implementation detail.
"""

from authform.manifest.desired import desired_resources, managed_kinds
from authform.manifest.diagnostics import Diagnostic, Location, ManifestError
from authform.manifest.loader import (
    LoadedManifest,
    find_manifest_files,
    load_every_environment,
    load_manifest,
)
from authform.manifest.models import (
    ClerkApiSource,
    ClerkCsvSource,
    ClerkJsonSource,
    Domain,
    Environment,
    Manifest,
    Organization,
    PasswordLogin,
    Permission,
    Policy,
    Role,
    SocialConnection,
    Target,
    TargetSettings,
    Users,
    Verify,
)
from authform.manifest.schema import SCHEMA_PATH, manifest_json_schema, render_schema, write_schema

__all__ = [
    "SCHEMA_PATH",
    "ClerkApiSource",
    "ClerkCsvSource",
    "ClerkJsonSource",
    "Diagnostic",
    "Domain",
    "Environment",
    "LoadedManifest",
    "Location",
    "Manifest",
    "ManifestError",
    "Organization",
    "PasswordLogin",
    "Permission",
    "Policy",
    "Role",
    "SocialConnection",
    "Target",
    "TargetSettings",
    "Users",
    "Verify",
    "desired_resources",
    "find_manifest_files",
    "load_every_environment",
    "load_manifest",
    "managed_kinds",
    "manifest_json_schema",
    "render_schema",
    "write_schema",
]
