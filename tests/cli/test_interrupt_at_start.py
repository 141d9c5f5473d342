"""Ctrl-C while the command line is still being imported (the first few tenths of a second of
every command): "Interrupted." and exit 130 as at any other moment, never Python's
KeyboardInterrupt traceback and a signal status (found: a Ctrl-C in the first half second
printed a traceback and ended the process by SIGINT, exit -2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BOUND_S = 20
# Where the command line's import is interrupted: a finder that raises KeyboardInterrupt,
# as Ctrl-C does, when ``authform.cli`` is imported.
INTERRUPTED_IMPORT = """
import sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "authform.cli":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["authform", "schema"]
from authform.entry import main
main()
"""


def test_ctrl_c_while_the_command_line_is_imported_exits_130_without_a_traceback(
    tmp_path: Path,
) -> None:
    run = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_IMPORT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=BOUND_S,
    )
    assert run.returncode == 130, run.stderr
    assert run.stderr == "Interrupted.\n"
    assert run.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_real_ctrl_c_in_the_first_moments_of_a_command_exits_130(tmp_path: Path) -> None:
    """The process as the ``authform`` script runs it, stopped at moments spread over its
    start: each is reported the same way, whichever import or step the signal lands in."""
    stopped = 0
    env = {**os.environ, "NO_COLOR": "1"}
    for delay in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4):
        run = subprocess.Popen(
            [sys.executable, "-m", "authform", "schema"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        if run.poll() is not None:  # a fast machine finished before this moment
            run.communicate()
            continue
        run.send_signal(signal.SIGINT)
        out, err = (part.decode() for part in run.communicate(timeout=BOUND_S))
        assert run.returncode == 130, (delay, run.returncode, out + err)
        assert "Interrupted." in err, (delay, err)
        assert "Traceback" not in out + err, (delay, err)
        stopped += 1
    assert stopped >= 2, "every command finished before it could be stopped"
    assert list(tmp_path.iterdir()) == []
