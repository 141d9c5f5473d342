"""Providers are plug-ins: a real third-party package (tests/providers/plugin_package),
installed by writing its ``.dist-info`` (metadata and ``entry_points.txt``) into a throwaway
folder on ``PYTHONPATH``, is found through the ``authform.providers`` entry-point group next
to the built-ins; a broken one is refused with a message that names its distribution, and
no traceback. Each case runs in a fresh interpreter (bounded in time), so what it installs
never leaks into this process's registry."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from authform.providers.registry import ENTRY_POINT_GROUP, load_declarations

PACKAGE = Path(__file__).parent / "plugin_package" / "authform_toy_provider.py"
DISTRIBUTION = "authform-toy-provider 0.1.0"
BUILT_IN = {"workos", "scalekit", "clerk"}

# What the fresh interpreter does: list the registry, then build the provider the test names
# and run one create and one read through it, as plan and apply would.
PROBE = """
import asyncio, json, sys
from authform.providers.base import ProviderError
from authform.providers.registry import PROVIDERS, Connection, build_provider
from authform.resources import Kind, Resource

answer = {"available": sorted(PROVIDERS), "broken": dict(PROVIDERS.broken)}
try:
    provider = build_provider(Connection(sys.argv[1], "toy_key", None, None))
except ProviderError as exc:
    answer["error"] = str(exc)
else:
    async def round_trip():
        await provider.create(Resource(Kind.PERMISSION, "billing:manage", {"name": "Bill"}))
        return [r.key for r in await provider.read([Kind.PERMISSION], [])]
    answer["label"] = type(provider.inner).__name__
    answer["read_back"] = asyncio.run(round_trip())
print(json.dumps(answer))
"""


def install(site: Path, entry_points: str) -> None:
    """The toy package and its metadata, as pip would leave them in site-packages."""
    shutil.copy(PACKAGE, site / PACKAGE.name)
    info = site / "authform_toy_provider-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: authform-toy-provider\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}\n")


def probe(site: Path, provider: str) -> tuple[dict[str, object], str]:
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, provider],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_a_third_party_provider_is_found_built_and_used_next_to_the_built_ins(
    tmp_path: Path,
) -> None:
    install(tmp_path, "toy = authform_toy_provider:TOY")
    answer, stderr = probe(tmp_path, "toy")
    assert set(answer["available"]) >= BUILT_IN | {"toy"}  # type: ignore[operator]
    assert answer["broken"] == {}
    assert answer["label"] == "ToyProvider"
    assert answer["read_back"] == ["billing:manage"]
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("entry_point", "asked", "message"),
    [
        (
            "toy = authform_toy_missing:TOY",
            "toy",
            r"the provider plug-in 'toy' \(authform_toy_missing:TOY\) of the distribution "
            r"authform-toy-provider 0\.1\.0 cannot be loaded \(ModuleNotFoundError: No module "
            r"named 'authform_toy_missing'\)",
        ),
        (
            "toy = authform_toy_provider:NOT_A_DECLARATION",
            "toy",
            r"the provider plug-in 'toy' \(authform_toy_provider:NOT_A_DECLARATION\) of the "
            r"distribution authform-toy-provider 0\.1\.0 names a dict, not an "
            r"authform\.providers\.registry\.ProviderDeclaration",
        ),
        (
            "toy = authform_toy_provider:NO_SUCH_NAME",
            "toy",
            r"authform-toy-provider 0\.1\.0 cannot be loaded \(AttributeError: ",
        ),
        (
            "other = authform_toy_provider:TOY",
            "other",
            r"the provider plug-in 'other' \(authform_toy_provider:TOY\) of the distribution "
            r"authform-toy-provider 0\.1\.0 declares the provider 'toy' instead",
        ),
    ],
)
def test_a_broken_plugin_is_refused_naming_its_distribution_and_stops_no_other_provider(
    tmp_path: Path, entry_point: str, asked: str, message: str
) -> None:
    install(tmp_path, entry_point)
    answer, stderr = probe(tmp_path, asked)
    error = str(answer["error"])
    assert error.startswith(f"target.provider: provider {asked!r} is not available: ")
    assert pytest.approx(0) == 0 and __import__("re").search(message, error), error
    assert error.endswith("; fix or uninstall it")
    assert "Traceback" not in stderr and "Traceback" not in error
    assert set(answer["available"]) == BUILT_IN | (set(answer["available"]) - {"toy"})  # type: ignore[operator]
    assert set(answer["available"]) >= BUILT_IN  # type: ignore[arg-type]
    # The healthy providers still build while the plug-in is broken.
    healthy, _ = probe(tmp_path, "clerk")
    assert "error" not in healthy or "sk_" in str(healthy["error"])


def test_a_provider_name_claimed_twice_is_registered_for_neither_claimant() -> None:
    twice = [
        importlib.metadata.EntryPoint(name, f"authform.providers.builtin:{name.upper()}", group)
        for name, group in [
            ("clerk", ENTRY_POINT_GROUP),
            ("clerk", ENTRY_POINT_GROUP),
            ("workos", ENTRY_POINT_GROUP),
        ]
    ]
    declarations, broken = load_declarations(twice)
    assert set(declarations) == {"workos"}
    assert broken["clerk"] == (
        "the provider 'clerk' is registered more than once, by an unknown distribution and by "
        "an unknown distribution; uninstall all but one"
    )


def test_the_built_in_providers_come_from_authforms_own_entry_points() -> None:
    """Not a table in the code: authform's metadata declares them, as a plug-in would."""
    own = {
        entry_point.name: entry_point.value
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        if entry_point.dist is not None and entry_point.dist.metadata["Name"] == "authform"
    }
    assert set(own) >= BUILT_IN
    assert all(value.startswith("authform.providers.") for value in own.values())
