"""One manifest, two environments, two WorkOS emulators: each converges on its own target."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from authform.emulators import RunningEmulator, start_emulator

MANIFEST = """
version: 1
x-target: &target
  provider: workos
  client_id: "${env:WORKOS_CLIENT_ID}"
permissions:
  - {slug: "reports:read", name: Read reports}
roles:
  - {slug: member, name: Member, permissions: ["reports:read"]}
organizations:
  - {key: acme, name: Acme Inc}
redirect_uris: [https://app.example.com/callback]
environments:
  staging:
    target:
      <<: *target
      api_key: "${env:STAGING_WORKOS_API_KEY}"
      base_url: "${env:STAGING_WORKOS_BASE_URL}"
    redirect_uris: [https://staging.example.com/callback]
    organizations:
      - {key: acme, name: Acme Inc}
      - {key: qa, name: QA sandbox}
  production:
    target:
      <<: *target
      api_key: "${env:PRODUCTION_WORKOS_API_KEY}"
      base_url: "${env:PRODUCTION_WORKOS_BASE_URL}"
"""


@pytest.fixture(scope="module")
def production_server() -> Iterator[RunningEmulator]:
    emulator = start_emulator("workos", api_key="sk_test_production")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def production(production_server: RunningEmulator) -> RunningEmulator:
    production_server.reset()
    return production_server


@pytest.fixture
def envs(cli, production):
    """Each environment's credentials, as two CI jobs (or GitHub environments) would set them."""
    cli.write(MANIFEST)
    staging = cli.emulator
    return {
        "staging": {
            "STAGING_WORKOS_API_KEY": staging.api_key,
            "STAGING_WORKOS_BASE_URL": staging.url,
        },
        "production": {
            "PRODUCTION_WORKOS_API_KEY": production.api_key,
            "PRODUCTION_WORKOS_BASE_URL": production.url,
        },
    }


def listed(emulator: RunningEmulator, path: str) -> list[dict]:
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        response = client.get(
            path, headers={"Authorization": f"Bearer {emulator.api_key}"}, params={"limit": 100}
        )
    response.raise_for_status()
    return response.json()["data"]


def test_the_same_manifest_converges_on_two_environments(cli, production, envs):
    staging = cli.emulator
    for name, other in (("staging", production), ("production", staging)):
        other.clear_log()
        planned = cli.run("plan", str(cli.folder), "-e", name, env=envs[name])
        assert planned.exit_code == 0, planned.output
        assert f"authform plan for workos (environment: {name})" in planned.output
        applied = cli.run("apply", str(cli.folder), "-e", name, "--auto-approve", env=envs[name])
        assert applied.exit_code == 0, applied.output
        again = cli.run("plan", str(cli.folder), "-e", name, "--detailed-exitcode", env=envs[name])
        assert again.exit_code == 0, again.output
        assert other.requests_log() == []  # only the chosen environment's target is touched

    assert [u["uri"] for u in listed(staging, "/user_management/redirect_uris")] == [
        "https://staging.example.com/callback"
    ]
    assert [u["uri"] for u in listed(production, "/user_management/redirect_uris")] == [
        "https://app.example.com/callback"
    ]
    assert sorted(o["external_id"] for o in listed(staging, "/organizations")) == ["acme", "qa"]
    assert [o["external_id"] for o in listed(production, "/organizations")] == ["acme"]
    # The shared sections landed in both.
    for emulator in (staging, production):
        assert [r["slug"] for r in listed(emulator, "/authorization/roles")] == ["member"]


def test_a_saved_plan_applies_to_the_environment_it_was_made_for(cli, production, envs, tmp_path):
    plan_file = tmp_path / "plan.json"
    both = envs["staging"] | envs["production"]
    made = cli.run("plan", str(cli.folder), "-e", "staging", "--out", str(plan_file), env=both)
    assert made.exit_code == 0, made.output
    assert json.loads(plan_file.read_text().splitlines()[0])["environment"] == "staging"
    applied = cli.run("apply", str(plan_file), "--auto-approve", env=both)
    assert applied.exit_code == 0, applied.output
    assert production.writes() == []
    assert sorted(o["external_id"] for o in listed(cli.emulator, "/organizations")) == [
        "acme",
        "qa",
    ]

    elsewhere = cli.run("apply", str(plan_file), "-e", "production", "--auto-approve", env=both)
    assert elsewhere.exit_code == 1
    assert "was made for environment 'staging', not for 'production'; nothing was applied" in (
        elsewhere.output
    )
    assert production.requests_log() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], r"authform\.yaml:12:1: this manifest defines environments \(production, staging\): "),
        (
            ["-e", "prod"],
            r"authform\.yaml:12:1: unknown environment 'prod' \(defined: production, ",
        ),
        (["-e", "stagin"], r"did you mean 'staging'\?"),
    ],
)
def test_the_environment_must_be_named_and_known(cli, production, envs, args, message):
    both = envs["staging"] | envs["production"]
    for command in (["plan"], ["apply", "--auto-approve"], ["verify"], ["drift"]):
        result = cli.run(command[0], str(cli.folder), *command[1:], *args, env=both)
        assert result.exit_code == 1, (command, result.output)
        assert re.search(message, result.output), result.output
    assert cli.emulator.requests_log() == []
    assert production.requests_log() == []


def test_an_environment_given_to_a_manifest_without_environments_is_an_error(cli):
    result = cli.run("plan", str(cli.folder), "-e", "staging")
    assert result.exit_code == 1
    assert "--environment 'staging' was given, but this manifest defines no environments" in (
        result.output
    )
    assert cli.emulator.requests_log() == []


def test_only_the_chosen_environments_variables_are_needed(cli, production, envs):
    # Production's credentials are not set in the staging job, and need not be.
    result = cli.run("plan", str(cli.folder), "-e", "staging", env=envs["staging"])
    assert result.exit_code == 0, result.output
    missing = cli.run("plan", str(cli.folder), "-e", "production", env=envs["staging"])
    assert missing.exit_code == 1
    assert "PRODUCTION_WORKOS_API_KEY is not set" in missing.output
    assert "STAGING" not in missing.output
    assert production.requests_log() == []


def test_validate_checks_every_environment_with_positions(cli, production):
    cli.write(
        MANIFEST
        + """\
  preview:
    roles:
      - {slug: member, name: Member, permissions: ["reports:write"]}
    cors_origins: [https://preview.example.com/]
"""
    )
    result = cli.run("validate", str(cli.folder), "--without-credentials")
    assert result.exit_code == 1, result.output
    assert re.search(
        r"authform\.yaml:29:52: environments\.preview\.roles\[0\]\.permissions\[0\]: "
        r"unknown permission 'reports:write'",
        result.output,
    ), result.output
    assert re.search(
        r"authform\.yaml:30:20: environments\.preview\.cors_origins\[0\]: CORS origin must be",
        result.output,
    ), result.output
    # The preview environment has no target of its own and the top level defines none.
    assert re.search(
        r"authform\.yaml:27:3: missing required key 'target' \(neither the top level nor "
        r"environment 'preview' defines it\)",
        result.output,
    ), result.output
    assert cli.emulator.requests_log() == [] and production.requests_log() == []


def test_validate_names_the_environments_it_checked(cli, envs):
    both = envs["staging"] | envs["production"]
    result = cli.run("validate", str(cli.folder), env=both)
    assert result.exit_code == 0, result.output
    assert "valid (1 file(s), environments: production, staging)" in result.output
    one = cli.run("validate", str(cli.folder), "-e", "production", env=envs["production"])
    assert one.exit_code == 0, one.output
    assert "environments: production)" in one.output


def test_the_environments_example_converges_per_environment_on_the_embedded_emulator(
    tmp_path, monkeypatch
):
    """The documented example: each environment gets its own emulator state file, as each
    is its own tenant, and ends up with its own redirect URIs and organizations."""
    import shutil
    from pathlib import Path

    from typer.testing import CliRunner

    from authform.cli import app
    from authform.emulated_tenant import emulator_state_file

    example = Path(__file__).resolve().parents[2] / "manifests" / "examples" / "environments"
    shutil.copytree(example, tmp_path / "example")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {"NO_COLOR": "1", "STAGING_WORKOS_API_KEY": None, "PRODUCTION_WORKOS_API_KEY": None}
    for name in ("staging", "production"):
        applied = runner.invoke(
            app, ["apply", "example", "-e", name, "--emulate", "--auto-approve"], env=env
        )
        assert applied.exit_code == 0, applied.output
    for name in ("staging", "production"):
        planned = runner.invoke(
            app, ["plan", "example", "-e", name, "--emulate", "--detailed-exitcode"], env=env
        )
        assert planned.exit_code == 0, planned.output
        assert f"(environment: {name})" in planned.output

    for name, uris, keys in (
        ("staging", ["http://localhost:3000/callback", "https://staging.example.com/callback"],
         ["acme", "qa-sandbox"]),
        ("production", ["https://app.example.com/callback"], ["acme"]),
    ):  # fmt: skip
        state = tmp_path / emulator_state_file("example", "workos", name)
        with start_emulator("workos", db_path=state) as e:
            assert sorted(u["uri"] for u in listed(e, "/user_management/redirect_uris")) == uris
            assert sorted(o["external_id"] for o in listed(e, "/organizations")) == keys
