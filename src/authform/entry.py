"""Entry point of the ``authform`` script and ``python -m authform``.

Importing the command line (typer, pydantic, the engine) and building its commands take a few
tenths of a second before any command's own Ctrl-C handling is in place; a Ctrl-C in that
time would otherwise end the process with Python's KeyboardInterrupt traceback and a signal
status. Only this module and ``exit_codes`` are imported before the guard."""

from __future__ import annotations

import _thread
import os
import sys
from typing import Any

from authform.exit_codes import EXIT_INTERRUPTED


def main() -> None:
    sys.unraisablehook = _redeliver_lost_interrupts(sys.unraisablehook)
    try:
        from authform.cli import main as run_command_line

        run_command_line()
    except KeyboardInterrupt:
        # Nothing has been written this early. os._exit, not sys.exit: a KeyboardInterrupt
        # that lands in code a library runs through exec() (dataclasses, typing helpers)
        # marks CPython's interpreter as stopped by SIGINT, even once caught, and it would
        # then end the process by the signal (exit -2) instead of with this code.
        sys.stderr.write("Interrupted.\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)


def _redeliver_lost_interrupts(report_unraisable: Any) -> Any:
    """``sys.unraisablehook`` that raises a Ctrl-C again rather than losing it.

    A Ctrl-C that lands where Python cannot raise it (Python code that pydantic-core's Rust
    calls while it builds a validator, a ``__del__``, a weakref callback) is otherwise
    printed as "Exception ignored in: ..." with its traceback, and the command goes on as if
    no key had been pressed. Here it is delivered once more, as the signal itself would be:
    the main thread raises it at its next step outside this hook, where the command's own
    handling reports "Interrupted." and exit 130. Every other unraisable error is reported
    as before."""

    def hook(unraisable: Any) -> None:
        try:
            if issubclass(unraisable.exc_type, KeyboardInterrupt):
                _interrupt_main_thread_soon()
                return
            report_unraisable(unraisable)
        except KeyboardInterrupt:  # the redelivered one, landing in this hook: once more
            _interrupt_main_thread_soon()

    return hook


def _interrupt_main_thread_soon() -> None:
    # From another thread, so that the main thread sees it once it takes the interpreter's
    # lock back, after this hook has returned: raised from within the hook, it would be
    # lost again, reported as an error of the hook itself.
    _thread.start_new_thread(_thread.interrupt_main, ())
