"""Apply, apply a damaging change, undo it: the original manifest then plans no change."""

from __future__ import annotations

from .scenes import ORIGINAL, apply_then_damage


def test_undo_of_a_damaging_apply_restores_the_original_state(cli):
    journal = apply_then_damage(cli)

    plan = cli.run("undo", str(journal), str(cli.folder), "--out", "undo.json")
    assert plan.exit_code == 2, plan.output
    for line in (
        "+ permission.reports:read",
        "~ role.member",
        "~ role.admin",
        "~ organization.acme",
        "- organization.initech",
        "- redirect_uri.https://evil.example.com/callback",
    ):
        assert line in plan.output, plan.output
    writes_before = len(cli.emulator.writes())
    applied = cli.run("apply", "undo.json", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert len(cli.emulator.writes()) > writes_before

    cli.write(ORIGINAL)
    after = cli.run("plan", str(cli.folder), "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    assert "No changes" in after.output
