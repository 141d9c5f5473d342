"""Ctrl-C where Python would lose it, disguise it or misreport it, and SIGTERM taken as one.

Python raises a Ctrl-C as KeyboardInterrupt at the next step of the main thread. Where that
step cannot raise (Python code run from C or Rust, a finalizer) the interrupt is lost; where
a step wraps what it raises (Python 3.11 wraps an error in ``__set_name__`` in a
RuntimeError) it no longer looks like one; where it escapes code run from a string, CPython
records it and later ends the process by the signal whatever exit code was given. All three
are found by real signals in the first moments of a command, while modules are imported and
classes built. Imports nothing beyond the standard library, as the script's entry point uses
it before the command line exists."""

from __future__ import annotations

import _thread
import contextlib
import signal
from types import FrameType
from typing import Any


def stop_on_sigterm_as_on_ctrl_c() -> None:
    """From now on SIGTERM stops the command as Ctrl-C does.

    CI runners cancelling a job, ``docker stop`` and Kubernetes send SIGTERM; by default it
    ends the process at once, mid-write, with no word of how far an apply got and its
    journal and reports unfinished. Handed to whatever handles Ctrl-C at that moment (the
    running command's event loop, or Python's KeyboardInterrupt), it gets the same answer:
    an apply says how far it got and closes its journal, and the exit is "Interrupted.",
    130."""
    signal.signal(signal.SIGTERM, _as_ctrl_c)


def _as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    handle_ctrl_c = signal.getsignal(signal.SIGINT)
    if callable(handle_ctrl_c):
        handle_ctrl_c(signal.SIGINT, frame)


def caused_by_ctrl_c(error: BaseException) -> bool:
    """Whether ``error`` is a KeyboardInterrupt or was raised from one (``raise ... from``,
    as Python itself does where it wraps one)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__
    return False


def forget_escaped_interrupts() -> None:
    """Clear CPython's record that a KeyboardInterrupt escaped code run from a string.

    Where a Ctrl-C escapes code that ``exec()`` or ``eval()`` runs from a string (dataclasses
    and named tuples build their methods so, as modules are imported), CPython 3.11 records
    it, caught or not, and at exit ends the process by SIGINT itself instead of with the
    command's exit code (``python -m authform`` then ends with -2 where "Interrupted." said
    130; a finished command likewise). The record is cleared by the next such run that
    ends without one: this one. Called once the command has ended, which every Ctrl-C
    reaching it has been reported by."""
    exec("")  # an empty program, run for its side effect described above


class LostInterrupts:
    """``sys.unraisablehook`` that raises a Ctrl-C again rather than losing it.

    A Ctrl-C that lands where Python cannot raise it (Python code that pydantic-core's Rust
    calls while it builds a validator, a ``__del__``, a weakref callback) is otherwise
    printed as "Exception ignored in: ..." with its traceback, and the command goes on as if
    no key had been pressed. While the command runs, it is delivered once more, as the
    signal itself would be: the main thread raises it at its next step outside this hook,
    where the command's own handling reports "Interrupted." and exit 130. Once the command
    has ended (its work done and reported, the interpreter shutting down), there is nothing
    left to stop, and it is dropped without a word. Every other unraisable error is
    reported as before."""

    def __init__(self, report_unraisable: Any) -> None:
        self.report_unraisable = report_unraisable
        self.command_running = True

    def __call__(self, unraisable: Any) -> None:
        try:
            if issubclass(unraisable.exc_type, KeyboardInterrupt):
                self._deliver_again()
                return
            self.report_unraisable(unraisable)
        except KeyboardInterrupt:  # the one delivered again, landing in this hook
            self._deliver_again()

    def _deliver_again(self) -> None:
        if not self.command_running:
            return
        # From another thread, so that the main thread sees it once it takes the
        # interpreter's lock back, after this hook has returned: raised from within the
        # hook, it would be lost again, reported as an error of the hook itself.
        # No new thread as the interpreter shuts down: nothing is left to stop then.
        with contextlib.suppress(RuntimeError):
            _thread.start_new_thread(_thread.interrupt_main, ())
