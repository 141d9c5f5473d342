"""The one place any failure during apply becomes an outcome (issue 9, finding 4): even an
exception no one foresaw ends with what was done, what was not, and the reason."""

from __future__ import annotations

import asyncio
import io

from authform.applying import run_apply
from authform.engine.plan import Action, Change
from authform.render.progress import ProgressReporter
from authform.workflow import open_session


def test_an_unforeseen_exception_mid_apply_becomes_an_outcome(cli, monkeypatch):
    async def dashboard_that_breaks(change: Change) -> None:
        raise RuntimeError("the dashboard step broke")

    async def body():
        async with open_session(cli.folder) as session:
            session.manual_executor = dashboard_that_breaks
            plan = await session.plan()
            stream = io.StringIO()
            outcome = await run_apply(session, plan, ProgressReporter(stream, tty=True))
            return plan, outcome, stream.getvalue()

    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)
    plan, outcome, progress = asyncio.run(body())
    assert outcome.stopped == (
        "unexpected RuntimeError: the dashboard step broke (a bug in authform: please report "
        "it with this message)"
    )
    assert not outcome.ok and not outcome.interrupted
    manual = [c for c in plan.changes if c.action is Action.MANUAL]
    assert outcome.result.not_reached == manual
    assert len(outcome.result.applied) == len(plan.changes) - len(manual)
    assert progress.endswith("\n")  # the terminal's progress line was closed
    lines = outcome.closing_lines()
    assert lines[0].startswith("Error: apply stopped: unexpected RuntimeError")
    assert (
        lines[1] == f"{len(outcome.result.applied)} of {outcome.total} changes applied, "
        f"1 not reached or not confirmed."
    )
    assert lines[2].startswith("Run `authform apply` again to resume")
