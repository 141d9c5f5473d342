"""A plain install, as a user gets it: the wheel built from this tree, in a fresh venv holding
only that wheel and the dependencies it declares (no test extra, no source tree on the path),
runs every provider's example on its embedded emulator.

The test extra brings in packages the product must not lean on (python-multipart came in
through one of them, and a plain install's Scalekit token endpoint answered 500): only a
venv like this one notices. The wheel is built once per run; pip's cache keeps the install
of the dependencies quick after the first run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from authform import __version__

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "manifests"


def _run(*command: str | Path, timeout: float, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass
class PlainInstall:
    bin: Path

    def authform(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        # No provider credentials and nothing of this tree on the path: what a new user has.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("WORKOS_", "SCALEKIT_", "CLERK_", "CANARY_", "PYTHON"))
        }
        env["NO_COLOR"] = "1"
        return subprocess.run(
            [str(self.bin / "authform"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> PlainInstall:
    root = tmp_path_factory.mktemp("plain-install")
    # Build from a copy, so the build leaves nothing (build/, *.egg-info) in the tree.
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    dist = root / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source, timeout=600)
    [wheel] = dist.glob("authform-*.whl")
    _run(sys.executable, "-m", "venv", root / "venv", timeout=300)
    bin_dir = root / "venv" / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, timeout=900)
    return PlainInstall(bin_dir)


def test_the_venv_holds_the_wheel_and_its_declared_dependencies_only(
    plain_install: PlainInstall, tmp_path: Path
) -> None:
    probe = _run(
        plain_install.bin / "python",
        "-c",
        "import authform, importlib.util as u;"
        "print(authform.__file__);"
        "print([m for m in ('pytest', 'multipart', 'python_multipart', 'workos')"
        " if u.find_spec(m)])",
        timeout=60,
        cwd=tmp_path,
    ).splitlines()
    assert str(plain_install.bin.parent) in probe[0], "authform imported from the venv"
    assert probe[1] == "[]", "no test-only package in a plain install"
    version = plain_install.authform("--version", cwd=tmp_path)
    assert version.stdout == f"authform {__version__}\n", version.stderr
    module = subprocess.run(
        [str(plain_install.bin / "python"), "-m", "authform", "-h"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert module.returncode == 0 and module.stdout.startswith("Usage: authform"), module.stderr


def _scalekit_example(folder: Path) -> None:
    """The portable example aimed at Scalekit exactly as its target.yaml's comment says:
    replace the `target` block with the commented one."""
    target = folder / "target.yaml"
    text = target.read_text(encoding="utf-8")
    commented = re.search(r"(#   target:\n(?:#     .*\n)+)", text)
    assert commented, "target.yaml shows the Scalekit target block"
    block = "".join(line[4:] + "\n" for line in commented.group(1).splitlines())
    text = re.sub(r"^target:\n(?:  .*\n)+", block, text, flags=re.MULTILINE)
    assert "provider: scalekit" in text
    target.write_text(text, encoding="utf-8")


# (example id, folder under manifests/, --environment)
EXAMPLE_RUNS = [
    ("workos-quickstart", ".", None),
    ("scalekit-portable", "examples/portable", None),
    ("clerk-development", "examples/clerk", "development"),
    ("clerk-production", "examples/clerk", "production"),
    ("workos-environments-staging", "examples/environments", "staging"),
]


@pytest.mark.parametrize(
    ("folder", "environment"), [r[1:] for r in EXAMPLE_RUNS], ids=[r[0] for r in EXAMPLE_RUNS]
)
def test_each_providers_example_plans_applies_and_verifies_on_its_emulator(
    plain_install: PlainInstall, tmp_path: Path, folder: str, environment: str | None
) -> None:
    shutil.copytree(
        EXAMPLES / folder, tmp_path / "manifests", ignore=shutil.ignore_patterns("examples")
    )
    if folder == "examples/portable":
        _scalekit_example(tmp_path / "manifests")
    selection = ["-e", environment] if environment else []

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return plain_install.authform(*args, "manifests", "--emulate", *selection, cwd=tmp_path)

    checks = plain_install.authform("validate", "manifests", "--without-credentials", cwd=tmp_path)
    assert checks.returncode == 0, checks.stderr
    plan = run("plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    apply = run("apply", "--auto-approve")
    # 2: the dashboard-only steps (social connections) stay pending, as on a real tenant,
    # until they are taken on the emulated dashboard
    assert apply.returncode in (0, 2), apply.stdout + apply.stderr
    dashboard = plain_install.authform(
        "emulator", "dashboard", "manifests", *selection, cwd=tmp_path
    )
    assert dashboard.returncode == 0, dashboard.stdout + dashboard.stderr
    verify = run("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert re.search(r"Verify: (\d+) of \1 checks passed\.", verify.stdout), verify.stdout
    again = run("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    for result in (checks, plan, apply, dashboard, verify, again):
        assert "Traceback" not in result.stdout + result.stderr
