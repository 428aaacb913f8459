"""Commands for one run: validate a scenario, run it, report on it, start a new one, list and describe the format."""

from __future__ import annotations

import sys

import click

from coopsim.cli import ProblemsError, _progress_line, _report, main, refusing


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
    from coopsim.engine import Session, default_run_dir, load_scenario
    from coopsim.reports.summary import run_summary

    with refusing():
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
    click.echo(run_summary(result))
    if with_report:
        click.echo(f"Report in {_report(result.out_dir, None, 'html,md,json')}/")
    if result.outcome.status == "interrupted":
        sys.exit(130)
    if result.outcome.status != "completed":
        sys.exit(2)


@main.command()
@click.argument("run_dir")
@click.option(
    "--format",
    "formats",
    default="html,md,json",
    show_default=True,
    help="Comma-separated formats: html, md, json, pdf (pdf needs the pdf extra).",
)
@click.option("--out", help="Report directory (default: RUN_DIR/report).")
@click.option(
    "--what-if",
    "what_if",
    metavar="COMPARE_DIR",
    help="The --out directory of `coopsim compare` on the same scenario: each lesson then says, with a 95% CI,"
    " what another variant would have changed.",
)
def report(run_dir: str, formats: str, out: str | None, what_if: str | None) -> None:
    """Write the after-action report of a finished run (HSEEP AAR/IP with ODCR lessons).

    RUN_DIR is the --out directory of `coopsim run`. The report reads only
    what the run wrote; it never re-runs the model.

    \b
    Examples:
      coopsim run pakistan-earthquake-2005 --out runs/pk
      coopsim report runs/pk
      coopsim report runs/pk --format html --out reports/pk
      coopsim report runs/pk --format pdf      # needs: pip install 'coopsim[pdf]'
      coopsim compare pakistan-earthquake-2005 -n 20 --out runs/pk-compare
      coopsim report runs/pk --what-if runs/pk-compare
    """
    click.echo(f"Report in {_report(run_dir, out, formats, what_if)}/")


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
