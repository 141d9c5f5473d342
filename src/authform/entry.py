"""Entry point of the ``authform`` script and ``python -m authform``.

Importing the command line (typer, pydantic, the engine) takes a few tenths of a second; a
Ctrl-C in that time would otherwise end the process with Python's KeyboardInterrupt traceback
and a signal status. Only this module and ``exit_codes`` are imported before the guard."""

from __future__ import annotations

import sys

from authform.exit_codes import EXIT_INTERRUPTED


def main() -> None:
    try:
        from authform.cli import main as run_command_line
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(EXIT_INTERRUPTED)
    run_command_line()
