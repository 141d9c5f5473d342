"""Undo reviewed like any plan: deletes stay opt-in, a second undo has nothing to do, an
apply under --emulate is undone under --emulate, and its JSON plan is the ordinary one."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import journals
from .scenes import DAMAGING, ORIGINAL, apply_then_damage


def test_undo_deletes_stay_opt_in_and_the_rest_is_applied(cli):
    journal = apply_then_damage(cli)
    cli.write(ORIGINAL)  # the team reverted the manifest: no policy.allow_delete in it
    plan = cli.run("undo", str(journal), str(cli.folder), "--out", "undo.json")
    assert plan.exit_code == 2, plan.output
    assert "- organization.initech  [not applied: deletes are not allowed" in plan.output
    applied = cli.run("apply", "undo.json", "--auto-approve")
    assert applied.exit_code == 2, applied.output  # the deletes stay pending
    after = cli.run("plan", str(cli.folder), "--detailed-exitcode")
    assert after.exit_code == 2, after.output
    assert "+ " not in after.output and "~ " not in after.output  # only the deletes are left


def test_a_second_undo_has_nothing_to_undo_and_exits_0(cli):
    journal = apply_then_damage(cli)
    assert cli.run("undo", str(journal), str(cli.folder), "--out", "undo.json").exit_code == 2
    assert cli.run("apply", "undo.json", "--auto-approve").exit_code == 0
    again = cli.run("undo", str(journal), str(cli.folder), "--out", "again.json")
    assert again.exit_code == 0, again.output
    assert "Nothing to undo: again.json was not written." in again.output
    assert not Path("again.json").exists()
    assert "6 item(s) are already as they were before that apply" in again.output
    assert "No changes" in again.output
    # The undo's own apply wrote a journal too: undoing it puts the damage back.
    redo = cli.run("undo", str(journals()[-1]), str(cli.folder))
    assert redo.exit_code == 2, redo.output
    assert "+ organization.initech" in redo.output


def test_an_emulated_apply_is_undone_on_its_emulated_tenant(cli):
    cli.write(ORIGINAL)
    assert cli.run("apply", str(cli.folder), "--emulate", "--auto-approve").exit_code == 0
    cli.write(DAMAGING)
    assert cli.run("apply", str(cli.folder), "--emulate", "--auto-approve").exit_code == 0
    journal = journals()[-1]
    real = cli.run("undo", str(journal), str(cli.folder))
    assert real.exit_code == 1 and "from an apply to another target" in real.output
    plan = cli.run("undo", str(journal), str(cli.folder), "--emulate", "-f", "json")
    assert plan.exit_code == 2, plan.output
    document = json.loads(plan.stdout)
    assert {c["address"] for c in document["changes"]} == {
        "permission.reports:read",
        "role.admin",
        "role.member",
        "organization.acme",
        "organization.initech",
        "redirect_uri.https://evil.example.com/callback",
    }
    assert cli.emulator.writes() == []
