"""The one assertion every hostile-input test makes: refused cleanly, and nothing written.

A refusal is the documented exit code, a message that says where and what, no Python
traceback (in the output, or as an exception escaping the command), and no write in the
emulator's request log. Each finding of the hostile-input suite is one call of
``assert_refused``, so the suite cannot quietly assert less for some cases than others.
"""

from __future__ import annotations

import re
from typing import Any

from authform.emulators import RunningEmulator


def assert_refused(
    result: Any,
    message: str,
    *,
    emulator: RunningEmulator | None = None,
    exit_code: int = 1,
) -> None:
    """``result`` is a CliRunner result or a ``subprocess.CompletedProcess``; ``message`` is a
    regular expression searched in everything the command printed."""
    if hasattr(result, "exit_code"):  # click's CliRunner
        output = result.output  # stdout and stderr, interleaved
        code = result.exit_code
        escaped = result.exception
        assert escaped is None or isinstance(escaped, SystemExit), (
            f"an exception escaped the command: {escaped!r}\n{output}"
        )
    else:  # subprocess.CompletedProcess with text output
        output = (result.stdout or "") + (result.stderr or "")
        code = result.returncode
    assert code == exit_code, f"exit {code}, expected {exit_code}:\n{output}"
    assert "Traceback" not in output, output
    assert re.search(message, output), f"{message!r} not in:\n{output}"
    if emulator is not None:
        assert emulator.writes() == [], emulator.writes()
