"""Ctrl-C while the command line is still being imported (the first few tenths of a second of
every command): "Interrupted." and exit 130 as at any other moment, never Python's
KeyboardInterrupt traceback and a signal status (found: a Ctrl-C in the first half second
printed a traceback and ended the process by SIGINT, exit -2). And a Ctrl-C that Python loses,
wraps in another error or records as escaped, at any moment of a command
(``authform.interrupts``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

BOUND_S = 20


def python(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """This Python run with ``arguments`` in ``cwd``, its output captured, bounded in time."""
    return subprocess.run(
        [sys.executable, *arguments], cwd=cwd, capture_output=True, text=True, timeout=BOUND_S
    )


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
    run = python("-c", INTERRUPTED_IMPORT, cwd=tmp_path)
    assert run.returncode == 130, run.stderr
    assert run.stderr == "Interrupted.\n"
    assert run.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


# How a Ctrl-C can land where Python does not raise it as it is, each at a chosen moment:
# - lost, where Python cannot raise it (found by CI: in Python code pydantic-core's Rust ran
#   while building a validator, and in importlib's weakref callback), printed as "Exception
#   ignored in: ..." with its traceback while the command went on: an object whose
#   ``__del__`` raises KeyboardInterrupt loses one the same way;
# - wrapped: Python 3.11 wraps an error raised in ``__set_name__`` as a class is built in a
#   RuntimeError, and the command line ended with it, exit 1 and a traceback (found by a real
#   Ctrl-C while ``authform.importing.passwords`` built a class);
# - escaping code run from a string (``exec``, as dataclasses build their methods), which
#   leaves CPython marked as stopped by SIGINT, caught or not: ``python -m authform`` then
#   ended by the signal (-2) after saying "Interrupted." (found by a Ctrl-C stress of apply).
CTRL_C_WAYS = """
import sys
import time

class LostInterrupt:
    def __del__(self):
        raise KeyboardInterrupt

class CtrlCOnSetName:
    def __set_name__(self, owner, name):
        raise KeyboardInterrupt

def build_a_class():
    class Built:
        field = CtrlCOnSetName()
"""
LOSE = "LostInterrupt()"
WRAP = "build_a_class()"
ESCAPE_EXEC = 'exec("raise KeyboardInterrupt")'


def while_the_command_line_is_imported(ctrl_c: str) -> str:
    """A script running ``authform schema`` whose import of ``authform.cli`` meets
    ``ctrl_c``."""
    return f"""{CTRL_C_WAYS}
class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "authform.cli":
            {ctrl_c}
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["authform", "schema"]
from authform.entry import main
main()
"""


def while_the_command_runs(ctrl_c: str) -> str:
    """A script running ``authform schema`` whose own work first meets ``ctrl_c``, then
    waits a second (far longer than an interrupt raised again takes to come back)."""
    return f"""{CTRL_C_WAYS}
import authform.manifest

write_schema = authform.manifest.manifest_json_schema

def interrupted_schema(*args, **kwargs):
    {ctrl_c}
    time.sleep(1)
    return write_schema(*args, **kwargs)

authform.manifest.manifest_json_schema = interrupted_schema
sys.argv = ["authform", "schema"]
from authform.entry import main
main()
"""


@pytest.mark.parametrize("ctrl_c", [LOSE, WRAP], ids=["lost", "wrapped"])
@pytest.mark.parametrize("moment", [while_the_command_line_is_imported, while_the_command_runs])
def test_a_ctrl_c_python_loses_or_wraps_still_exits_130(
    ctrl_c: str, moment: Callable[[str], str], tmp_path: Path
) -> None:
    run = python("-c", moment(ctrl_c), cwd=tmp_path)
    assert run.returncode == 130, run.stderr
    assert run.stderr == "Interrupted.\n"  # no "Exception ignored", no RuntimeError
    assert run.stdout == ""  # the command did not go on to print its schema
    assert list(tmp_path.iterdir()) == []


def test_a_ctrl_c_while_the_command_line_is_parsed_says_so_and_exits_130(tmp_path: Path) -> None:
    """Found: typer turns a Ctrl-C during the parsing of the arguments into exit 130 and not
    a word (2 of 200 real Ctrl-Cs into ``authform schema``)."""
    script = f"""{CTRL_C_WAYS}
import typer.core

def interrupted_parse(self, ctx, args):
    raise KeyboardInterrupt

typer.core.TyperGroup.parse_args = interrupted_parse
sys.argv = ["authform", "schema"]
from authform.entry import main
main()
"""
    run = python("-c", script, cwd=tmp_path)
    assert run.returncode == 130, run.stderr
    assert run.stderr == "Interrupted.\n"
    assert run.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_ctrl_c_escaping_exec_ends_python_m_authform_with_130_not_the_signal(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Run as a module (``-m``), as ``python -m authform`` is: only that way does CPython's
    # record decide the exit status once a SystemExit has given one.
    modules = tmp_path_factory.mktemp("modules")
    script = while_the_command_runs(ESCAPE_EXEC)
    (modules / "interrupted_schema.py").write_text(script, encoding="utf-8")
    run = python("-m", "interrupted_schema", cwd=modules)
    assert run.returncode == 130, (run.returncode, run.stderr)
    assert run.stderr == "Interrupted.\n"
    assert run.stdout == ""


def test_an_error_is_a_ctrl_c_only_when_raised_from_one() -> None:
    from authform.interrupts import caused_by_ctrl_c

    def raised_from(cause: BaseException) -> RuntimeError:
        try:
            raise RuntimeError("wrapping") from cause
        except RuntimeError as wrapped:
            return wrapped

    assert caused_by_ctrl_c(KeyboardInterrupt())
    assert caused_by_ctrl_c(raised_from(KeyboardInterrupt()))
    assert caused_by_ctrl_c(raised_from(raised_from(KeyboardInterrupt())))
    assert not caused_by_ctrl_c(RuntimeError("a bug"))
    assert not caused_by_ctrl_c(SystemExit(0))
    # An error raised while a Ctrl-C was being handled (its context) is an error of its own:
    # the cleanup that failed must be reported.
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise OSError("the cleanup failed") from None
    except OSError as during:
        assert not caused_by_ctrl_c(during)
    looped = RuntimeError("a cause that names itself")
    looped.__cause__ = looped
    assert not caused_by_ctrl_c(looped)


def test_a_ctrl_c_lost_after_the_command_ended_is_dropped_quietly(tmp_path: Path) -> None:
    """Lost as the interpreter shuts down (an exit handler), the command's work done and
    printed: nothing left to stop, no "Exception ignored" report, the command's own code."""
    script = while_the_command_line_is_imported("pass").replace(
        "sys.meta_path.insert(0, CtrlC())", "import atexit; atexit.register(LostInterrupt)"
    )
    run = python("-c", script, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert json.loads(run.stdout)["$schema"]
    assert list(tmp_path.iterdir()) == []


def test_once_the_command_has_ended_a_ctrl_c_ends_the_process_by_the_signal(
    tmp_path: Path,
) -> None:
    """Raised as the command's exit is under way, a KeyboardInterrupt would replace that exit
    with a traceback: from then on Ctrl-C has its default action (an exit handler, run
    after the command, reports the handler it finds)."""
    script = while_the_command_line_is_imported("pass").replace(
        "sys.meta_path.insert(0, CtrlC())",
        "import atexit, signal\n"
        "atexit.register(lambda: print(\n"
        "    'default' if signal.getsignal(signal.SIGINT) == signal.SIG_DFL else 'handled',\n"
        "    file=sys.stderr,\n"
        "))",
    )
    run = python("-c", script, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "default\n"
    assert json.loads(run.stdout)["$schema"]


def test_other_errors_python_cannot_raise_are_still_reported_as_python_reports_them(
    tmp_path: Path,
) -> None:
    script = while_the_command_line_is_imported(LOSE).replace(
        "raise KeyboardInterrupt", "raise ValueError('a broken finalizer')", 1
    )
    run = python("-c", script, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Exception ignored in" in run.stderr
    assert "ValueError: a broken finalizer" in run.stderr
    assert json.loads(run.stdout)["$schema"]


def _unguarded_start_s() -> float:
    """How long the interpreter takes to reach ``authform.entry``'s guard (its own start and
    ``runpy`` finding the package): a Ctrl-C before then is Python's to report. The slowest
    of three, as the machine runs now."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import authform.entry"], check=True, timeout=BOUND_S)
        times.append(time.perf_counter() - started)
    return max(times)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_real_ctrl_c_in_the_first_moments_of_a_command_exits_130(
    stop: signal.Signals, tmp_path: Path
) -> None:
    """The process as ``python -m authform`` runs it, stopped at moments spread over its start
    (imports, building the commands, the command itself): each is reported the same way,
    whichever step the signal lands in. SIGTERM too, taken as a Ctrl-C (found: it ended the
    process by the signal, -15, while the command line was imported)."""
    start = _unguarded_start_s()
    stopped = 0
    env = {**os.environ, "NO_COLOR": "1"}
    for multiple in (2, 3, 4, 6, 8, 10, 12):
        run = subprocess.Popen(
            [sys.executable, "-m", "authform", "schema"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(start * multiple)
        if run.poll() is not None:  # a fast machine finished before this moment
            run.communicate()
            continue
        run.send_signal(stop)
        out, err = (part.decode() for part in run.communicate(timeout=BOUND_S))
        assert "Traceback" not in out + err, (multiple, err)
        assert "Exception ignored" not in err, (multiple, err)
        if run.returncode in (0, -stop) and not err:
            # The signal came as the process exited, its work done: Python ends by the
            # signal itself then (a shell sees 130 all the same), or not at all.
            assert json.loads(out)["$schema"], out[:200]
            continue
        assert run.returncode == 130, (multiple, run.returncode, out + err)
        assert "Interrupted." in err, (multiple, err)
        stopped += 1
    assert stopped >= 2, "every command finished before it could be stopped"
    assert list(tmp_path.iterdir()) == []
