"""MSEL commands: export a scenario's injects to a spreadsheet, import a planner's edited one."""

from __future__ import annotations

import click

from coopsim.cli import ProblemsError, _problems, main, refusing


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

    Columns: seq, scenario_time, day, date_time_utc, local_time,
    trigger_in_words, inject_type, delivery_method, from, to, description,
    expected_action, objective, controller. day, date_time_utc, local_time
    (in the scenario's timezone) and trigger_in_words are derived from
    scenario_time for reading; import ignores them.

    The .xlsx has a frozen, filtered header row, seq and day as numbers,
    wrapped text columns, and prints landscape, one page wide, with the
    header row and the handling banner on every page. A cell that a
    spreadsheet would run as a formula (it starts with = + - or @) is
    written as text: in CSV behind an apostrophe, which import removes.
    An existing file is replaced only if it is an MSEL export and --replace
    is given.

    \b
    Example:
      coopsim msel export somalia-wfp-escort-2008 --out msel.xlsx
    """
    from coopsim.engine import MselExportError, ScenarioError, check_target, export_rows, load_scenario, write_sheet

    try:
        check_target(out, replace)
        scenario = load_scenario(file)
        rows = export_rows(scenario)
        write_sheet(rows, out, scenario)
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

    The sheet needs the columns seq, scenario_time, inject_type,
    delivery_method, from, to, description, expected_action, objective and
    controller. The derived columns day, date_time_utc, local_time and
    trigger_in_words are ignored on import: to move an inject, edit its
    scenario_time (a duration such as 30h, a trigger such as
    {request: ID, state: approved, delay: 6h}, or contingency). A derived
    cell that no longer matches its scenario_time gets a warning.

    \b
    Example:
      coopsim msel import msel.csv --into my-exercise.yaml
    """
    from coopsim.engine import derived_mismatches, import_rows, load_scenario, read_sheet

    with refusing():
        rows = read_sheet(sheet)
        count = import_rows(rows, into, sheet)
        ignored = derived_mismatches(rows, load_scenario(into), sheet)
    for line in ignored:
        click.echo(line, err=True)
    click.echo(f"{count} injects imported into {into}")
