"""Saved plans that should apply: as they were made, whatever flags apply repeats, and with
nothing secret in the file. (Every refusal is in tests/hostile/test_saved_plan.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authform.cli import app

from .saved_plans import checkout, organizations, read_plan_file, twelve_organizations_then_five
from .test_import import FIXTURES, setup_import


@pytest.mark.parametrize("repeat", [[], ["--emulate"]], ids=["remembered", "repeated"])
def test_a_plan_made_with_emulate_applies_to_the_emulator(tmp_path, monkeypatch, repeat):
    """Issue 10, item 5: apply uses how the plan was made; repeating the flag is fine."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "authform.yaml").write_text(
        "version: 1\ntarget: {provider: workos}\norganizations: [{key: acme, name: Acme}]\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    made = runner.invoke(app, ["plan", "manifests", "--emulate", "--out", "plan.json"])
    assert made.exit_code == 0, made.output
    assert read_plan_file(Path("plan.json"))["made_with"]["emulate"] is True
    applied = runner.invoke(app, ["apply", "plan.json", "--auto-approve", *repeat])
    assert applied.exit_code == 0, applied.output
    assert "Applied 1 change(s)." in applied.output
    again = runner.invoke(app, ["plan", "manifests", "--emulate", "--detailed-exitcode"])
    assert again.exit_code == 0, again.output  # it landed in the emulator's state


def test_a_plan_made_with_force_applies_as_reviewed(cli, tmp_path):
    twelve_organizations_then_five(cli)
    plan_file = tmp_path / "plan.json"
    made = cli.run("plan", str(cli.folder), "--force", "--out", str(plan_file))
    assert made.exit_code == 0, made.output
    assert "Forced past safety threshold" in made.output
    applied = cli.run("apply", str(plan_file), "--auto-approve")  # --force is remembered
    assert applied.exit_code == 0, applied.output
    assert organizations(cli) == [f"org{i:02}" for i in range(5)]


def test_the_same_manifest_in_another_checkout_applies(cli, tmp_path, monkeypatch):
    """A plan made in the pull request's checkout applies in another runner's checkout: the
    manifest is recognised by its content, not by where it lies."""
    first = checkout(tmp_path / "first", "Acme")
    second = checkout(tmp_path / "second", "Acme")
    monkeypatch.chdir(first)
    assert cli.run("plan", "manifests", "--out", "plan.json").exit_code == 0
    shutil.move(first / "plan.json", second / "plan.json")
    shutil.rmtree(first)
    monkeypatch.chdir(second)
    applied = cli.run("apply", "plan.json", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert organizations(cli) == ["acme"]


def test_an_import_plan_holds_no_secret_and_applies_the_reviewed_digests(cli, tmp_path):
    env = setup_import(cli, tmp_path)
    plans = [tmp_path / "one.json", tmp_path / "two.json"]
    for plan_file in plans:
        made = cli.run("plan", str(cli.folder), "--out", str(plan_file), env=env)
        assert made.exit_code == 0, made.output
    text = plans[0].read_text(encoding="utf-8")
    export = (FIXTURES / "users.csv").read_text(encoding="utf-8")
    digests = [cell for line in export.splitlines() for cell in line.split(",") if "$" in cell]
    assert len(digests) >= 8
    canaries = ["cobol-forever-1959", "contraseña-segura", "penguin-power"]  # verify's logins
    for secret in [*digests, "JBSWY3DPEHPK3PXP", cli.emulator.api_key, *canaries]:
        assert secret not in text
    # Each plan has its own salt: the same digest never has the same fingerprint twice.
    first, second = (read_plan_file(p) for p in plans)
    grace = "user.user_2aGrace00000000000000002"
    tags = [
        next(c for c in plan["changes"] if c["address"] == grace)["secrets"]["password_hash"]
        for plan in (first, second)
    ]
    assert tags[0].startswith("hmac-sha256:") and tags[0] != tags[1]
    assert (
        first["fingerprints"]["source"]["password_digests"]
        != (second["fingerprints"]["source"]["password_digests"])
    )

    applied = cli.run("apply", str(plans[0]), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    verified = cli.run("verify", str(cli.folder), env=env)
    assert verified.exit_code == 0, verified.output
    assert "password login grace@example.com: signed in" in verified.output


def test_a_manifest_secret_is_fingerprinted_never_written(cli, tmp_path):
    manifest = (cli.folder / "authform.yaml").read_text(encoding="utf-8")
    cli.write(
        manifest.replace(
            "client_id: 1234.apps.googleusercontent.com}",
            'client_id: 1234.apps.googleusercontent.com, client_secret: "${env:GOOGLE_SECRET}"}',
        )
    )
    plan_file = tmp_path / "plan.json"
    made = cli.run(
        "plan", str(cli.folder), "--out", str(plan_file), env={"GOOGLE_SECRET": "GOCSPX-1"}
    )
    assert made.exit_code == 0, made.output
    assert "GOCSPX-1" not in plan_file.read_text(encoding="utf-8")
    cli.emulator.clear_log()
    moved = cli.run("apply", str(plan_file), "--auto-approve", env={"GOOGLE_SECRET": "GOCSPX-2"})
    assert moved.exit_code == 1, moved.output
    assert "a variable the manifest reads changed since this plan was made (section " in (
        moved.output
    )
    assert "GOCSPX" not in moved.output and cli.emulator.writes() == []


def test_only_a_saved_plan_or_its_apply_fingerprints_the_live_state(cli, tmp_path, monkeypatch):
    """The live state's fingerprint is a pass over everything read (a million users' worth);
    only ``plan --out`` seals it and only ``apply plan.json`` compares it. A plan that is not
    saved, an apply of the manifest and drift skip it."""
    from authform.engine.index import StateIndex

    fingerprinted: list[str] = []
    real = StateIndex.live_fingerprint

    def counted(self, kinds=None):
        fingerprinted.append("live")
        return real(self, kinds)

    monkeypatch.setattr(StateIndex, "live_fingerprint", counted)
    plan_file = tmp_path / "plan.json"

    def calls(*args: str) -> int:
        fingerprinted.clear()
        result = cli.run(*args)
        assert result.exit_code in (0, 2), result.output
        return len(fingerprinted)

    assert calls("plan", str(cli.folder)) == 0
    assert calls("plan", str(cli.folder), "--out", str(plan_file)) == 1
    assert calls("apply", str(plan_file), "--auto-approve") == 1
    assert read_plan_file(plan_file)["fingerprints"]["live"].startswith("hmac-sha256:")
    assert calls("apply", str(cli.folder), "--auto-approve") == 0
    assert calls("drift", str(cli.folder)) == 0
