"""The examples pass their own checks (issue 10, item 6).

Every example folder and the README's manifest pass exactly what the pre-commit hook and a
fork's pull request run (`validate --changed --without-credentials`, no variable set); `plan`
does not ask for the canary password only `verify` reads, and the command that does read a
secret names its unset variable with the place it is written.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from authform.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_FOLDERS = [REPO / "manifests", *sorted((REPO / "manifests" / "examples").iterdir())]
VARIABLE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)")


def readme_manifest() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [manifest] = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
        if block.startswith("version: 1\ntarget:")
    ]
    return manifest


def unset_every_variable(*texts: str) -> dict[str, str | None]:
    """CliRunner's way of running with none of the variables these files read."""
    return {name: None for text in texts for name in VARIABLE.findall(text)}


def run(*args: str, env: dict[str, str | None]):
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", **env})


def hook_arguments() -> list[str]:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    program, *args = shlex.split(hook["entry"])
    assert program == "authform"
    return args


@pytest.fixture
def readme_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "authform.yaml").write_text(readme_manifest(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return folder


def test_the_readme_manifest_reads_secrets_outside_target() -> None:
    """What makes the rest of this file a real test: the README's manifest reads secrets
    that `target` does not hold (a social connection's and the canary's)."""
    names = VARIABLE.findall(readme_manifest())
    assert {"GOOGLE_SECRET", "CANARY_PASSWORD", "WORKOS_API_KEY"} <= set(names)


@pytest.mark.parametrize("folder", EXAMPLE_FOLDERS, ids=lambda folder: folder.name)
def test_each_example_passes_the_pre_commit_hook_with_no_variable_set(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "manifests"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("examples"))
    monkeypatch.chdir(tmp_path)
    files = sorted(str(path.relative_to(tmp_path)) for path in copy.glob("*.yaml"))
    texts = [(tmp_path / name).read_text(encoding="utf-8") for name in files]
    result = run(*hook_arguments(), *files, env=unset_every_variable(*texts))
    assert result.exit_code == 0, result.output
    assert "manifests: valid" in result.output


def test_the_readme_manifest_passes_the_pre_commit_hook(readme_folder: Path) -> None:
    env = unset_every_variable(readme_manifest())
    result = run(*hook_arguments(), "manifests/authform.yaml", env=env)
    assert result.exit_code == 0, result.output
    fork = run("validate", "--without-credentials", env=env)  # the fork pull request's step
    assert fork.exit_code == 0, fork.output


def test_validate_without_the_flag_names_every_unset_variable_at_its_place(
    readme_folder: Path,
) -> None:
    result = run("validate", env=unset_every_variable(readme_manifest()))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for variable, where in [
        ("WORKOS_API_KEY", r"authform\.yaml:\d+:\d+: target\.api_key"),
        ("GOOGLE_SECRET", r"authform\.yaml:\d+:\d+: social_connections\[0\]\.client_secret"),
        ("CANARY_PASSWORD", r"authform\.yaml:\d+:\d+: verify\.password_logins\[0\]\.password"),
    ]:
        assert re.search(f"{where}: environment variable {variable} is not set", result.output)


def test_plan_and_apply_do_not_need_the_canary_password_verify_does(
    readme_folder: Path,
) -> None:
    env = unset_every_variable(readme_manifest())
    plan = run("plan", "--emulate", "--detailed-exitcode", env=env)
    assert plan.exit_code == 2, plan.output
    assert "not set" not in plan.output
    apply = run("apply", "--emulate", "--auto-approve", env=env)
    assert apply.exit_code == 2, apply.output  # only the dashboard-only step is left
    assert "not set" not in apply.output

    verify = run("verify", "--emulate", env=env)
    assert verify.exit_code == 1
    assert "Traceback" not in verify.output
    assert re.search(
        r"authform\.yaml:\d+:\d+: verify\.password_logins\[0\]\.password: "
        "environment variable CANARY_PASSWORD is not set",
        verify.output,
    ), verify.output
    # with the variable set, verify signs in with it (the emulator has no such user: exit 3)
    signed = run("verify", "--emulate", env={**env, "CANARY_PASSWORD": "correct horse"})
    assert signed.exit_code == 3, signed.output
    assert "canary@example.com" in signed.output
    assert "correct horse" not in signed.output


def test_an_import_needs_its_sources_key_before_any_request(cli) -> None:
    """The Clerk key of a clerk-api source is read by every command that imports: unset, it
    stops plan before any request, naming the variable; validate's hook mode lets it pass."""
    cli.write(
        """
        users:
          source: {kind: clerk-api, secret_key: "${env:CLERK_SOURCE_KEY}"}
        """,
        name="users.yaml",
    )
    unset = {"CLERK_SOURCE_KEY": None}
    hook = cli.run("validate", "--without-credentials", str(cli.folder), env=unset)
    assert hook.exit_code == 0, hook.output
    plan = cli.run("plan", str(cli.folder), env=unset)
    assert plan.exit_code == 1
    assert re.search(
        r"users\.yaml:2:\d+: users\.source\.secret_key: "
        "environment variable CLERK_SOURCE_KEY is not set",
        plan.output,
    ), plan.output
    assert "Traceback" not in plan.output
    assert cli.emulator.requests_log() == []
