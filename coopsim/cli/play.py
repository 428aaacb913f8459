"""The tabletop command: play a session at the table or from a script, then report on it."""

from __future__ import annotations

import click

from coopsim.cli import _count_line, _report, main, refusing


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

    from coopsim.engine import open_session, play_dir
    from coopsim.engine import play as play_session
    from coopsim.reports.summary import run_summary

    with refusing():
        scenario, session, path = open_session(
            file,
            session_file=session_file,
            script=script,
            seats=[s.strip() for s in seats.split(",") if s.strip()] if seats else None,
            seed=seed,
            variant=variant,
        )
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
    click.echo(run_summary(result))
    click.echo(f"Report in {_report(out_dir, None, 'html,md,json')}/")
