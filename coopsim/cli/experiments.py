"""Commands for many runs: compare variants, sweep parameters."""

from __future__ import annotations

import click

from coopsim.cli import _count_line, main, refusing


@main.command()
@click.argument("file")
@click.option("--variants", help="Comma-separated variant names (default: all of the file's variants).")
@click.option("--replications", "-n", type=click.IntRange(min=1), default=30, show_default=True, help="Replications per variant.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: the core count; 1 runs here).")
@click.option("--out", help="Where the results archive goes (default: runs/NAME-compare).")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="Override a setting in every variant (repeatable).")
@click.option("--dask", "dask_address", metavar="ADDRESS|local", help="Run on a Dask scheduler, or `local` for a LocalCluster.")
@click.option("--keep-logs", is_flag=True, help="Keep every replication's full event log under OUT/logs (off by default).")
@click.option(
    "--export",
    "export_to",
    metavar="FILE.csv|FILE.parquet",
    help="Also write one tidy row per (variant, replication, seed, metric) to a new file (Parquet needs coopsim[parquet]).",
)
def compare(
    file: str,
    variants: str | None,
    replications: int,
    workers: int | None,
    out: str | None,
    overrides: tuple[str, ...],
    dask_address: str | None,
    keep_logs: bool,
    export_to: str | None,
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
      coopsim compare somalia-wfp-escort-2008 -n 20 --export results.csv
    """
    from pathlib import Path

    from coopsim.engine import (
        ARCHIVE_FILES,
        Archive,
        claim_dir,
        dask_executor,
        export,
        export_target,
        load_scenario,
    )
    from coopsim.engine import compare as run_compare
    from coopsim.reports.comparison import comparison_table

    executor, close = None, None
    with refusing():
        try:
            if dask_address:
                executor, close = dask_executor(dask_address)
            scenario = load_scenario(file, overrides=overrides)
            if export_to:
                export_target(export_to)  # before any replication runs
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
        finally:
            if close is not None:
                close()
    if result.reused:
        click.echo(f"Reused {result.reused} of {total} replications from {archive.path}.")
    click.echo(comparison_table(scenario, result))
    for o in result.errors:
        click.echo(f"replication {o.job.replication} of {o.job.variant} (seed {o.job.seed}) failed: {o.error}", err=True)
    click.echo(f"Results in {archive.path}")
    from coopsim.reports.write import write_comparison_report

    with refusing():
        report_dir = write_comparison_report(scenario, result, out_dir / "report")
    click.echo(f"Comparison report in {report_dir}/: comparison.html, comparison.md, comparison.json")
    if export_to:
        with refusing():
            written = export(result, export_to)
        click.echo(f"Exported {len(result.rows):,} rows to {written}")


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

    Every combination of the values runs for the same seeds. For each
    objective, the parameters are ranked by their main effect (the spread of
    the objective's mean between a parameter's levels), with the level means
    and a tornado chart, in OUT/report/sweep.html and sweep.md.

    \b
    Example:
      coopsim sweep pakistan-earthquake-2005 --param actors.nac.approval=6h,1d,2d --param actors.eadrcc.staff=1,2,4
    """
    from pathlib import Path

    from coopsim.engine import (
        ARCHIVE_FILES,
        Archive,
        claim_dir,
        load_scenario,
        sweep_grid,
    )
    from coopsim.engine import sweep as run_sweep
    from coopsim.reports.sweep import effects_table, main_effects, write_sweep_report

    with refusing():
        scenario = load_scenario(file)
        grid = sweep_grid(params, scenario)  # every value checked before anything runs
        out_dir = Path(out or Path("runs") / f"{Path(file).stem}-sweep")
        claim_dir(out_dir, "sweep", ARCHIVE_FILES)
        archive = Archive(out_dir / "results.sqlite")
        result = run_sweep(scenario, grid, replications, workers=workers, archive=archive, progress=_count_line("sweep runs"))
    click.echo(
        f"{scenario.scenario.name}: {len(result.variants)} combinations x {replications} replications"
        + (f" ({result.reused} reused)" if result.reused else "")
    )
    click.echo(effects_table(main_effects(scenario, result, grid)))
    for o in result.errors:
        click.echo(f"replication {o.job.replication} of {o.job.variant} (seed {o.job.seed}) failed: {o.error}", err=True)
    click.echo(f"Results in {archive.path}")
    with refusing():
        report_dir = write_sweep_report(scenario, result, grid, out_dir / "report")
    click.echo(
        f"Sweep report: {report_dir / 'sweep.html'} and {report_dir / 'sweep.md'} (charts in {report_dir / 'charts'}/, data in sweep.json)"
    )


@main.command("check-decisions")
@click.argument("file")
@click.option("--replications", "-n", type=click.IntRange(min=2), default=20, show_default=True, help="Seeds per option.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: the core count; 1 runs here).")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="Override a setting in every run (repeatable).")
def check_decisions(file: str, replications: int, workers: int | None, overrides: tuple[str, ...]) -> None:
    """Check that every decision point matters: run each option over seeded replications.

    The scenario runs as it decides by itself (each point's policy, else its
    default option), then with each option of each decision point forced in
    turn, the other points deciding by themselves, all on the same seeds.
    Each forced option is compared pair by pair with the run as decided on
    every objective. An option moves
    an objective when its mean changes by 10 % or more with a paired 95 %
    interval that excludes zero, when the objective's usual rating changes,
    or when the metric is measured in 10 % more or fewer runs. A point none
    of whose options moves any objective is reported as cosmetic, and the
    command exits with status 1, so it can guard an exercise in CI.

    \b
    Examples:
      coopsim check-decisions somalia-wfp-escort-2008
      coopsim check-decisions my-exercise.yaml -n 40 --workers 2
    """
    from coopsim.engine import check_decisions as run_check
    from coopsim.engine import load_scenario
    from coopsim.reports.comparison import decisions_table

    with refusing():
        scenario = load_scenario(file, overrides=overrides)
        checks = run_check(scenario, replications, workers=workers, progress=_count_line("runs"))
    click.echo(decisions_table(scenario, checks, replications))
    if any(c.cosmetic for c in checks):
        raise SystemExit(1)
