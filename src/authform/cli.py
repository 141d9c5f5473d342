"""Command line: parse arguments, call the workflow, map outcomes to exit codes.

Exit codes, the same for every command: 0 done and nothing pending; 1 error (bad input, API
failure, unsafe plan refused); 2 changes pending or drift found; 3 verification failed;
130 interrupted (Ctrl-C), after saying how far it got.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import json
import logging
import os
import shlex
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

from authform import __version__
from authform.addresses import AddressPattern
from authform.engine.plan import Plan
from authform.engine.selection import Selection, SelectionError, ignore_for_drift
from authform.exit_codes import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_VERIFY_FAILED,
)
from authform.interrupts import caused_by_ctrl_c, stop_on_sigterm_as_on_ctrl_c
from authform.manifest import Diagnostic, ManifestError, load_every_environment, load_manifest
from authform.manifest.loader import find_manifest_files
from authform.output_paths import (
    OutputPathError,
    check_output_file,
    check_output_folder,
    write_failure,
)
from authform.phase_times import phase
from authform.providers.base import ProviderError
from authform.redaction import SECRETS, redact
from authform.render.github import (
    diagnostic_annotations,
    error_annotation,
    in_github_actions,
    plan_annotations,
)
from authform.render.progress import ProgressReporter
from authform.render.sources import ChangeSources
from authform.render.text import render_apply, render_plan, render_verify, use_colour
from authform.workflow import open_session

# Saved plans, undo journals, the apply runner and the JSON, JUnit and Markdown renderers are
# imported by the commands that use them: `authform plan` (run on every pull request, and
# in a large import twice) does not pay for what it never runs.


# The click that typer parses with: typer 0.26 and later bundle their own copy (typer._click),
# earlier releases used the click package. ``typer.BadParameter`` is click's, either way, so
# its module is the one whose exceptions the parser raises.
_click_exceptions: ModuleType = sys.modules[typer.BadParameter.__module__]
# A declined prompt or end of input: typer's own Abort since 0.26, click's before.
_ABORTS: tuple[type[BaseException], ...] = (
    typer.Abort,
    getattr(_click_exceptions, "Abort", typer.Abort),
)


class AuthformGroup(TyperGroup):
    """The command group, with authform's handling of command-line mistakes.

    A usage error (unknown option, bad value, missing argument) prints the usage line, the
    hint to ``--help`` and one line saying what was wrong, and exits 1 like every other bad
    input: click's own code for it is 2, which authform reserves for "changes pending". It
    lives here rather than in ``main`` so that every way of running the app (the console
    script, ``python -m authform``, a test's CliRunner) behaves the same.
    """

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _click_exceptions.ClickException as exc:
            if isinstance(exc, _click_exceptions.UsageError) and exc.ctx is None:
                exc.ctx = self._context_for(args, prog_name)
            exc.show()
            result = EXIT_ERROR
        except _ABORTS as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # click before typer 0.26
                typer.echo("Interrupted.", err=True)
                result = EXIT_INTERRUPTED
            else:
                typer.echo("Aborted.", err=True)
                result = EXIT_ERROR
        code = result if isinstance(result, int) else EXIT_OK
        if standalone_mode:
            sys.exit(code)
        return code

    # Ctrl-C outside an apply's writes (an apply says itself how far it got), while the
    # command line is parsed or a command runs: typer 0.26 and later turn it into a silent
    # exit 130, so it is caught before typer sees it (found: 2 in 200 real Ctrl-Cs landed in
    # the parsing and ended with 130 and not a word).

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _ctrl_c_reported():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        try:
            with _ctrl_c_reported():
                return super().invoke(ctx)
        except BrokenPipeError as closed:  # click would end with exit 1 and not a word
            _cannot_write(closed)

    def _context_for(self, args: Any, prog_name: str | None) -> typer.Context:
        """The context of the command ``args`` name, for a usage error raised without one
        (click's parser raises "option requires an argument" so): it prints the usage line
        and the ``-h`` hint of that command, as every other usage error does."""
        words = [str(word) for word in (sys.argv[1:] if args is None else args)]
        root = typer.Context(self, info_name=prog_name or "authform", **self.context_settings)
        name = next((word for word in words if word in self.commands), None)
        if name is None:
            return root
        return typer.Context(self.commands[name], info_name=name, parent=root)


@contextmanager
def _ctrl_c_reported() -> Iterator[None]:
    """A Ctrl-C inside, also one wrapped in another error (a class built as it came), says
    "Interrupted." and exits 130."""
    try:
        yield
    except BaseException as stop:
        if not caused_by_ctrl_c(stop):
            raise
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


app = typer.Typer(
    cls=AuthformGroup,
    no_args_is_help=True,
    # Plain click help: paragraphs re-wrapped to the terminal, flags shown as flags, the same
    # output on every typer release (its rich panels change between releases).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Identity-provider configuration as code: plan, apply, verify, drift.",
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"authform {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Identity-provider configuration as code: plan, apply, verify, drift.

    Exit codes, the same for every command: 0 done and nothing pending; 1 error (bad input,
    API failure, unsafe plan refused); 2 changes pending or drift found; 3 verification
    failed.
    """


T = TypeVar("T")


class EmulatedProvider(StrEnum):
    workos = "workos"
    scalekit = "scalekit"
    clerk = "clerk"


class OutputFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


class Annotations(StrEnum):
    github = "github"
    none = "none"


class ValidateFormat(StrEnum):
    text = "text"
    github = "github"


ManifestPath = Annotated[
    Path,
    typer.Argument(help="A manifest file or a folder of them.", show_default=True, metavar="PATH"),
]
EmulateOpt = Annotated[
    bool,
    typer.Option(
        "--emulate",
        help="Run against the embedded emulator of the manifest's provider (its state in "
        ".authform/, one tenant per manifest). Exit codes are the real tenant's: dashboard "
        "steps stay pending until `authform emulator dashboard`.",
    ),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Proceed past the policy's safety thresholds.")
]
FullOpt = Annotated[
    bool, typer.Option("--full", help="List every change, even thousands of the same kind.")
]
AnnotationsOpt = Annotated[
    Annotations | None,
    typer.Option(
        "--annotations",
        help="github: also print each change as a GitHub Actions notice on the manifest line "
        "that caused it (on stderr; counts per file for imported records). Default: github "
        "on GitHub Actions (GITHUB_ACTIONS=true), none elsewhere.",
        show_default=False,
    ),
]


def _address_option(flag: str, meaning: str) -> Any:
    """An option naming items by address pattern (``--target``, ``--exclude``): both are
    declared alike, only their flag and meaning differ."""
    return typer.Option(flag, metavar="ADDRESS", help=meaning, show_default=False)


TargetOpt = Annotated[
    list[str] | None,
    _address_option(
        "--target",
        "Plan only this item (kind.key, as plans print it; * in the key for many, e.g. "
        "user.* or organization.acme). Repeatable. What it needs (a membership's user, "
        "organization and role; a role's permissions) is pulled in.",
    ),
]
ExcludeOpt = Annotated[
    list[str] | None,
    _address_option(
        "--exclude",
        "Leave this item out (same patterns as --target). Repeatable. Refused when a "
        "planned item needs it.",
    ),
]
EnvironmentOpt = Annotated[
    str | None,
    typer.Option("--environment", "-e", metavar="NAME", help="Name of the target environment."),
]


def _echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print command output with every known secret redacted (see ``authform.redaction``)."""
    typer.echo(redact(text), err=err, nl=nl)


def _echo_json(document: dict[str, Any]) -> None:
    """A JSON document on stdout, written a block at a time: its streamed lists (a million
    changes or checks) are never held whole, nor is the text."""
    from authform.render.json_stream import buffered, json_chunks

    for block in buffered(json_chunks(document)):
        _echo(block, nl=False)
    _echo("")


def _fail(message: str) -> NoReturn:
    SECRETS.add_environment()
    _echo(f"Error: {message}", err=True)
    if in_github_actions():
        _echo(error_annotation(message), err=True)
    raise typer.Exit(EXIT_ERROR)


class _StderrHandler(logging.Handler):
    """Log records as ``authform: message`` lines on the current stderr (looked up at each
    record: test runners swap it), redacted like every other output."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(redact(f"authform: {record.getMessage()}") + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def _configure_logging() -> None:
    """Warnings from the HTTP layer (retrying an unreachable host) reach stderr once."""
    root = logging.getLogger("authform")
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        root.addHandler(_StderrHandler(logging.WARNING))
        root.propagate = False


def _problems(count: int) -> str:
    return f"the manifest has {count} problem{'s' if count != 1 else ''}."


def _report_manifest_error(diagnostics: list[Diagnostic]) -> NoReturn:
    """Every problem as ``file:line:column: message``; on GitHub Actions also as annotations
    on those lines of the pull request's diff (see ``render.github`` for the rule)."""
    for diagnostic in diagnostics:
        typer.echo(str(diagnostic), err=True)
    if in_github_actions():
        for line in diagnostic_annotations(diagnostics):
            typer.echo(line, err=True)
    typer.echo(f"Error: {_problems(len(diagnostics))}", err=True)
    raise typer.Exit(EXIT_ERROR)


def _run(step: Callable[[], Awaitable[T]]) -> T:
    """Run one async command body, turning known failures into exit code 1 with a message."""
    _configure_logging()
    SECRETS.clear()  # this command's secrets: the environment's now, the manifest's on load
    SECRETS.add_environment()
    try:
        return asyncio.run(step())  # type: ignore[arg-type]
    except ManifestError as exc:
        _report_manifest_error(exc.diagnostics)
    except (ProviderError, OutputPathError, SelectionError) as exc:
        _fail(str(exc))
    except OSError as exc:  # an output file that could not be written after all
        _cannot_write(exc)
    except Exception as exc:
        if isinstance(exc, _lazily_imported_failures()):
            _fail(str(exc))
        raise


def _lazily_imported_failures() -> tuple[type[Exception], ...]:
    """The failures of modules the commands import when they need them (see the imports)."""
    from authform.saved_plan import SavedPlanError
    from authform.undo import JournalError

    return (SavedPlanError, JournalError)


def _cannot_write(exc: OSError) -> NoReturn:
    if isinstance(exc, BrokenPipeError):
        _let_go_of_closed_stdout()
        _fail("cannot write the output: its reader has closed the pipe")
    _fail(write_failure(exc))


def _let_go_of_closed_stdout() -> None:
    """Point standard output at the null device when its reader has gone (``| head``):
    what it still buffers would fail again as the interpreter exits, as "Exception ignored
    ... BrokenPipeError" and exit 120."""
    try:
        sys.stdout.flush()
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


def _check_output(check: Callable[[], None]) -> None:
    """An output path that cannot be written stops the command before any request."""
    try:
        check()
    except OutputPathError as exc:
        _fail(str(exc))


def _print_plan(
    plan: Plan,
    output: OutputFormat,
    sources: ChangeSources,
    *,
    full: bool = False,
    annotations: Annotations | None = None,
    saved_to: Path | None = None,
) -> None:
    """The plan in ``output``'s format, each change with what caused it; on GitHub Actions
    (or with --annotations github) also as notices on those lines, on stderr so a JSON plan
    on stdout stays JSON."""
    with phase("render plan"):
        _render_plan(plan, output, sources, full=full, annotations=annotations, saved_to=saved_to)


def _render_plan(
    plan: Plan,
    output: OutputFormat,
    sources: ChangeSources,
    *,
    full: bool,
    annotations: Annotations | None,
    saved_to: Path | None,
) -> None:
    limit = None if full else 50
    if output is OutputFormat.json:
        from authform.render.json_output import plan_document

        _echo_json(plan_document(plan, sources))
    elif output is OutputFormat.markdown:
        from authform.render.markdown import render_plan_markdown

        # Bounded to fit a pull-request comment; the saved plan, if any, holds every change.
        full_plan = None if saved_to is None else f"`{saved_to.name}`"
        markdown = render_plan_markdown(
            plan, max_per_group=None if full else 30, full_plan=full_plan, sources=sources
        )
        _echo(markdown, nl=False)
    else:
        colour = use_colour(sys.stdout)
        _echo(render_plan(plan, colour=colour, max_per_group=limit, sources=sources), nl=False)
    wanted = annotations or (Annotations.github if in_github_actions() else Annotations.none)
    if wanted is Annotations.github:
        for line in plan_annotations(plan, sources):
            _echo(line, err=True)


def _selection(targets: list[str] | None, excludes: list[str] | None) -> Selection:
    """--target/--exclude, checked before the manifest is read or anything is requested."""
    try:
        return Selection.parse(targets or (), excludes or ())
    except SelectionError as exc:
        _fail(str(exc))


def manifest_folders(changed: list[Path]) -> list[Path]:
    """The manifest folders holding ``changed`` files (as a pre-commit hook passes them):
    each file's own folder, since a folder's ``*.yaml`` files merge into one manifest. Each
    folder once, in order; a file that is not YAML names no manifest."""
    folders: dict[Path, None] = {}
    for file in changed:
        if file.suffix in (".yaml", ".yml") and not file.name.startswith("."):
            folders.setdefault(file.parent if str(file.parent) else Path("."), None)
    return list(folders)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Manifest files or folders (default: manifests); with --changed, changed files.",
            show_default=False,
            metavar="PATH...",
        ),
    ] = None,
    output: Annotated[
        ValidateFormat,
        typer.Option(
            "--format", "-f", help="text, or github: only GitHub Actions annotations, on stdout."
        ),
    ] = ValidateFormat.text,
    changed: Annotated[
        bool,
        typer.Option(
            "--changed",
            help="PATHS are changed files (as pre-commit passes them): validate the folder "
            "holding each one, once.",
        ),
    ] = False,
    without_credentials: Annotated[
        bool,
        typer.Option(
            "--without-credentials",
            help="Unset variables in credentials are fine: inside target, in other secrets "
            "(client_secret, a source's secret_key) and under verify. For pre-commit and fork "
            "pull requests, where secrets are not set.",
        ),
    ] = False,
    environment: EnvironmentOpt = None,
) -> None:
    """Check manifests offline, without calling any provider.

    Syntax, types, references, duplicates and variables, in every environment (or just the
    one --environment names). Every problem is reported at once, each with file:line:column.
    """
    targets = list(paths or [Path("manifests")])
    if changed:
        targets = manifest_folders(targets)
    diagnostics: list[Diagnostic] = []
    summaries: list[str] = []
    for target in targets:
        if changed and not find_manifest_files(target)[0]:
            continue
        try:
            # Without --without-credentials every variable must be set, also those of the
            # secrets only one command reads (verify's canary passwords).
            strict = not without_credentials
            if environment is None:
                loaded = load_every_environment(
                    target, emulate=without_credentials, require_secrets=strict
                )
            else:
                loaded = [
                    load_manifest(
                        target,
                        emulate=without_credentials,
                        environment=environment,
                        require_secrets=strict,
                    )
                ]
        except ManifestError as exc:
            diagnostics += exc.diagnostics
            continue
        names = [one.environment for one in loaded if one.environment]
        where = f", environments: {', '.join(names)}" if names else ""
        summaries.append(f"{target}: valid ({len(loaded[0].files)} file(s){where}).")
    if output is ValidateFormat.github:
        for line in diagnostic_annotations(diagnostics):
            typer.echo(line)
        if diagnostics:
            typer.echo(f"Error: {_problems(len(diagnostics))}", err=True)
            raise typer.Exit(EXIT_ERROR)
    elif diagnostics:
        _report_manifest_error(diagnostics)
    for summary in summaries:
        typer.echo(summary)


@app.command()
def plan(
    path: ManifestPath = Path("manifests"),
    emulate: EmulateOpt = False,
    output: FormatOpt = OutputFormat.text,
    out: Annotated[
        Path | None, typer.Option("--out", help="Save the plan for `authform apply PLAN.json`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when changes are pending.")
    ] = False,
    force: ForceOpt = False,
    environment: EnvironmentOpt = None,
    full: FullOpt = False,
    annotations: AnnotationsOpt = None,
    target: TargetOpt = None,
    exclude: ExcludeOpt = None,
) -> None:
    """Show what apply would change, without changing anything."""
    selection = _selection(target, exclude)
    if out is not None:
        _check_output(lambda: check_output_file(out, "--out"))

    made_with = None
    if out is not None:
        from authform.saved_plan import MadeWith

        made_with = MadeWith.of_command(
            path,
            emulate=emulate,
            environment=environment,
            force=force,
            selection=selection.to_json(),
        )

    async def body() -> tuple[Plan, ChangeSources]:
        async with open_session(path, emulate=emulate, environment=environment) as session:
            # Only a saved plan seals the live state's fingerprint.
            planned = await session.plan(
                force=force, selection=selection, fingerprint_live=out is not None
            )
            if out is not None and made_with is not None:
                from authform.saved_plan import write_saved_plan

                # Streamed to the file as it is sealed: a million changes are never held.
                with phase("write plan"):
                    write_saved_plan(out, planned, session, made_with)
            return planned, ChangeSources.of(session.loaded)

    result, sources = _run(body)
    _print_plan(result, output, sources, full=full, annotations=annotations, saved_to=out)
    if out is not None:
        typer.echo(f"Saved plan to {out}.", err=True)
    if result.refused:
        raise typer.Exit(EXIT_ERROR)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(EXIT_PENDING)


@app.command()
def apply(
    path: Annotated[
        Path, typer.Argument(help="A manifest file or folder, or a plan saved with `plan --out`.")
    ] = Path("manifests"),
    emulate: EmulateOpt = False,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Apply without asking (needed off a TTY).")
    ] = False,
    force: ForceOpt = False,
    output: FormatOpt = OutputFormat.text,
    environment: EnvironmentOpt = None,
    full: FullOpt = False,
    annotations: AnnotationsOpt = None,
    target: TargetOpt = None,
    exclude: ExcludeOpt = None,
) -> None:
    """Make the provider match the manifest.

    Shows the plan first and asks on a terminal; elsewhere it needs --auto-approve. Given a
    plan saved by plan --out, it applies exactly that plan, or refuses if anything changed.
    """
    from authform.applying import run_apply
    from authform.render.json_output import apply_document
    from authform.saved_plan import (
        SavedPlanError,
        check_saved_plan,
        is_saved_plan_path,
        read_saved_plan,
        settings_for_apply,
        verify_seal,
    )
    from authform.undo import read_journal, undo_plan

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if not auto_approve and not interactive:
        _fail("apply needs --auto-approve when not run from an interactive terminal")
    selection = _selection(target, exclude)
    saved = None
    manifest_path = path
    undoing: str | None = None  # a saved plan made by `authform undo JOURNAL`
    if is_saved_plan_path(path):
        # A saved plan applies as it was made (manifest, environment, --emulate, --force,
        # --target/--exclude).
        try:
            with phase("read saved plan"):
                saved = read_saved_plan(path)
            made = settings_for_apply(
                saved,
                emulate=emulate,
                environment=environment,
                force=force,
                selection=selection.to_json(),
            )
            selection = Selection.from_json(made.selection)
        except (SavedPlanError, SelectionError) as exc:
            _fail(str(exc))
        manifest_path = Path(made.manifest)
        emulate, environment, force = made.emulate, made.environment, made.force
        undoing = made.undo_journal

    async def body() -> int:
        async with open_session(manifest_path, emulate=emulate, environment=environment) as session:
            session.check_report_targets()
            verdict = None
            if saved is not None:
                with phase("check seal"):
                    verdict = verify_seal(saved, session)
            if undoing is not None:
                current = await undo_plan(session, read_journal(Path(undoing)), force=force)
            else:
                # The live state's fingerprint is only compared with a saved plan's.
                current = await session.plan(
                    force=force, selection=selection, fingerprint_live=saved is not None
                )
            if saved is not None and verdict is not None:
                with phase("check saved plan"):
                    check_saved_plan(saved, verdict, current, session)
            sources = ChangeSources.of(session.loaded)
            _print_plan(current, output, sources, full=full, annotations=annotations)
            if current.refused:
                typer.echo("Error: the plan is refused; nothing was applied.", err=True)
                return EXIT_ERROR
            if not current.has_changes:
                return EXIT_OK
            if not auto_approve and not typer.confirm("Apply these changes?", default=False):
                typer.echo("Apply cancelled; nothing was changed.", err=True)
                return EXIT_ERROR
            # The desired and live states are built and stay alive for the whole apply:
            # freezing them out of the collector's view keeps full collections (long pauses
            # with hundreds of thousands of objects) from stalling a rate-paced import.
            gc.freeze()
            progress = session.progress or ProgressReporter(sys.stderr, tty=sys.stderr.isatty())
            with phase("apply"):
                outcome = await run_apply(session, current, progress)
            if output is OutputFormat.json:
                stopped = "interrupted" if outcome.interrupted else outcome.stopped
                _echo_json(apply_document(outcome.result, stopped))
            else:
                _echo(render_apply(outcome.result, colour=use_colour(sys.stdout)), nl=False)
            for report in outcome.reports:
                _echo(f"Wrote {report}", err=True)
            if outcome.journal is not None:
                _echo(
                    f"Wrote {outcome.journal} (to undo this apply: authform undo "
                    f"{shlex.quote(str(outcome.journal))} "
                    f"{_shell_args(manifest_path, environment)}{' --emulate' if emulate else ''})",
                    err=True,
                )
            for line in outcome.closing_lines():
                _echo(line, err=True)
            if outcome.result.manual_pending and session.dashboard is not None:
                _echo(
                    "The emulator left the manual steps pending, as the real tenant would. "
                    f"To take them on the emulated dashboard: authform emulator dashboard "
                    f"{_shell_args(manifest_path, environment)}",
                    err=True,
                )
            if outcome.interrupted:
                return EXIT_INTERRUPTED
            if not outcome.ok:
                return EXIT_ERROR
            return EXIT_PENDING if outcome.result.pending else EXIT_OK

    raise typer.Exit(_run(body))


@app.command()
def undo(
    journal: Annotated[
        Path,
        typer.Argument(
            help="The journal an apply wrote (authform-reports/journal-*.jsonl).",
            metavar="JOURNAL",
        ),
    ],
    path: ManifestPath = Path("manifests"),
    emulate: EmulateOpt = False,
    output: FormatOpt = OutputFormat.text,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Save the undo plan for `authform apply PLAN.json`."),
    ] = None,
    force: ForceOpt = False,
    environment: EnvironmentOpt = None,
    full: FullOpt = False,
) -> None:
    """Plan undoing the apply that wrote JOURNAL.

    Never writes: review the plan, save it with --out, apply it with `authform apply`.

    Updates go back to their before-state, deleted items are created again, created items
    are deleted (deletes need policy.allow_delete, and the thresholds hold, as in any plan).
    Refuses, naming them, when items changed again since that apply. Exit 0 when there is
    nothing to undo, 2 when changes are pending, 1 when refused.
    """
    from authform.saved_plan import MadeWith, write_saved_plan
    from authform.undo import JournalError, read_journal, undo_plan

    if out is not None:
        _check_output(lambda: check_output_file(out, "--out"))
    try:
        read = read_journal(journal)  # offline: a damaged or foreign file stops here
    except JournalError as exc:
        _fail(str(exc))
    made_with = MadeWith.of_command(
        path, emulate=emulate, environment=environment, force=force, undo_journal=str(journal)
    )

    async def body() -> tuple[Plan, ChangeSources]:
        async with open_session(path, emulate=emulate, environment=environment) as session:
            planned = await undo_plan(session, read, force=force)
            if out is not None and planned.has_changes and not planned.refused:
                with phase("write plan"):
                    write_saved_plan(out, planned, session, made_with)
            return planned, ChangeSources.of(session.loaded)

    result, sources = _run(body)
    _print_plan(result, output, sources, full=full, saved_to=out)
    if result.refused:
        raise typer.Exit(EXIT_ERROR)
    if out is not None and result.has_changes:
        typer.echo(
            f"Saved the undo plan to {out}. Review it, then: "
            f"authform apply {shlex.quote(str(out))}",
            err=True,
        )
    elif out is not None:
        typer.echo(f"Nothing to undo: {out} was not written.", err=True)
    if result.has_changes:
        raise typer.Exit(EXIT_PENDING)


@app.command()
def verify(
    path: ManifestPath = Path("manifests"),
    emulate: EmulateOpt = False,
    output: FormatOpt = OutputFormat.text,
    environment: EnvironmentOpt = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Also write the checks as JUnit XML to this file."),
    ] = None,
) -> None:
    """Check that the provider holds what the manifest says.

    Reads every desired resource back, probes the settings only a dashboard can make, and
    signs in the canary logins of verify.password_logins. Exit 3 when a check fails.
    """
    if junit is not None:
        _check_output(lambda: check_output_file(junit, "--junit", create_parents=True))

    async def body() -> int:
        async with open_session(path, emulate=emulate, environment=environment) as session:
            async with session.waiting("verifying against the live state"):
                with phase("verify"):
                    report = await session.verify()
            report.checks += session.import_count_checks(report)
        if junit is not None:
            provider = session.provider.capabilities.name
            from authform.render.junit import write_junit

            write_junit(junit, report, provider=provider, environment=environment)
        if output is OutputFormat.json:
            from authform.render.json_output import verify_document

            _echo_json(verify_document(report))
        else:
            _echo(render_verify(report, colour=use_colour(sys.stdout)), nl=False)
        return EXIT_OK if report.ok else EXIT_VERIFY_FAILED

    raise typer.Exit(_run(body))


@app.command()
def drift(
    path: ManifestPath = Path("manifests"),
    emulate: EmulateOpt = False,
    output: FormatOpt = OutputFormat.text,
    environment: EnvironmentOpt = None,
    annotations: AnnotationsOpt = None,
) -> None:
    """Exit 2 when the provider no longer matches the manifest.

    For a scheduled CI job: someone changed the provider by hand since the last apply.
    """

    async def body() -> tuple[Plan, ChangeSources]:
        async with open_session(path, emulate=emulate, environment=environment) as session:
            plan = await session.plan(force=True, fingerprint_live=False)
            ignored = [AddressPattern.parse(p) for p in session.loaded.manifest.drift.ignore]
            return ignore_for_drift(plan, ignored), ChangeSources.of(session.loaded)

    result, sources = _run(body)
    _print_plan(result, output, sources, annotations=annotations)
    if result.has_changes:
        typer.echo(f"Drift found: {len(result.changes)} difference(s).", err=True)
        raise typer.Exit(EXIT_PENDING)


@app.command()
def export(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the manifests into.")
    ] = Path("manifests"),
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="Which provider to read: workos (default), scalekit or clerk. Under "
            "--emulate, the --from manifest's provider.",
            show_default=False,
        ),
    ] = None,
    emulate: EmulateOpt = False,
    emulated_manifest: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Under --emulate: the manifest whose emulated tenant to export "
            "(default: manifests).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write even if --out holds YAML files that export did not write."
        ),
    ] = False,
) -> None:
    """Write manifests from a live provider, to start managing it.

    One file per section; plan them back and there is nothing to change. Credentials come
    from the variables the written target names: WORKOS_API_KEY (optional WORKOS_CLIENT_ID,
    WORKOS_BASE_URL); SCALEKIT_CLIENT_SECRET, SCALEKIT_CLIENT_ID, SCALEKIT_ENVIRONMENT_URL;
    CLERK_SECRET_KEY (optional CLERK_API_URL).
    """
    from authform.emulated_tenant import share_emulated_tenant
    from authform.export import PROFILES, ExportError, export_live, summary_lines, write_export

    source: Path | None = None
    if emulate:
        source = emulated_manifest or Path("manifests")
        try:
            emulated_provider = load_manifest(source, emulate=True).manifest.target.provider
        except ManifestError as exc:
            _report_manifest_error(exc.diagnostics)
        if provider is not None and provider != emulated_provider:
            _fail(
                f"--provider {provider}: the emulated tenant of {source} is a "
                f"{emulated_provider} tenant"
            )
        provider = emulated_provider
    elif emulated_manifest is not None:
        _fail("--from names the manifest whose emulated tenant to export: it needs --emulate")
    chosen = provider or "workos"
    profile = PROFILES.get(chosen)
    if profile is None:
        _fail(f"export supports {', '.join(sorted(PROFILES))}, not {chosen!r}")
    _check_output(lambda: check_output_folder(out, "--out"))
    try:
        result = _run(lambda: export_live(profile, emulated_manifest=source))
        written = write_export(out, result, force=force)
    except ExportError as exc:
        _fail(str(exc))
    except OSError as exc:
        _cannot_write(exc)
    for line in summary_lines(result, profile, out):
        typer.echo(line, err=True)
    if source is not None:
        tenant = share_emulated_tenant(out, source)
        typer.echo(
            f"Under --emulate, {out} now plans against the tenant it was exported from "
            f"({tenant}), as it would against the real one with the same credentials.",
            err=True,
        )
    for path in written:
        typer.echo(str(path))
    try:
        load_manifest(out, emulate=True)
    except ManifestError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(str(diagnostic), err=True)
        _fail(
            f"the files in {out} do not validate ({len(exc.diagnostics)} problem(s) above): "
            "the provider holds values authform's manifest rules refuse; fix them there, or "
            "in the files"
        )


@app.command()
def schema(
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Write the schema to a file (default: schemas/authform.schema.json in the "
            "working directory) instead of printing it.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="With --write: the file to write.", show_default=False),
    ] = None,
) -> None:
    """Print (or write) the manifest's JSON Schema, for editors and CI."""
    from authform.manifest import manifest_json_schema, write_schema
    from authform.manifest.schema import SCHEMA_PATH

    if out is not None and not write:
        _fail("--out names the file `schema --write` writes: add --write")
    if write:
        try:
            written = write_schema(out or SCHEMA_PATH)
        except OSError as exc:
            _fail(f"cannot write the schema to {out or SCHEMA_PATH}: {exc.strerror or exc}")
        typer.echo(f"Wrote {written}.")
    else:
        typer.echo(json.dumps(manifest_json_schema(), indent=2, sort_keys=True))


emulator_app = typer.Typer(
    no_args_is_help=True,
    help="Serve a provider's emulator, or click its dashboard.\n\n"
    "`authform emulator workos|scalekit|clerk` serves one; `authform emulator kavachos` makes "
    "a SQLite file holding KavachOS's tables (a database target needs no server); "
    "`authform emulator dashboard` takes a manifest's manual steps on its --emulate tenant.",
)
app.add_typer(emulator_app, name="emulator")


def _serve_command(provider: EmulatedProvider) -> Callable[..., None]:
    def serve_provider(
        port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8765,
        db: Annotated[Path, typer.Option(help="SQLite file holding the emulator's state.")] = Path(
            ".authform/emulator.sqlite3"
        ),
        api_key: Annotated[
            str, typer.Option("--api-key", help="The API key the emulator accepts.")
        ] = "sk_test_emulator",
        client_id: Annotated[
            str, typer.Option("--client-id", help="The client id the emulator accepts.")
        ] = "client_emulator",
        seed: Annotated[Path | None, typer.Option(help="YAML seed file loaded at start.")] = None,
        no_rate_limit: Annotated[
            bool, typer.Option("--no-rate-limit", help="Turn off the emulated rate limits.")
        ] = False,
    ) -> None:
        import yaml

        from authform.emulators.server import serve
        from authform.emulators.workos import RateLimits

        _check_output(lambda: check_output_file(db, "--db", create_parents=True))
        if seed is not None and not seed.is_file():
            _fail(f"--seed {seed}: no such file")
        db.parent.mkdir(parents=True, exist_ok=True)
        try:
            serve(
                provider.value,
                port=port,
                db_path=db,
                api_key=api_key,
                client_id=client_id,
                seed=seed,
                rate_limits=RateLimits.disabled() if no_rate_limit else None,
            )
        except (ValueError, yaml.YAMLError) as exc:  # a seed refused: the loader says where
            _fail(f"--seed {seed}: {exc}")
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                _fail(
                    f"port {port} on 127.0.0.1 is already in use (another emulator?); "
                    "choose another with --port, or --port 0 for a free one"
                )
            _fail(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}")

    serve_provider.__doc__ = f"Serve the {provider.value} emulator on 127.0.0.1 until interrupted."
    return serve_provider


for _provider in EmulatedProvider:
    emulator_app.command(_provider.value)(_serve_command(_provider))


@emulator_app.command("kavachos")
def emulator_kavachos(
    db: Annotated[
        Path, typer.Option(help="SQLite file to hold KavachOS's tables (made if missing).")
    ] = Path(".authform/kavachos.sqlite3"),
) -> None:
    """Make a SQLite file holding KavachOS 0.2.1's tables, and print its database_url.

    KavachOS is a library with no admin API: its database is what authform writes, so its
    emulator is that database, with no server to run. A file that exists keeps its rows and
    must already have KavachOS's shape.
    """
    from authform.providers.kavachos.emulate import emulated_database_url

    _check_output(lambda: check_output_file(db, "--db", create_parents=True))
    try:
        url = emulated_database_url(db)
    except ProviderError as exc:
        _fail(str(exc))
    typer.echo(f"KavachOS database with its tables: {db}")
    typer.echo(f"DATABASE_URL={shlex.quote(url)}")
    typer.echo(
        'Point a manifest at it: target: {provider: kavachos, database_url: "${env:DATABASE_URL}"}'
    )


def _shell_args(path: Path, environment: str | None) -> str:
    """The manifest (and environment) arguments of a command to suggest, quoted for a shell."""
    return shlex.quote(str(path)) + (f" -e {shlex.quote(environment)}" if environment else "")


@emulator_app.command("dashboard")
def emulator_dashboard(
    path: ManifestPath = Path("manifests"),
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Take only this manual step, by its address in the plan (e.g. "
            "social_connection.google); repeat for several.",
        ),
    ] = None,
    environment: EnvironmentOpt = None,
) -> None:
    """Take the plan's manual steps on the --emulate tenant's dashboard.

    As a person would in the provider's dashboard, on the emulated tenant of the manifest.
    apply never takes manual steps (under --emulate neither), so it exits 2 and verify 3 until
    they are done, as on a real tenant. Exits 0 when every step was taken, 2 when some
    cannot be (each is listed with the reason).
    """
    from authform.dashboard_steps import perform_manual_steps, select_manual_steps
    from authform.emulators.dashboard import DashboardError

    async def body() -> int:
        async with open_session(path, emulate=True, environment=environment) as session:
            assert session.dashboard is not None
            current = await session.plan(force=True, fingerprint_live=False)
            steps = select_manual_steps(current, only or [], session.locate)
            outcome = await perform_manual_steps(current, session.dashboard, steps)
        for change in outcome.done:
            typer.echo(f"done on the emulated dashboard: {change.address}")
        for change, reason in outcome.left:
            typer.echo(f"left pending: {change.address}: {reason}")
        for _, message in outcome.failed:
            typer.echo(f"Error: {message}", err=True)
        if not steps:
            typer.echo("No manual steps: nothing to do on the dashboard.")
        if outcome.for_apply:
            typer.echo(
                f"{outcome.for_apply} change(s) are apply's to make: authform apply --emulate "
                f"{_shell_args(path, environment)}",
                err=True,
            )
        if outcome.failed:
            return EXIT_ERROR
        return EXIT_PENDING if outcome.left else EXIT_OK

    try:
        raise typer.Exit(_run(body))
    except DashboardError as exc:
        _fail(str(exc))


def main() -> None:
    """Run the command line (``authform.entry`` is the script's entry point: it guards this
    module's import against Ctrl-C)."""
    # What is imported by now lives as long as the process: frozen out of the collector's
    # view, full collections no longer walk it (20,000-user parse 4.0 -> 3.9 s CPU). The
    # collector's thresholds stay the default: a first generation of 100,000 saved another
    # 0.15 s there but let the cyclic garbage of a live read pile up (20,000 users on a full
    # target: plan peak RSS 90 -> 133 MB; 100,000: 173 MB).
    gc.freeze()
    stop_on_sigterm_as_on_ctrl_c()
    app(prog_name="authform")


if __name__ == "__main__":
    main()
