"""Entry point of the ``authform`` script and ``python -m authform``.

Importing the command line (typer, pydantic, the engine) and building its commands take a few
tenths of a second before any command's own Ctrl-C handling is in place; a Ctrl-C in that
time would otherwise end the process with Python's KeyboardInterrupt traceback and a signal
status. Only this module, ``exit_codes`` and ``interrupts`` are imported before the guard."""

from __future__ import annotations

import os
import signal
import sys

from authform.exit_codes import EXIT_INTERRUPTED
from authform.interrupts import (
    LostInterrupts,
    caused_by_ctrl_c,
    forget_escaped_interrupts,
    stop_on_sigterm_as_on_ctrl_c,
)


def main() -> None:
    lost_interrupts = LostInterrupts(sys.unraisablehook)
    sys.unraisablehook = lost_interrupts
    stop_on_sigterm_as_on_ctrl_c()
    try:
        from authform.cli import main as run_command_line

        run_command_line()
    except BaseException as stop:
        if not caused_by_ctrl_c(stop):
            raise
        # Nothing has been written this early. os._exit, not sys.exit: a KeyboardInterrupt
        # that lands in code a library runs through exec() (dataclasses, typing helpers)
        # marks CPython's interpreter as stopped by SIGINT, even once caught, and it would
        # then end the process by the signal (exit -2) instead of with this code.
        sys.stderr.write("Interrupted.\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    finally:
        # The command has ended, its work done and reported: a Ctrl-C (or SIGTERM, which
        # the command line takes as one) from now on ends the process at once, by the
        # signal, as it does any program with nothing to clean up (one pending from the
        # moments before is dropped). Raised here, it would replace the command's exit
        # with a KeyboardInterrupt traceback.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        lost_interrupts.command_running = False
        forget_escaped_interrupts()
