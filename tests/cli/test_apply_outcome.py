"""The one place any failure during apply becomes an outcome (issue 9, finding 4): even an
exception no one foresaw ends with what was done, what was not, and the reason."""

from __future__ import annotations

import asyncio
import io

from authform.applying import run_apply
from authform.engine.plan import Action
from authform.render.progress import ProgressReporter
from authform.resources import Kind, Resource
from authform.workflow import open_session


def test_an_unforeseen_exception_mid_apply_becomes_an_outcome(cli, monkeypatch):
    async def body():
        async with open_session(cli.folder) as session:
            create = session.provider.create

            async def create_that_breaks_on_origins(desired: Resource) -> Resource:
                if desired.kind is Kind.CORS_ORIGIN:
                    raise RuntimeError("the CORS origin create broke")
                if desired.kind is Kind.REDIRECT_URI:
                    # A terminal's live line is drawn at most every 0.2 s: let it be drawn
                    # before the break, so closing it is something to check.
                    await asyncio.sleep(0.25)
                return await create(desired)

            # The last kind apply writes: everything before it is applied by then.
            session.provider.create = create_that_breaks_on_origins  # type: ignore[method-assign]
            plan = await session.plan()
            stream = io.StringIO()
            outcome = await run_apply(session, plan, ProgressReporter(stream, tty=True))
            return plan, outcome, stream.getvalue()

    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)
    plan, outcome, progress = asyncio.run(body())
    assert outcome.stopped == (
        "unexpected RuntimeError: the CORS origin create broke (a bug in authform: please "
        "report it with this message)"
    )
    assert not outcome.ok and not outcome.interrupted
    unfinished = [
        c for c in plan.changes if c.kind is Kind.CORS_ORIGIN or c.action is Action.MANUAL
    ]
    assert outcome.result.not_reached == unfinished
    assert len(outcome.result.applied) == len(plan.changes) - len(unfinished)
    assert progress.endswith("\n")  # the terminal's progress line was closed
    lines = outcome.closing_lines()
    assert lines[0].startswith("Error: apply stopped: unexpected RuntimeError")
    assert (
        lines[1] == f"{len(outcome.result.applied)} of {outcome.total} changes applied, "
        f"{len(unfinished)} not reached or not confirmed."
    )
    assert lines[2].startswith("Run `authform apply` again to resume")


class ClosedPipe(io.StringIO):
    """A progress stream whose reader has gone (``2>&1 | head``, a dead log collector)."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise BrokenPipeError(32, "Broken pipe")


def test_progress_that_cannot_be_written_does_not_stop_the_apply(cli, monkeypatch):
    """Found: the broken pipe of the progress line stopped an apply halfway ("apply stopped:
    cannot write: Broken pipe", the rest not reached)."""

    async def body():
        async with open_session(cli.folder) as session:
            create = session.provider.create

            async def slow_first_create(desired: Resource) -> Resource:
                # Past the terminal line's 0.2 s, so the next change draws it mid-apply.
                if desired.kind is Kind.REDIRECT_URI:
                    await asyncio.sleep(0.25)
                return await create(desired)

            session.provider.create = slow_first_create  # type: ignore[method-assign]
            plan = await session.plan()
            stream = ClosedPipe()
            outcome = await run_apply(session, plan, ProgressReporter(stream, tty=True))
            return plan, outcome, stream

    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)
    plan, outcome, stream = asyncio.run(body())
    assert stream.writes == 1  # tried once mid-apply, then silent
    assert outcome.stopped is None and not outcome.interrupted
    automatic = [c for c in plan.changes if c.action is not Action.MANUAL]
    assert len(outcome.result.applied) == len(automatic)
    assert outcome.result.not_reached == []
