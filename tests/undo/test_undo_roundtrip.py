"""Apply, apply a damaging change, undo it: the original manifest then plans no change."""

from __future__ import annotations

import asyncio

from authform.engine.plan import Plan
from authform.undo import read_journal, undo_plan
from authform.workflow import open_session

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


def test_each_undo_change_names_the_journal_line_it_comes_from(cli, monkeypatch):
    """The restored item's origin is its journal line, as a manifest item's is its YAML line:
    the plan (JSON ``source``, annotations) names what caused the change."""
    journal = apply_then_damage(cli)
    lines = journal.read_text(encoding="utf-8").splitlines()
    row = next(n for n, line in enumerate(lines, 1) if '"address":"organization.acme"' in line)
    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)

    async def undo() -> Plan:
        async with open_session(cli.folder) as session:
            return await undo_plan(session, read_journal(journal))

    changes = {c.address: c for c in asyncio.run(undo()).changes}
    restored = changes["organization.acme"].desired
    assert restored is not None and restored.origin == {"file": str(journal), "row": row}
