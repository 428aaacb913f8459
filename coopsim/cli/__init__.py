"""The ``coopsim`` command line: a thin layer over :mod:`coopsim.engine`.

Each command parses its arguments, calls one API function and prints. Heavy
imports happen inside the commands, so ``coopsim --help`` answers at once.
This module holds the command group and what every command shares (one-line
errors, the progress display); the commands live by area:

* :mod:`~coopsim.cli.runs`: ``validate``, ``run``, ``report``, ``new``, ``scenarios``, ``schema``;
* :mod:`~coopsim.cli.experiments`: ``compare``, ``sweep``;
* :mod:`~coopsim.cli.play`: ``play``;
* :mod:`~coopsim.cli.msel`: ``msel export``, ``msel import``.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

MAX_LINE = 600
"""The longest line an error may take: what a reader takes in at a glance, with its location and what was expected."""


def one_line(text: str) -> str:
    """``text`` as one readable line: control characters shown escaped, and an overlong middle elided.

    An error often repeats what the user gave (a --set value, an id, a file
    name); that must not break the line or bury the location and the
    expectation at its two ends.
    """
    from coopsim.engine import printable

    text = printable(text)
    if len(text) > MAX_LINE:
        text = text[: MAX_LINE - 200] + " [...] " + text[-190:]
    return text


class ProblemsError(click.ClickException):
    """Bad input: one ``file:line:col: what (expected)`` line per problem, exit status 1."""

    def __init__(self, lines: list[str]):
        lines = [one_line(line) for line in lines]
        super().__init__("\n".join(lines))
        self.lines = lines

    def show(self, file=None) -> None:
        for line in self.lines:
            click.echo(line, err=True)


def _problems(exc) -> ProblemsError:
    return ProblemsError([str(p) for p in exc.problems])


class _Commands(click.Group):
    """The command group, with every mistake on the command line answered in one line and exit status 1.

    Click's own usage errors (an unknown option, a value of the wrong kind)
    print a usage block; here they are one line that says where to look. A
    bug is one line too, with the traceback kept in a file to report (or
    raised as it is with COOPSIM_DEBUG=1).
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: D102
        import os

        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "coopsim"
            what = exc.format_message()
            if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter) and exc.param is not None:
                name = "/".join(exc.param.opts) if exc.param.param_type_name == "option" else exc.param.human_readable_name
                what = f"{name}: {exc.message}"
            click.echo(one_line(f"{where}: {what.rstrip('.')} (see: {where} --help)"), err=True)
            sys.exit(1)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except Exception as exc:
            if os.environ.get("COOPSIM_DEBUG"):
                raise
            sys.exit(_crashed(exc))
        sys.exit(code if isinstance(code, int) else 0)


def _crashed(exc: Exception) -> int:
    """Keep a bug's traceback in a file and say so in one line; the exit status is 70 (an internal error)."""
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="coopsim-crash-", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write("".join(traceback.format_exception(exc)))
    click.echo(one_line(f"coopsim: internal error: {type(exc).__name__}: {exc} (a coopsim bug; the details are in {fh.name})"), err=True)
    return 70


def _input_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    from coopsim.engine import parse_size, set_limits

    try:
        set_limits(max_bytes=parse_size(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="coopsim")
@click.option(
    "--input-limit",
    metavar="SIZE",
    envvar="COOPSIM_INPUT_LIMIT",
    callback=_input_limit,
    expose_value=False,
    is_eager=True,
    help="Largest input file read, e.g. 20MB (default 4MB; also COOPSIM_INPUT_LIMIT).",
)
def main() -> None:
    """Simulate NATO–UN crisis-response coordination.

    Scenarios are YAML files (or the names of bundled ones, see `coopsim
    scenarios`). A run writes events.jsonl, metrics.json and manifest.json.

    \b
    Examples:
      coopsim scenarios
      coopsim run pakistan-earthquake-2005 --seed 7
      coopsim validate my-exercise.yaml
      coopsim --input-limit 20MB validate huge-exercise.yaml
    """


def _report(run_dir, out, formats: str, what_if=None):
    from coopsim.engine import ArchiveError, OutputDirError, RunDirError
    from coopsim.reports.pdf import PdfUnavailable
    from coopsim.reports.write import write_report

    try:
        return write_report(run_dir, out, tuple(f.strip() for f in formats.split(",") if f.strip()), what_if)
    except (RunDirError, OutputDirError, PdfUnavailable, ArchiveError) as exc:
        raise ProblemsError([str(exc)]) from None
    except ValueError as exc:
        raise ProblemsError([f"--format: {exc}"]) from None


@contextmanager
def refusing():
    """Run a command's work, turning the engine's refusals into the command's one-line errors (exit 1).

    Every refusal the engine makes (a located scenario problem, an output
    directory it will not write, a damaged archive or run directory, a session
    it cannot open) becomes lines on stderr; any progress display is cleared
    either way.
    """
    from coopsim.engine import (
        ArchiveError,
        DaskMissing,
        ExportError,
        MselError,
        MselExportError,
        OutputDirError,
        RunDirError,
        ScenarioError,
        SessionError,
    )

    try:
        yield
    except ScenarioError as exc:
        raise _problems(exc) from None
    except MselError as exc:
        raise ProblemsError(exc.lines) from None
    except (OutputDirError, ArchiveError, DaskMissing, ExportError, MselExportError, RunDirError, SessionError) as exc:
        raise ProblemsError([str(exc)]) from None
    finally:
        _clear_progress()


_live = None  # the progress display on screen, if any


def _show_progress(label: str):
    """A progress callback ``update(done, total, detail="")`` drawn by rich on a terminal; None when output is piped.

    Every long operation (a run, replications, a sweep, counterfactuals) shows
    the same display: what is done of how much, elapsed and remaining time. It
    is transient, so nothing of it stays in the terminal or reaches a log.
    """
    global _live
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    _clear_progress()
    _live = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = _live.add_task(label, total=None, detail="")
    _live.start()

    def update(done: float, total: float, detail: str = "") -> None:
        _live.update(task, completed=done, total=total, detail=detail)

    return update


def _progress_line():
    """A run's progress: hours of the scenario simulated, and records written."""
    update = _show_progress("simulated hours")
    if update is None:
        return None
    return lambda t, duration, records: update(round(t), round(duration), f"{records:,} records")


def _count_line(label: str):
    """``label``: how many of how many, for replications."""
    return _show_progress(label)


def _clear_progress() -> None:
    global _live
    if _live is not None:
        _live.stop()
        _live = None


from coopsim.cli import experiments, msel, play, runs, serve  # noqa: E402,F401  (the commands register themselves on main)
