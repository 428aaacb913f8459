"""The ``coopsim`` command line: a thin layer over :mod:`coopsim.engine`.

Each command parses its arguments, calls one API function and prints. Heavy
imports happen inside the commands, so ``coopsim --help`` answers at once.
"""

from __future__ import annotations

import sys

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


@main.command()
@click.argument("files", nargs=-1, required=True)
def validate(files: tuple[str, ...]) -> None:
    """Check scenario files, including every variant and decision patch.

    Prints one line per problem as FILE:LINE:COL: what is wrong (what was
    expected), and exits with status 1 if any file has problems. Warnings
    (an unreachable actor, an unused asset, an objective that can never be
    measured, an inject after the end) are printed too but do not fail.

    \b
    Example:
      coopsim validate scenarios/somalia-wfp-escort-2008.yaml
    """
    from coopsim.engine import ScenarioError, lint, load_scenario

    bad: list[str] = []
    for file in files:
        try:
            s = load_scenario(file)
        except ScenarioError as exc:
            bad += [str(p) for p in exc.problems]
            continue
        counts = [
            (len(s.actors), "actor"),
            (len(s.injects), "inject"),
            (len(s.decision_points), "decision point"),
            (len(s.variants), "variant"),
        ]
        summary = ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts)
        click.echo(f"ok  {file}: {s.scenario.name} ({summary})")
        for warning in lint(s):
            click.echo(str(warning), err=True)
    if bad:
        raise ProblemsError(bad)


@main.command()
@click.argument("file")
@click.option("--seed", type=int, help="Run seed (default: the scenario's own seed).")
@click.option("--variant", help="Apply one of the scenario's variants (default: baseline).")
@click.option("--out", help="Output directory (default: runs/NAME[-VARIANT]-sSEED).")
@click.option(
    "--set", "overrides", multiple=True, metavar="PATH=VALUE", help="Override a setting, e.g. --set actors.nac.staff=3 (repeatable)."
)
@click.option("--decisions", help="YAML file of choices at decision points (a decisions script or recorded session).")
@click.option("--report", "with_report", is_flag=True, help="Also write the after-action report into OUT/report.")
@click.option("--replace", is_flag=True, help="Write over an earlier run in the output directory instead of keeping it.")
def run(
    file: str,
    seed: int | None,
    variant: str | None,
    out: str | None,
    overrides: tuple[str, ...],
    decisions: str | None,
    with_report: bool,
    replace: bool,
) -> None:
    """Run a scenario once and print its summary.

    FILE is a scenario file or the name of a bundled scenario. Decision
    points take their default option unless --decisions names another.
    Every run keeps its own directory: by default runs/NAME[-VARIANT]-sSEED,
    with a short hash when --set or --decisions shaped it, and -2, -3... when
    that exists already. An earlier run is replaced only with --replace, and
    a directory coopsim did not make is never replaced.

    \b
    Examples:
      coopsim run pakistan-earthquake-2005
      coopsim run somalia-wfp-escort-2008 --seed 3 --variant no_liaison
      coopsim run my.yaml --set channels.un_nato.latency=2d --out runs/slow
      coopsim run my.yaml --decisions choices.yaml
      coopsim run pakistan-earthquake-2005 --report
    """
    from pathlib import Path

    import coopsim.engine as engine
    from coopsim.engine import OutputDirError, ScenarioError, Session, default_run_dir, load_scenario
    from coopsim.reports.summary import run_summary

    try:
        scenario = load_scenario(file, variant=variant, overrides=overrides)
        decider = None
        if decisions:
            session = Session.from_file(decisions)
            if session.releases:
                hint = f"replay it with: coopsim play {file} --script {decisions}"
                raise ProblemsError([f"{decisions}: the session releases contingency injects; {hint}"])
            decider = session.decider
        seed = scenario.scenario.seed if seed is None else seed
        if out is None:
            shaped = {"set": list(overrides), "decisions": session.model_dump(include={"decisions"}) if decisions else None}
            out = default_run_dir(Path(file).stem, variant, seed, settings=shaped if overrides or decisions else None, replace=replace)
        result = engine.run(scenario, seed=seed, decider=decider, out=out, progress=_progress_line(), replace=replace)
    except ScenarioError as exc:
        raise _problems(exc) from None
    except OutputDirError as exc:
        raise ProblemsError([str(exc)]) from None
    finally:
        _clear_progress()
    click.echo(run_summary(result))
    if with_report:
        click.echo(f"Report in {_report(result.out_dir, None, 'html,md,json')}/")
    if result.outcome.status == "interrupted":
        sys.exit(130)
    if result.outcome.status != "completed":
        sys.exit(2)


def _report(run_dir, out, formats: str):
    from coopsim.engine import OutputDirError, RunDirError
    from coopsim.reports.write import write_report

    try:
        return write_report(run_dir, out, tuple(f.strip() for f in formats.split(",") if f.strip()))
    except (RunDirError, OutputDirError) as exc:
        raise ProblemsError([str(exc)]) from None
    except ValueError as exc:
        raise ProblemsError([f"--format: {exc}"]) from None


@main.command()
@click.argument("run_dir")
@click.option("--format", "formats", default="html,md,json", show_default=True, help="Comma-separated formats: html, md, json.")
@click.option("--out", help="Report directory (default: RUN_DIR/report).")
def report(run_dir: str, formats: str, out: str | None) -> None:
    """Write the after-action report of a finished run (HSEEP AAR/IP with ODCR lessons).

    RUN_DIR is the --out directory of `coopsim run`. The report reads only
    what the run wrote; it never re-runs the model.

    \b
    Examples:
      coopsim run pakistan-earthquake-2005 --out runs/pk
      coopsim report runs/pk
      coopsim report runs/pk --format html --out reports/pk
    """
    click.echo(f"Report in {_report(run_dir, out, formats)}/")


@main.command()
@click.argument("file")
@click.option("--variants", help="Comma-separated variant names (default: all of the file's variants).")
@click.option("--replications", "-n", type=click.IntRange(min=1), default=30, show_default=True, help="Replications per variant.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: the core count; 1 runs here).")
@click.option("--out", help="Where the results archive goes (default: runs/NAME-compare).")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="Override a setting in every variant (repeatable).")
@click.option("--dask", "dask_address", metavar="ADDRESS|local", help="Run on a Dask scheduler, or `local` for a LocalCluster.")
@click.option("--keep-logs", is_flag=True, help="Keep every replication's full event log under OUT/logs (off by default).")
def compare(
    file: str,
    variants: str | None,
    replications: int,
    workers: int | None,
    out: str | None,
    overrides: tuple[str, ...],
    dask_address: str | None,
    keep_logs: bool,
) -> None:
    """Compare coordination choices: the baseline and variants over seeded replications.

    Replication i uses the same seed in every variant (common random
    numbers), so each variant is compared with the baseline pair by pair.
    Every finished replication is kept in OUT/results.sqlite; running the
    same command again reuses those and runs only what is missing.

    \b
    Examples:
      coopsim compare somalia-wfp-escort-2008 -n 50
      coopsim compare pakistan-earthquake-2005 --variants standing_agreement --workers 2
      coopsim compare somalia-wfp-escort-2008 --dask local   # needs: pip install 'coopsim[dask]'
    """
    from pathlib import Path

    from coopsim.engine import (
        ARCHIVE_FILES,
        Archive,
        ArchiveError,
        DaskMissing,
        OutputDirError,
        ScenarioError,
        claim_dir,
        dask_executor,
        load_scenario,
    )
    from coopsim.engine import compare as run_compare
    from coopsim.reports.comparison import comparison_table

    executor, close = None, None
    try:
        if dask_address:
            executor, close = dask_executor(dask_address)
        scenario = load_scenario(file, overrides=overrides)
        out_dir = Path(out or Path("runs") / f"{Path(file).stem}-compare")
        claim_dir(out_dir, "comparison", ARCHIVE_FILES)
        archive = Archive(out_dir / "results.sqlite")
        names = [v.strip() for v in variants.split(",")] if variants else None
        total = (len(names or scenario.variants) + 1) * replications
        result = run_compare(
            scenario,
            names,
            replications,
            executor=executor,
            workers=workers,
            archive=archive,
            progress=_count_line("replications"),
            keep_logs=out_dir / "logs" if keep_logs else None,
        )
    except ScenarioError as exc:
        raise _problems(exc) from None
    except (DaskMissing, OutputDirError, ArchiveError) as exc:
        raise ProblemsError([str(exc)]) from None
    finally:
        _clear_progress()
        if close is not None:
            close()
    if result.reused:
        click.echo(f"Reused {result.reused} of {total} replications from {archive.path}.")
    click.echo(comparison_table(scenario, result))
    for o in result.errors:
        click.echo(f"replication {o.job.replication} of {o.job.variant} (seed {o.job.seed}) failed: {o.error}", err=True)
    click.echo(f"Results in {archive.path}")
    from coopsim.reports.write import write_comparison_report

    try:
        report_dir = write_comparison_report(scenario, result, out_dir / "report")
    except OutputDirError as exc:
        raise ProblemsError([str(exc)]) from None
    click.echo(f"Comparison report in {report_dir}/: comparison.html, comparison.md, comparison.json")


@main.command()
@click.argument("file")
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="PATH=V1,V2,...",
    help="A parameter and the values to try (repeatable); every combination runs.",
)
@click.option("--replications", "-n", type=click.IntRange(min=1), default=10, show_default=True, help="Replications per combination.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: the core count; 1 runs here).")
@click.option("--out", help="Where results go (default: runs/NAME-sweep).")
def sweep(file: str, params: tuple[str, ...], replications: int, workers: int | None, out: str | None) -> None:
    """Sweep parameters full-factorially and rank them by effect on each objective.

    Every combination of the values runs for the same seeds. The report ranks
    the parameters by their main effect on each objective's metric, with a
    tornado chart.

    \b
    Example:
      coopsim sweep pakistan-earthquake-2005 --param actors.nac.approval=6h,1d,2d --param actors.eadrcc.staff=1,2,4
    """
    import json
    from pathlib import Path

    from coopsim.engine import (
        ARCHIVE_FILES,
        Archive,
        ArchiveError,
        OutputDirError,
        ScenarioError,
        claim_dir,
        load_scenario,
        staged,
        sweep_grid,
    )
    from coopsim.engine import sweep as run_sweep
    from coopsim.reports.sweep import effects_table, main_effects, tornado
    from coopsim.reports.write import REPORT

    try:
        scenario = load_scenario(file)
        grid = sweep_grid(params, scenario)  # every value checked before anything runs
        out_dir = Path(out or Path("runs") / f"{Path(file).stem}-sweep")
        claim_dir(out_dir, "sweep", ARCHIVE_FILES)
        archive = Archive(out_dir / "results.sqlite")
        result = run_sweep(scenario, grid, replications, workers=workers, archive=archive, progress=_count_line("sweep runs"))
    except ScenarioError as exc:
        raise _problems(exc) from None
    except (OutputDirError, ArchiveError) as exc:
        raise ProblemsError([str(exc)]) from None
    finally:
        _clear_progress()
    effects = main_effects(scenario, result, grid)
    click.echo(
        f"{scenario.scenario.name}: {len(result.variants)} combinations x {replications} replications"
        + (f" ({result.reused} reused)" if result.reused else "")
    )
    click.echo(effects_table(effects))
    chart = tornado(effects)
    try:
        with staged(out_dir / "report", REPORT) as staging:
            (staging / "tornado.png").write_bytes(chart.png)
            (staging / "sweep.json").write_text(json.dumps({"parameters": grid, "effects": effects}, indent=2, default=str) + "\n")
    except OutputDirError as exc:
        raise ProblemsError([str(exc)]) from None
    click.echo(f"Results in {archive.path}; tornado chart and sweep.json in {out_dir / 'report'}/")


@main.command()
@click.argument("name")
@click.option("--out", default=".", show_default=True, help="Directory to write NAME.yaml in.")
@click.option("--from", "origin", metavar="SCENARIO", help="Start from a copy of a bundled scenario (see `coopsim scenarios`).")
def new(name: str, out: str, origin: str | None) -> None:
    """Write NAME.yaml, a commented starter scenario that validates and runs.

    With --from, NAME.yaml is a copy of a bundled scenario to make your own.

    \b
    Examples:
      coopsim new my-exercise && coopsim run my-exercise.yaml
      coopsim new my-escorts --from somalia-wfp-escort-2008
    """
    from importlib import resources
    from pathlib import Path

    target = Path(out) / f"{name}.yaml"
    if target.exists():
        raise ProblemsError([f"{target}: already exists (expected a new file name)"])
    if origin is None:
        text = resources.files("coopsim").joinpath("starter.yaml").read_text(encoding="utf-8").replace("__NAME__", name)
    else:
        from coopsim.engine import bundled_scenarios

        found = {b.name: b.path for b in bundled_scenarios()}
        if origin not in found:
            raise ProblemsError([f"--from {origin}: no bundled scenario of that name (expected one of: {', '.join(found)})"])
        text = found[origin].read_text(encoding="utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as fh:  # "x": never over a file that appeared meanwhile
            fh.write(text)
    except OSError as exc:
        from coopsim.engine import why_not

        raise ProblemsError([f"{target}: cannot write the file ({why_not(target, exc)}) (expected a writable place for it)"]) from None
    click.echo(f"Wrote {target}; next: coopsim validate {target} && coopsim run {target}")


@main.command()
@click.argument("file")
@click.option(
    "--session",
    "session_file",
    help="The session file: resumed if it exists, else recorded there (default: runs/NAME-session.yaml).",
)
@click.option("--as", "seats", metavar="ORG,...", help="Organisations (actor ids) with players at the table; each one's view is shown.")
@click.option(
    "--script",
    help="Play a whole session from a file, without a terminal: a rehearsal script or a recorded session to replay.",
)
@click.option("--seed", type=int, help="Run seed of a new session (default: the scenario's own).")
@click.option("--variant", help="Play one of the scenario's variants (a new session only).")
@click.option(
    "--replications",
    "-n",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Replications per alternative option in the counterfactuals (0: none).",
)
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes for the counterfactuals (default: the core count).")
@click.option(
    "--out",
    help="Output directory for the run and its report (default: runs/NAME[-VARIANT]-sSEED-play-HASH).",
)
@click.option("--replace", is_flag=True, help="Write over an earlier played run in the output directory instead of keeping it.")
def play(
    file: str,
    session_file: str | None,
    seats: str | None,
    script: str | None,
    seed: int | None,
    variant: str | None,
    replications: int,
    workers: int | None,
    out: str | None,
    replace: bool,
) -> None:
    """Run a tabletop exercise at the table, then write its after-action report.

    The run pauses at every inject and decision point. At a pause the
    console shows the clock, the injects just released (with their MSEL
    fields), requests, assets and what each seated organisation knows; the
    facilitator continues (Enter), advances to a time (a 36h), adds an
    observation (o), releases a contingency inject (r), shows a seat's view
    (v ORG), draws a chart so far (g) or saves and quits (q). At a decision
    point the players pick an option and give their rationale.

    Every decision, observation and pause is saved to the session file at
    once; run the same command with --session FILE to resume exactly where
    play stopped. At the scenario's end the after-action report is written,
    with the decisions, the observations and, for every decision, what each
    alternative would have changed (seeded replications, paired).

    \b
    Examples:
      coopsim play somalia-wfp-escort-2008 --as wfp,snmg2
      coopsim play somalia-wfp-escort-2008 --session runs/somalia-wfp-escort-2008-session.yaml
      coopsim play somalia-wfp-escort-2008 --script runs/somalia-wfp-escort-2008-session.yaml
    """
    from pathlib import Path

    from coopsim.engine import OutputDirError, ScenarioError, SessionError, open_session, play_dir
    from coopsim.engine import play as play_session
    from coopsim.reports.summary import run_summary

    try:
        try:
            scenario, session, path = open_session(
                file,
                session_file=session_file,
                script=script,
                seats=[s.strip() for s in seats.split(",") if s.strip()] if seats else None,
                seed=seed,
                variant=variant,
            )
        except SessionError as exc:
            raise ProblemsError([str(exc)]) from None
        if not script:
            from coopsim.console import FacilitatorConsole

            console = FacilitatorConsole(scenario, session, path, path.with_name(f"{path.stem}-charts"), name=file)
            if not console.play():
                return
            session = console.session
            click.echo(f"Writing the after-action report: the session replayed, and {replications} replications per alternative option.")
        out_dir = Path(out) if out is not None else play_dir(Path(file).stem, scenario, session, replace=replace)
        result = play_session(
            scenario, session, out_dir, replications, workers, progress=_count_line("counterfactual replications"), replace=replace
        )
    except ScenarioError as exc:
        raise _problems(exc) from None
    except OutputDirError as exc:
        raise ProblemsError([str(exc)]) from None
    finally:
        _clear_progress()
    click.echo(run_summary(result))
    click.echo(f"Report in {_report(out_dir, None, 'html,md,json')}/")


@main.group()
def msel() -> None:
    """Export the MSEL to a spreadsheet, or import a planner's edited one.

    \b
    Examples:
      coopsim msel export pakistan-earthquake-2005 --out msel.csv
      coopsim msel import msel.csv --into my-exercise.yaml
    """


@msel.command("export")
@click.argument("file")
@click.option("--out", required=True, help="The file to write: .csv, or .xlsx for Excel.")
@click.option("--replace", is_flag=True, help="Write over an earlier MSEL export at --out (never over any other file).")
def msel_export(file: str, out: str, replace: bool) -> None:
    """Write a scenario's injects as CSV (or .xlsx) in the HSEEP MSEL column order.

    Columns: seq, scenario_time, inject_type, delivery_method, from, to,
    description, expected_action, objective, controller. A cell that a
    spreadsheet would run as a formula (it starts with = + - or @) is
    written as text: in CSV behind an apostrophe, which import removes.
    An existing file is replaced only if it is an MSEL export and --replace
    is given.

    \b
    Example:
      coopsim msel export somalia-wfp-escort-2008 --out msel.csv
    """
    from coopsim.engine import MselExportError, ScenarioError, check_target, export_rows, load_scenario, write_sheet

    try:
        check_target(out, replace)
        rows = export_rows(load_scenario(file))
        write_sheet(rows, out)
    except ScenarioError as exc:
        raise _problems(exc) from None
    except (MselExportError, OSError) as exc:
        raise ProblemsError([str(exc) if isinstance(exc, MselExportError) else f"{out}: cannot write the file ({exc.strerror})"]) from None
    click.echo(f"{len(rows)} injects written to {out}")


@msel.command("import")
@click.argument("sheet")
@click.option("--into", "into", required=True, help="The scenario file whose injects to replace.")
def msel_import(sheet: str, into: str) -> None:
    """Replace a scenario's injects with the rows of an MSEL sheet (CSV or .xlsx).

    Every row is checked first; bad rows are reported as SHEET:ROW: what is
    wrong, and then nothing is changed. The rest of the scenario file,
    comments included, is kept as it was.

    \b
    Example:
      coopsim msel import msel.csv --into my-exercise.yaml
    """
    from coopsim.engine import MselError, ScenarioError, import_rows, read_sheet

    try:
        count = import_rows(read_sheet(sheet), into, sheet)
    except MselError as exc:
        raise ProblemsError(exc.lines) from None
    except ScenarioError as exc:
        raise _problems(exc) from None
    click.echo(f"{count} injects imported into {into}")


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


@main.command()
def scenarios() -> None:
    """List the bundled scenarios; run one by name.

    \b
    Example:
      coopsim scenarios
      coopsim run pakistan-earthquake-2005
    """
    from coopsim.engine import bundled_scenarios

    found = bundled_scenarios()
    width = max((len(b.name) for b in found), default=0)
    for b in found:
        click.echo(f"{b.name:<{width}}  {b.title}")


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files, for YAML editors.

    \b
    Example (VS Code with the YAML extension):
      coopsim schema > coopsim.schema.json
      then start a scenario with:  # yaml-language-server: $schema=coopsim.schema.json
    """
    import json

    from coopsim.engine import Scenario

    doc = Scenario.model_json_schema(by_alias=True)
    doc = {**doc, "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "coopsim scenario"}
    click.echo(json.dumps(doc, indent=2))
