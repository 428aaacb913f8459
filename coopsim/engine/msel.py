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
request an inject carries) are kept from the existing inject with the same
seq.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .loader import CONTROLLER, loads_scenario
from .outputs import write_text
from .schema import Inject, Scenario

COLUMNS = (
    "seq",
    "scenario_time",
    "inject_type",
    "delivery_method",
    "from",
    "to",
    "description",
    "expected_action",
    "objective",
    "controller",
)


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
    """The injects as MSEL rows, in seq order."""
    return [
        {
            "seq": str(i.seq),
            "scenario_time": _time_text(i),
            "inject_type": i.type,
            "delivery_method": i.delivery,
            "from": i.from_,
            "to": ";".join(i.to),
            "description": i.description,
            "expected_action": i.expected_action,
            "objective": i.objective or "",
            "controller": i.controller,
        }
        for i in sorted(scenario.injects, key=lambda i: i.seq)
    ]


def write_csv(rows: list[dict[str, str]], path: str | Path) -> None:
    """Write MSEL rows as CSV with a header row, atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def write_sheet(rows: list[dict[str, str]], path: str | Path) -> None:
    """Write MSEL rows as CSV, or as an Excel workbook when ``path`` ends in ``.xlsx``."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        write_csv(rows, path)
        return
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "MSEL"
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
    tmp = path.with_name(path.name + ".tmp")
    book.save(tmp)
    os.replace(tmp, path)


def read_sheet(path: str | Path) -> list[dict[str, str]]:
    """Read MSEL rows from CSV, or from the first worksheet of an ``.xlsx`` workbook."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return read_csv(path)
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise MselError([f"{path}:1: cannot read the workbook ({exc})"]) from None
    rows = [["" if v is None else str(v) for v in r] for r in book.worksheets[0].iter_rows(values_only=True)]
    header = rows[0] if rows else []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise MselError([f"{path}:1: missing column(s) {', '.join(missing)} (expected a header row: {', '.join(COLUMNS)})"])
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(r)]


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """Read MSEL rows (a header row naming the HSEEP columns, then one inject a row)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise MselError([f"{path}:1: missing column(s) {', '.join(missing)} (expected a header row: {', '.join(COLUMNS)})"])
            return list(reader)
    except (OSError, UnicodeDecodeError) as exc:
        raise MselError([f"{path}:1: cannot read the sheet ({exc})"]) from None


def import_rows(rows: list[dict[str, str]], scenario_path: str | Path, sheet: str = "msel.csv") -> int:
    """Replace the scenario file's injects with ``rows``; returns how many were imported.

    Raises:
        MselError: a row is wrong; nothing is written.
    """
    scenario_path = Path(scenario_path)
    text = scenario_path.read_text(encoding="utf-8")
    scenario = loads_scenario(text, str(scenario_path))
    existing = {i.seq: i for i in scenario.injects}
    actors = scenario.by_id["actors"]
    objectives = scenario.by_id["objectives"]
    problems, injects, seen = [], [], {}
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{sheet}:{n}"
        try:
            data = _inject_data(row, existing)
            inject = Inject.model_validate(data)
        except (ValueError, ValidationError, yaml.YAMLError) as exc:
            problems.append(f"{where}: {_first_error(exc)}")
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


def _inject_data(row: dict[str, str], existing: dict[int, Inject]) -> dict[str, Any]:
    cell = {k: (row.get(k) or "").strip() for k in COLUMNS}
    if not cell["seq"].isdigit():
        raise ValueError(f"seq {cell['seq']!r} is not a whole number (expected 1, 2, 3...)")
    seq = int(cell["seq"])
    data: dict[str, Any] = {"seq": seq}
    when = cell["scenario_time"]
    if when == "contingency":
        data["contingency"] = True
    elif when.startswith("{"):
        data["trigger"] = yaml.safe_load(when)
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
