"""The Master Scenario Events List as a spreadsheet: export and import.

Exercise planners keep the MSEL in a spreadsheet (CSV, or an ``.xlsx``
workbook read and written with openpyxl). :func:`export_rows` gives a
scenario's injects in the HSEEP column order (seq, scenario time, inject type,
delivery method, from, to, description, expected action, objective,
controller). :func:`import_rows` brings a planner's edited sheet back into the
scenario file: every row is checked first, bad rows are reported as
``msel.csv:ROW: what is wrong`` and nothing changes; when all rows are good the
``injects:`` section of the file is rewritten and the rest of the file,
comments included, is left as it was.

The scenario time is a duration (``6h``), a trigger written as in YAML
(``{request: un_airlift, state: approved}``), or ``contingency``. Recipients
are separated by ``;``. Settings a sheet has no column for (the fact or
request an inject carries, its effects, the route it is an incident on) are
kept from the existing inject with the same seq.

Beside ``scenario_time`` an export has *derived* columns for people to read
(:data:`DERIVED_COLUMNS`): the exercise ``day``, the ``date_time_utc`` and
``local_time`` of a timed inject (from the scenario's ``start`` and
``timezone``, see :mod:`~coopsim.engine.scenario.calendar`), and the
``trigger_in_words`` of a triggered or contingency inject. Import ignores
them, so a sheet without them (an older export, a CSV written by hand) imports
too; :func:`derived_mismatches` finds derived cells a planner edited, which
import would not honour.

The workbook is laid out for a planning conference: a frozen, bold, filtered
header row, wide wrapped text columns, seq and day as numbers, and a
landscape print that fits the page width and repeats the header on every
page, under the scenario's handling banner.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from coopsim.engine.scenario.calendar import Calendar
from coopsim.engine.scenario.durations import duration_text
from coopsim.engine.scenario.files import decode, limits, read_input, size_text, write_text
from coopsim.engine.scenario.load import CONTROLLER, loads_scenario
from coopsim.engine.scenario.model import Effect, Inject, Scenario, Trigger
from coopsim.engine.scenario.problems import ScenarioError
from coopsim.engine.scenario.source import parse_yaml

COLUMNS = (
    "seq",
    "scenario_time",
    "day",
    "date_time_utc",
    "local_time",
    "trigger_in_words",
    "inject_type",
    "delivery_method",
    "from",
    "to",
    "description",
    "expected_action",
    "objective",
    "controller",
)
"""The columns of an export, in order."""

DERIVED_COLUMNS = ("day", "date_time_utc", "local_time", "trigger_in_words")
"""Columns an export fills in for people to read, from ``scenario_time`` and the scenario; import ignores them."""

INPUT_COLUMNS = tuple(c for c in COLUMNS if c not in DERIVED_COLUMNS)
"""The columns import reads; a sheet must have each of them."""


class MselError(Exception):
    """Rows of an MSEL sheet are wrong; ``lines`` holds one ``file:ROW: ...`` line each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def _time_text(inj: Inject) -> str:
    if inj.time is not None:
        hours = inj.time
        return f"{hours / 24:g}d" if hours % 24 == 0 and hours else f"{hours:g}h"
    if inj.trigger is not None:
        data = inj.trigger.model_dump(exclude_none=True, exclude={"delay"} if inj.trigger.delay == 0 else set())
        data = {k: (v.value if hasattr(v, "value") else (f"{v:g}h" if k in ("at", "delay") else v)) for k, v in data.items()}
        return yaml.safe_dump(data, default_flow_style=True, width=1000).strip()
    return "contingency"


def export_rows(scenario: Scenario) -> list[dict[str, str]]:
    """The injects as MSEL rows, in seq order, with the derived columns filled in."""
    on = Calendar.of(scenario.scenario.start, scenario.scenario.timezone)
    rows = []
    for i in sorted(scenario.injects, key=lambda i: i.seq):
        at = _fixed_time(i)
        moment = on.at(at) if at is not None else None
        rows.append(
            {
                "seq": str(i.seq),
                "scenario_time": _time_text(i),
                "day": str(moment.day) if moment else "",
                "date_time_utc": f"{moment.utc:%Y-%m-%d %H:%M}" if moment else "",
                "local_time": f"{moment.local:%Y-%m-%d %H:%M %Z}" if moment and moment.local else "",
                "trigger_in_words": trigger_in_words(i, scenario),
                "inject_type": i.type,
                "delivery_method": i.delivery,
                "from": i.from_,
                "to": ";".join(i.to),
                "description": i.description,
                "expected_action": i.expected_action,
                "objective": i.objective or "",
                "controller": i.controller,
            }
        )
    return rows


def _fixed_time(inj: Inject) -> float | None:
    """The hour an inject is released at, when that is known before the run: its time, or a trigger at a fixed hour."""
    if inj.time is not None:
        return inj.time
    if inj.trigger is not None and inj.trigger.at is not None:
        return inj.trigger.at + inj.trigger.delay
    return None


def trigger_in_words(inj: Inject, scenario: Scenario) -> str:
    """When a triggered or contingency inject is released, in words; empty for an inject released at a time.

    For example ``6 h after request 'Airlift of relief goods' (rfa_airlift) is approved``,
    ``when un_ocha learns fact 'Escort plan' (escort_plan)``, or
    ``contingency: released by the facilitator``.
    """
    if not inj.contingency:
        return _trigger_words(inj.trigger, scenario) if inj.trigger is not None else ""
    if inj.time is not None:
        when = f"at hour {inj.time:g}"
    elif inj.trigger is not None:
        when = _trigger_words(inj.trigger, scenario)
    else:
        when = ""
    choices = [
        f"decision {_named(p.name, p.id)} choosing {o.id}"
        for p in scenario.decision_points
        for o in p.options
        if o.action is not None and o.action.release_inject == inj.seq
    ]
    by = "released by " + (" or ".join(choices) + ", or by the facilitator" if choices else "the facilitator")
    return f"contingency: {when}; or {by}" if when else f"contingency: {by}"


def _trigger_words(trigger: Trigger, scenario: Scenario) -> str:
    table = scenario.by_id
    if trigger.at is not None:
        event, at = f"hour {trigger.at:g}", True
    elif trigger.request is not None:
        request = table["requests"].get(trigger.request)
        name = _named(request.description if request else "", trigger.request)
        event, at = f"request {name} is {trigger.state.value.replace('_', ' ')}", False
    elif trigger.inject is not None:
        event, at = f"inject {trigger.inject} is released", False
    elif trigger.fact is not None:
        fact = table["facts"].get(trigger.fact)  # the actor by id, as in the from and to columns: its name is often a sentence
        event, at = f"{trigger.known_by} learns fact {_named(fact.description if fact else '', trigger.fact)}", False
    else:
        point = table["decision_points"].get(trigger.decision)
        name = _named(point.name if point else "", trigger.decision)
        event, at = f"decision {name} " + (f"chooses {trigger.option}" if trigger.option else "is taken"), False
    if trigger.delay:
        return f"{_span(trigger.delay)} after {event}"
    return f"at {event}" if at else f"when {event}"


def _named(text: str, ident: str) -> str:
    return f"'{text}' ({ident})" if text else ident


def _span(hours: float) -> str:
    """A delay for people: ``6 h``, ``2 d``."""
    return f"{hours / 24:g} d" if hours % 24 == 0 else f"{hours:g} h"


def derived_mismatches(rows: list[dict[str, str]], scenario: Scenario, sheet: str = "msel.csv") -> list[str]:
    """Derived cells of ``rows`` that differ from what ``scenario`` gives, one ``sheet:ROW: warning: ...`` line each.

    Import ignores the derived columns, so a planner who moved an inject by
    editing its date rather than its ``scenario_time`` would be misled; run
    this on the sheet and the scenario after an import to tell them. Empty
    derived cells, and sheets without the derived columns, give no warning.
    """
    derived = {r["seq"]: r for r in export_rows(scenario)}
    lines = []
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        expected = derived.get((row.get("seq") or "").strip())
        if expected is None:
            continue
        for column in DERIVED_COLUMNS:
            given = (row.get(column) or "").strip()
            if given and given != expected[column]:
                lines.append(
                    f"{sheet}:{n}: warning: {column} {given!r} was ignored; scenario_time {expected['scenario_time']!r} gives "
                    f"{expected[column]!r} (derived columns are not imported: expected scenario_time edited to move an inject)"
                )
    return lines


# -- spreadsheet safety ---------------------------------------------------------------------
# A cell that begins with one of these is run as a formula by Excel and LibreOffice (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 10_000
"""The most rows an MSEL sheet may hold; a real MSEL has tens to hundreds."""


def neutralise(cell: str) -> str:
    """A CSV cell that a spreadsheet shows as the same text and never runs as a formula.

    A leading apostrophe is the spreadsheet convention for "this is text". It is
    added to cells that start like a formula, and to cells that already start
    with an apostrophe, so that :func:`restore` gives back exactly the text.
    """
    return "'" + cell if cell.startswith(_FORMULA_START + ("'",)) else cell


def restore(cell: str) -> str:
    """The text :func:`neutralise` was given."""
    return cell[1:] if cell.startswith("'") else cell


class MselExportError(Exception):
    """The export would replace a file that coopsim did not write as an MSEL export."""


def check_target(path: str | Path, replace: bool) -> None:
    """Refuse to replace anything but an earlier MSEL export, and that only when asked.

    Raises:
        MselExportError: ``path`` is a directory, holds something else, or ``replace`` is not set.
    """
    path = Path(path)
    if not path.exists():
        return
    if not path.is_file():
        raise MselExportError(f"{path}: exists and is not a file (expected a new file name for the MSEL)")
    if not _is_msel_export(path):
        raise MselExportError(f"{path}: exists and is not an MSEL export; coopsim never replaces it (expected a new file name)")
    if not replace:
        raise MselExportError(f"{path}: holds an earlier MSEL export (expected a new file name, or --replace to write over it)")


def _is_msel_export(path: Path) -> bool:
    try:
        rows = read_sheet(path)
    except (MselError, ScenarioError):
        return False
    del rows
    return True


def write_csv(rows: list[dict[str, str]], path: str | Path) -> None:
    """Write MSEL rows as CSV with a header row, atomically; no cell can run as a formula."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: neutralise(v) for k, v in row.items()} for row in rows)
    write_text(Path(path), buffer.getvalue())


_NUMBER_COLUMNS = ("seq", "day")
"""Columns written to a workbook as numbers, so that they sort and filter as numbers."""
_WIDTHS = {
    "seq": 6,
    "scenario_time": 22,
    "day": 6,
    "date_time_utc": 17,
    "local_time": 23,
    "trigger_in_words": 36,
    "inject_type": 12,
    "delivery_method": 16,
    "from": 12,
    "to": 18,
    "description": 50,
    "expected_action": 36,
    "objective": 16,
    "controller": 14,
}
"""Column widths in characters: the text planners read and edit is wide and wrapped, seq and day narrow."""
_WRAPPED = ("scenario_time", "trigger_in_words", "to", "description", "expected_action")
_DERIVED_NOTE = "Derived from scenario_time, for reading; import ignores it. To move an inject, edit scenario_time."


def write_sheet(rows: list[dict[str, str]], path: str | Path, scenario: Scenario | None = None) -> None:
    """Write MSEL rows as CSV, or as an Excel workbook when ``path`` ends in ``.xlsx``, atomically.

    The workbook's header row is frozen, bold, filled and filtered; seq and
    day are numbers, every other cell is text that never runs as a formula.
    It prints landscape, one page wide, with the header row on every page and,
    given the ``scenario``, its name and handling banner at the head and foot.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        write_csv(rows, path)
        return
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    book = Workbook()
    sheet = book.active
    sheet.title = "MSEL"
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="D9E1F2")
    derived_font = Font(bold=True, italic=True, color="595959")
    derived_fill = PatternFill("solid", fgColor="EDEDED")
    for c, name in enumerate(COLUMNS, start=1):
        cell = sheet.cell(1, c, name)
        cell.data_type = "s"
        cell.quotePrefix = True
        cell.font, cell.fill = (derived_font, derived_fill) if name in DERIVED_COLUMNS else (header_font, header_fill)
        cell.alignment = Alignment(vertical="top")
        if name in DERIVED_COLUMNS:
            cell.comment = Comment(_DERIVED_NOTE, "coopsim", width=240, height=70)
        sheet.column_dimensions[get_column_letter(c)].width = _WIDTHS[name]
    aligned = {name: Alignment(vertical="top", wrap_text=name in _WRAPPED) for name in COLUMNS}
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(COLUMNS, start=1):
            value = row.get(name, "")
            if not value:
                continue  # an empty cell, which the filter lists as (Blanks)
            if name in _NUMBER_COLUMNS and value.isascii() and value.isdigit():
                cell = sheet.cell(r, c, int(value))
            else:
                cell = sheet.cell(r, c, value)
                cell.data_type = "s"  # text, never a formula, whatever it starts with
                cell.quotePrefix = True  # and kept as text when someone edits it in Excel
            cell.alignment = aligned[name]
    last = get_column_letter(len(COLUMNS))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.7, header=0.3, footer=0.3)
    if scenario is not None:  # Excel refuses a page header or footer over 255 characters, codes included
        banner = _header_text(scenario.scenario.handling, 200)
        sheet.oddHeader.center.text = banner
        sheet.oddHeader.left.text = _header_text(f"MSEL: {scenario.scenario.name}", 240 - len(banner))
        sheet.oddFooter.center.text = banner
    sheet.oddFooter.right.text = "Page &P of &N"
    tmp = path.with_name(f".{path.name}.tmp")
    book.save(tmp)
    os.replace(tmp, path)


def _header_text(text: str, room: int) -> str:
    """Text for a printed page header, at most ``room`` characters: ``&`` starts a code there (``&P``: the page), so it is doubled."""
    words = " ".join(text.split())
    if len(words.replace("&", "&&")) <= room:
        return words.replace("&", "&&")
    out = ""
    for char in words:
        piece = "&&" if char == "&" else char
        if len(out) + len(piece) > room - 1:
            break
        out += piece
    return out.rstrip() + "…"


def read_sheet(path: str | Path) -> list[dict[str, str]]:
    """Read MSEL rows from CSV, or from the first worksheet of an ``.xlsx`` workbook.

    Raises:
        MselError: the sheet cannot be read, or is not an MSEL.
        ScenarioError: the file cannot be read at all, or is over the input limit.
    """
    path = Path(path)
    raw = read_input(path, "an MSEL sheet, CSV or .xlsx")
    if path.suffix.lower() == ".xlsx":
        header, rows = _workbook_rows(path, raw)
    else:
        header, rows = _csv_rows(path, raw)
    missing = [c for c in INPUT_COLUMNS if c not in header]
    if missing:
        raise MselError([f"{path}:1: missing column(s) {', '.join(missing)} (expected a header row: {', '.join(INPUT_COLUMNS)})"])
    return [{h: v for h, v in zip(header, r, strict=False) if h} for r in rows if any(r)]


def _csv_rows(path: Path, raw: bytes) -> tuple[list[str], list[list[str]]]:
    text = decode(raw, str(path), "a UTF-8 CSV file").replace("\x00", "\ufffd")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)  # an unclosed quote is an error, not the rest of the file
    rows: list[list[str]] = []
    try:
        for row in reader:
            if len(rows) > MAX_ROWS:
                raise MselError(
                    [f"{path}:{reader.line_num}: more than {MAX_ROWS:,} rows (expected an MSEL of at most {MAX_ROWS:,} injects)"]
                )
            rows.append([restore(cell) for cell in row])
    except csv.Error as exc:
        why = "a quote opened in this row is never closed" if "unexpected end of data" in str(exc) else str(exc)
        raise MselError([f"{path}:{len(rows) + 1}: cannot read the row ({why}) (expected CSV as a spreadsheet saves it)"]) from None
    return (rows[0] if rows else []), rows[1:]


def _workbook_rows(path: Path, raw: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise MselError([f"{path}:1: not an Excel workbook (expected an .xlsx file saved by a spreadsheet)"]) from None
    if unpacked > 16 * limits().max_bytes:
        raise MselError([f"{path}:1: the workbook unpacks to {size_text(unpacked)}, too much for an MSEL (expected an ordinary .xlsx)"])
    from openpyxl import load_workbook

    rows: list[list[str]] = []
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        if not book.worksheets:
            raise MselError([f"{path}:1: the workbook has no worksheet (expected the MSEL on the first sheet)"])
        for n, r in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            if n > MAX_ROWS + 1:
                raise MselError([f"{path}:{n}: more than {MAX_ROWS:,} rows (expected an MSEL of at most {MAX_ROWS:,} injects)"])
            rows.append([_cell_text(v) for v in r])
    except MselError:
        raise
    except Exception as exc:  # openpyxl and the XML and zip readers under it raise many kinds for a damaged file
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise MselError([f"{path}:1: not a readable Excel workbook ({reason}) (expected an .xlsx file saved by a spreadsheet)"]) from None
    return (rows[0] if rows else []), rows[1:]


def _cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV cell would hold: a whole number without ``.0``, a date as ``2008-09-25 14:00``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(" ", "seconds" if value.second else "minutes")
    return str(value)


def import_rows(rows: list[dict[str, str]], scenario_path: str | Path, sheet: str = "msel.csv") -> int:
    """Replace the scenario file's injects with ``rows``; returns how many were imported.

    Raises:
        MselError: a row is wrong; nothing is written.
    """
    scenario_path = Path(scenario_path)
    text = decode(read_input(scenario_path, "the scenario file to import into"), str(scenario_path), "a UTF-8 YAML file")
    scenario = loads_scenario(text, str(scenario_path))
    existing = {i.seq: i for i in scenario.injects}
    actors = scenario.by_id["actors"]
    objectives = scenario.by_id["objectives"]
    problems, injects, seen = [], [], {}
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{sheet}:{n}"
        try:
            data = _inject_data(row, existing, where)
            inject = Inject.model_validate(data)
        except (ValueError, ValidationError) as exc:
            problems.append(f"{where}: {_first_error(exc)}")
            continue
        except ScenarioError as exc:
            problems.append(f"{where}: scenario_time: {exc.problems[0].message} ({exc.problems[0].expected})")
            continue
        if inject.seq in seen:
            problems.append(f"{where}: seq {inject.seq} is already on row {seen[inject.seq]} (expected each seq once)")
            continue
        seen[inject.seq] = n
        unknown = [a for a in inject.to if a not in actors]
        if inject.from_ != CONTROLLER and inject.from_ not in actors:
            unknown.insert(0, inject.from_)
        if unknown:
            problems.append(f"{where}: unknown actor {unknown[0]!r} (expected one of: {', '.join(actors)}, or {CONTROLLER} as sender)")
            continue
        if inject.objective and inject.objective not in objectives:
            problems.append(f"{where}: unknown objective {inject.objective!r} (expected one of: {', '.join(objectives)})")
            continue
        injects.append(data)
    if problems:
        raise MselError(problems)
    new_text = _replace_section(text, scenario, "injects", {"injects": injects})
    loads_scenario(new_text, str(scenario_path))  # the whole file must still be valid
    write_text(scenario_path, new_text)
    return len(injects)


def _inject_data(row: dict[str, str], existing: dict[int, Inject], where: str) -> dict[str, Any]:
    cell = {k: (row.get(k) or "").strip() for k in INPUT_COLUMNS}  # derived columns are ignored
    if not cell["seq"].isdigit():
        raise ValueError(f"seq {cell['seq']!r} is not a whole number (expected 1, 2, 3...)")
    seq = int(cell["seq"])
    data: dict[str, Any] = {"seq": seq}
    when = cell["scenario_time"]
    if when == "contingency":
        data["contingency"] = True
    elif when.startswith("{"):
        data["trigger"] = parse_yaml(when, where).data
    else:
        data["time"] = when
    data.update(
        {
            "type": cell["inject_type"] or "information",
            "delivery": cell["delivery_method"] or "message",
            "from": cell["from"] or CONTROLLER,
            "to": [a.strip() for a in cell["to"].split(";") if a.strip()],
            "description": cell["description"],
            "expected_action": cell["expected_action"],
        }
    )
    if cell["objective"]:
        data["objective"] = cell["objective"]
    if cell["controller"]:
        data["controller"] = cell["controller"]
    old = existing.get(seq)
    if old is not None:  # what the sheet has no column for
        if old.fact:
            data["fact"] = old.fact
        if old.request:
            data["request"] = old.request
        if old.contingency and "contingency" not in data:
            data["contingency"] = True
        if old.effects:
            data["effects"] = [_effect_data(e) for e in old.effects]
        if old.incident is not None:
            data["incident"] = old.incident
    return data


def _effect_data(effect: Effect) -> dict[str, Any]:
    """An effect as a scenario file writes it (its ``for`` a duration that parses back to the same hours)."""
    data = effect.model_dump(by_alias=True, exclude_none=True)
    if "for" in data:
        data["for"] = duration_text(data["for"])
    return data


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("function", "tagged"))) or "row"
        msg = err["msg"].removeprefix("Value error, ")
        return f"{field}: {msg}" + (f" (got {err['input']!r})" if not isinstance(err.get("input"), dict) else "")
    return str(exc)


def _replace_section(text: str, scenario: Scenario, section: str, data: dict[str, Any]) -> str:
    """``text`` with one top-level section rewritten, everything else (comments too) kept."""
    doc = scenario._document
    lines = text.splitlines(keepends=True)
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    if (section,) not in doc.keys:
        return text + ("" if text.endswith("\n") else "\n") + "\n" + dumped
    start = doc.keys[(section,)].line - 1
    later = sorted(p.line - 1 for k, p in doc.keys.items() if len(k) == 1 and p.line - 1 > start)
    end = later[0] if later else len(lines)
    while end > start + 1 and lines[end - 1].lstrip().startswith("#"):  # keep the next section's leading comments
        end -= 1
    return "".join(lines[:start]) + dumped + "".join(lines[end:])
