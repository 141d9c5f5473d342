"""Plans the engine refuses before any write (issue 9, finding 5): memberships that name a
role which neither exists in the provider nor is planned. One missing role once meant 582
failed writes at apply; now `plan` and `apply` exit 1 with a message at the manifest's
``role_map`` entry (or at ``users`` when a default mapping did it) that names the role, how
many memberships use it and the first source record, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.emulators import RunningEmulator
from authform.sources.synthetic import write_synthetic_export

from .refusal import assert_refused

TARGET = {
    "workos": 'target: {provider: workos, api_key: "${env:T_KEY}", base_url: "${env:T_URL}"}\n',
    "scalekit": (
        'target: {provider: scalekit, api_key: "${env:T_KEY}", client_id: "${env:T_ID}", '
        'base_url: "${env:T_URL}"}\n'
    ),
    "clerk": 'target: {provider: clerk, api_key: "${env:T_KEY}", base_url: "${env:T_URL}"}\n',
}


def run(emulator: RunningEmulator, *args: str):
    env = {"T_KEY": emulator.api_key, "T_ID": emulator.client_id, "T_URL": emulator.url}
    return CliRunner().invoke(app, list(args), env={**env, "NO_COLOR": "1"})


def write(tmp_path: Path, provider: str, body: str) -> Path:
    export = write_synthetic_export(
        tmp_path / "export", users=12, organizations=2, memberships_per_user=1
    )
    folder = tmp_path / "manifests"
    folder.mkdir()
    users = (
        "users:\n"
        "  source:\n"
        "    kind: clerk-csv\n"
        f"    path: {export.users_csv}\n"
        f"    organizations: {export.organizations_json}\n"
        f"    memberships: {export.memberships_json}\n"
    )
    text = "version: 1\n" + TARGET[provider] + body.replace("USERS\n", users)
    (folder / "authform.yaml").write_text(text, encoding="utf-8")
    return folder


def line_of(folder: Path, text: str) -> int:
    lines = (folder / "authform.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().startswith(text))


def assert_no_writes(emulator: RunningEmulator) -> None:
    # Scalekit's token request is a POST that changes nothing in the tenant.
    assert [w for w in emulator.writes() if w["path"] != "/oauth/token"] == []


@pytest.mark.parametrize("command", [("plan",), ("plan", "--force"), ("apply", "--auto-approve")])
def test_a_role_map_target_that_does_not_exist_is_refused_at_its_entry(
    workos_emulator: RunningEmulator, tmp_path: Path, command: tuple[str, ...]
) -> None:
    folder = write(tmp_path, "workos", "USERS\n  role_map: {'org:member': staff}\n")
    result = run(workos_emulator, command[0], str(folder), *command[1:])
    where = f"authform.yaml:{line_of(folder, 'role_map:')}:\\d+"
    assert_refused(
        result,
        where + r": users.role_map maps 'org:member' to role 'staff', which neither exists in "
        r"workos nor is declared under roles; 10 membership\(s\) name it, first at "
        r"memberships.json",
        emulator=workos_emulator,
    )


def test_a_default_mapping_to_a_missing_role_is_refused_at_users(
    workos_emulator: RunningEmulator, tmp_path: Path
) -> None:
    folder = write(tmp_path, "workos", "USERS\n")
    result = run(workos_emulator, "plan", str(folder))
    where = f"authform.yaml:{line_of(folder, 'users:')}:\\d+"
    assert_refused(
        result,
        where + r": the default role map sends 'org:admin' to role 'admin', which neither "
        r"exists in workos nor is declared under roles; 2 membership\(s\)",
        emulator=workos_emulator,
    )
    assert "role 'member'" in result.output  # every missing role, at once


def test_a_declared_role_set_missing_a_default_target_is_refused(
    workos_emulator: RunningEmulator, tmp_path: Path
) -> None:
    folder = write(tmp_path, "workos", "roles: [{slug: admin, name: Admin}]\nUSERS\n")
    result = run(workos_emulator, "apply", str(folder), "--auto-approve")
    assert_refused(
        result,
        r"the default role map sends 'org:member' to role 'member', which neither exists in "
        r"workos nor is declared under roles",
        emulator=workos_emulator,
    )
    assert "'admin'" not in result.output.split("Error")[0].split("role 'member'")[0]


def test_a_live_role_the_plan_would_delete_does_not_count(
    scalekit_emulator: RunningEmulator, tmp_path: Path
) -> None:
    both = "roles: [{slug: admin, name: Admin}, {slug: member, name: Member}]\n"
    setup = tmp_path / "setup"
    setup.mkdir()
    (setup / "authform.yaml").write_text("version: 1\n" + TARGET["scalekit"] + both)
    assert run(scalekit_emulator, "apply", str(setup), "--auto-approve").exit_code == 0
    scalekit_emulator.clear_log()
    body = "roles: [{slug: admin, name: Admin}]\npolicy: {allow_delete: true}\nUSERS\n"
    folder = write(tmp_path, "scalekit", body)
    result = run(scalekit_emulator, "apply", str(folder), "--auto-approve")
    assert_refused(
        result,
        r"sends 'org:member' to role 'member', which neither exists in scalekit nor is "
        r"declared under roles",
    )
    assert_no_writes(scalekit_emulator)
    # Without deletes the live role stays, and the same manifest plans cleanly.
    manifest = folder / "authform.yaml"
    manifest.write_text(manifest.read_text().replace("allow_delete: true", "allow_delete: false"))
    assert run(scalekit_emulator, "plan", str(folder)).exit_code == 0


@pytest.mark.parametrize(("provider", "mapped"), [("scalekit", "staff"), ("clerk", "org:staff")])
def test_every_provider_refuses_a_missing_role_before_writing(
    request: pytest.FixtureRequest, tmp_path: Path, provider: str, mapped: str
) -> None:
    emulator: RunningEmulator = request.getfixturevalue(f"{provider}_emulator")
    folder = write(tmp_path, provider, f"USERS\n  role_map: {{'org:member': '{mapped}'}}\n")
    result = run(emulator, "plan", str(folder), "--out", str(tmp_path / "plan.json"))
    assert_refused(
        result,
        rf"authform.yaml:{line_of(folder, 'role_map:')}:\d+: users.role_map maps 'org:member' "
        rf"to role '{mapped}', which neither exists in {provider} nor is declared under roles",
    )
    assert_no_writes(emulator)
    assert not (tmp_path / "plan.json").exists()
    json.dumps(result.output)  # printable
