"""The MSEL workbook planners use: layout and print setup, calendar columns, triggers in words, and round trips."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from conftest import MINI
from openpyxl import Workbook, load_workbook

from coopsim.cli import main
from coopsim.engine import Calendar, bundled_scenarios, derived_mismatches, load_scenario
from coopsim.engine.scenario.msel import (
    COLUMNS,
    DERIVED_COLUMNS,
    INPUT_COLUMNS,
    export_rows,
    import_rows,
    read_sheet,
    trigger_in_words,
    write_sheet,
)

SOMALIA = "somalia-wfp-escort-2008"
BUNDLED = [b.name for b in bundled_scenarios()]


def _copy(name: str, tmp_path):
    """A copy of a scenario to import into, and the scenario as loaded."""
    scenario = load_scenario(name)
    copy = tmp_path / "exercise.yaml"
    shutil.copy(scenario.source, copy)
    return scenario, copy


# -- the workbook ---------------------------------------------------------------------------------


def test_the_workbook_has_a_frozen_filtered_header_numbers_widths_and_a_print_setup(tmp_path):
    scenario = load_scenario(SOMALIA)
    write_sheet(export_rows(scenario), tmp_path / "msel.xlsx", scenario)
    sheet = load_workbook(tmp_path / "msel.xlsx").active

    assert sheet.title == "MSEL"
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N15"  # 14 columns, header and 14 injects
    assert sheet["A2"].value == 1 and type(sheet["A2"].value) is int
    assert [sheet.cell(r, 1).value for r in range(2, 16)] == list(range(1, 15))
    assert sheet["C2"].value == 1 and type(sheet["C2"].value) is int  # day
    assert sheet["C6"].value is None  # seq 5 is triggered: no day
    assert sheet["B2"].value == "2h" and sheet["B2"].data_type == "s" and sheet["B2"].quotePrefix

    widths = {letter: dim.width for letter, dim in sheet.column_dimensions.items()}
    assert widths == {
        "A": 6,  # seq
        "B": 22,  # scenario_time
        "C": 6,  # day
        "D": 17,  # date_time_utc
        "E": 23,  # local_time
        "F": 36,  # trigger_in_words
        "G": 12,
        "H": 16,
        "I": 12,
        "J": 18,
        "K": 50,  # description
        "L": 36,  # expected_action
        "M": 16,
        "N": 14,
    }
    assert sheet["K2"].alignment.wrap_text and sheet["L2"].alignment.wrap_text and sheet["F6"].alignment.wrap_text
    assert not sheet["A2"].alignment.wrap_text

    assert all(c.font.b for c in sheet[1])
    assert sheet["A1"].fill.fgColor.rgb == "00D9E1F2" and sheet["C1"].fill.fgColor.rgb == "00EDEDED"
    assert [c.value for c in sheet[1] if c.comment] == list(DERIVED_COLUMNS)
    assert "import ignores it" in sheet["D1"].comment.text

    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.oddHeader.center.text == sheet.oddFooter.center.text == scenario.scenario.handling
    assert sheet.oddHeader.left.text == f"MSEL: {scenario.scenario.name}"
    assert sheet.oddFooter.right.text == "Page &P of &N"


def test_an_ampersand_in_the_banner_is_printed_not_read_as_a_header_code(vary, tmp_path):
    scenario = vary(lambda d: d["scenario"].update(handling="NATO & UN RESTRICTED"))
    write_sheet(export_rows(scenario), tmp_path / "msel.xlsx", scenario)
    sheet = load_workbook(tmp_path / "msel.xlsx").active
    assert sheet.oddHeader.center.text == "NATO && UN RESTRICTED"
    assert sheet.oddHeader.left.text == "MSEL: Mini airlift"


def test_the_csv_has_the_same_columns(tmp_path):
    write_sheet(export_rows(load_scenario(SOMALIA)), tmp_path / "msel.csv")
    with (tmp_path / "msel.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1][:6] == ["1", "2h", "1", "2008-09-25 02:00", "2008-09-25 05:00 EAT", ""]
    assert rows[5][:3] == ["5", "{delay: 48h, request: sg_request, state: tasked}", ""]


# -- the calendar ---------------------------------------------------------------------------------


def test_the_calendar_gives_utc_local_time_and_exercise_day():
    nairobi = Calendar.of("2008-09-25T00:00:00Z", "Africa/Nairobi")  # UTC+3
    late = nairobi.at(47.5)
    assert late.utc == datetime(2008, 9, 26, 23, 30, tzinfo=UTC)
    assert (f"{late.local:%Y-%m-%d %H:%M %Z}", late.day, late.hours) == ("2008-09-27 02:30 EAT", 2, 47.5)
    assert [nairobi.at(t).day for t in (0.0, 23.99, 24.0, 48.0)] == [1, 1, 2, 3]
    offset = Calendar.of("2005-10-10T05:00:00+05:00")  # an offset start is turned to UTC
    assert offset.at(0.0).utc == datetime(2005, 10, 10, 0, 0, tzinfo=UTC) and offset.at(0.0).local is None
    assert Calendar.of("2005-10-10T05:00:00").at(1.0).utc == datetime(2005, 10, 10, 6, 0, tzinfo=UTC)  # no offset: UTC
    assert Calendar.of(datetime(2008, 9, 25, tzinfo=UTC)) == Calendar.of("2008-09-25T00:00:00Z")


@pytest.mark.parametrize(
    ("name", "first_timed"),
    [
        (
            SOMALIA,
            {"seq": "1", "scenario_time": "2h", "day": "1", "date_time_utc": "2008-09-25 02:00", "local_time": "2008-09-25 05:00 EAT"},
        ),
        (
            "pakistan-earthquake-2005",  # starts 03:50 UTC; Pakistan is UTC+5
            {"seq": "1", "scenario_time": "2h", "day": "1", "date_time_utc": "2005-10-08 05:50", "local_time": "2005-10-08 10:50 PKT"},
        ),
        (
            "cied-unmas-training",  # no timezone: no local time
            {"seq": "1", "scenario_time": "1d", "day": "2", "date_time_utc": "2019-03-05 07:00", "local_time": ""},
        ),
    ],
)
def test_the_first_timed_inject_of_a_bundled_scenario_is_on_the_calendar(name, first_timed):
    rows = export_rows(load_scenario(name))
    row = rows[0]
    assert {k: row[k] for k in first_timed} == first_timed
    assert row["trigger_in_words"] == ""


def test_triggered_and_contingency_injects_have_no_calendar_cells():
    rows = {r["seq"]: r for r in export_rows(load_scenario(SOMALIA))}
    for seq in ("5", "6", "11", "12"):
        assert (rows[seq]["day"], rows[seq]["date_time_utc"], rows[seq]["local_time"]) == ("", "", ""), seq
    assert rows["10"]["day"] == "28" and rows["10"]["date_time_utc"] == "2008-10-22 00:00"


# -- triggers in words ----------------------------------------------------------------------------


def _every_kind(d: dict) -> None:
    d["requests"][0]["description"] = "Airlift of relief goods"
    d["decision_points"][0]["options"][0]["action"] = {"release_inject": 13}
    d["injects"] += [
        {"seq": 3, "trigger": {"at": "2d"}, "to": ["un_ocha"], "description": "at"},
        {"seq": 4, "trigger": {"at": "2d", "delay": "6h"}, "to": ["un_ocha"], "description": "at, later"},
        {"seq": 5, "trigger": {"request": "airlift", "state": "approved", "delay": "6h"}, "to": ["un_ocha"], "description": "r"},
        {"seq": 6, "trigger": {"request": "airlift", "state": "in_progress"}, "to": ["un_ocha"], "description": "r"},
        {"seq": 7, "trigger": {"inject": 2}, "to": ["un_ocha"], "description": "i"},
        {"seq": 8, "trigger": {"fact": "flights", "known_by": "un_ocha", "delay": "2d"}, "to": ["un_ocha"], "description": "f"},
        {"seq": 9, "trigger": {"fact": "damage", "known_by": "un_ocha"}, "to": ["un_ocha"], "description": "f"},
        {"seq": 10, "trigger": {"decision": "dp_priority"}, "to": ["un_ocha"], "description": "d"},
        {"seq": 11, "trigger": {"decision": "dp_priority", "option": "surge", "delay": "90m"}, "to": ["un_ocha"], "description": "d"},
        {"seq": 12, "contingency": True, "to": ["un_ocha"], "description": "c"},
        {"seq": 13, "contingency": True, "to": ["un_ocha"], "description": "c, by a decision"},
        {"seq": 14, "contingency": True, "trigger": {"request": "airlift", "state": "declined"}, "to": ["un_ocha"], "description": "c"},
        {"seq": 15, "contingency": True, "time": "3d", "to": ["un_ocha"], "description": "c, timed"},
    ]


def test_every_kind_of_trigger_is_put_in_words(vary):
    scenario = vary(_every_kind)
    words = {i.seq: trigger_in_words(i, scenario) for i in scenario.injects}
    assert words == {
        1: "",
        2: "",
        3: "at hour 48",
        4: "6 h after hour 48",
        5: "6 h after request 'Airlift of relief goods' (airlift) is approved",
        6: "when request 'Airlift of relief goods' (airlift) is in progress",
        7: "when inject 2 is released",
        8: "2 d after un_ocha learns fact 'Flight schedule' (flights)",
        9: "when un_ocha learns fact 'Damage assessment' (damage)",
        10: "when decision 'Prioritise the air bridge' (dp_priority) is taken",
        11: "1.5 h after decision 'Prioritise the air bridge' (dp_priority) chooses surge",
        12: "contingency: released by the facilitator",
        13: "contingency: released by decision 'Prioritise the air bridge' (dp_priority) choosing standard, or by the facilitator",
        14: "contingency: when request 'Airlift of relief goods' (airlift) is declined; or released by the facilitator",
        15: "contingency: at hour 72; or released by the facilitator",
    }
    rows = {r["seq"]: r for r in export_rows(scenario)}
    when = {s: (rows[s]["day"], rows[s]["date_time_utc"], rows[s]["local_time"]) for s in ("3", "4", "5", "12", "15")}
    assert when == {  # a trigger at a fixed hour is on the calendar too; the mini scenario has no timezone
        "3": ("3", "2005-10-12 00:00", ""),
        "4": ("3", "2005-10-12 06:00", ""),
        "5": ("", "", ""),
        "12": ("", "", ""),
        "15": ("4", "2005-10-13 00:00", ""),
    }


def test_a_request_without_a_description_is_named_by_its_id(vary):
    scenario = vary(
        lambda d: d["injects"].append(
            {"seq": 3, "trigger": {"request": "airlift", "state": "handed_back"}, "to": ["un_ocha"], "description": "x"}
        )
    )
    assert trigger_in_words(scenario.by_id["injects"][3], scenario) == "when request airlift is handed back"


# -- import ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("name", BUNDLED)
def test_export_import_export_gives_the_same_rows(name, suffix, tmp_path):
    scenario, copy = _copy(name, tmp_path)
    sheet = tmp_path / f"msel{suffix}"
    write_sheet(export_rows(scenario), sheet, scenario)
    assert read_sheet(sheet) == export_rows(scenario)
    assert import_rows(read_sheet(sheet), copy, sheet.name) == len(scenario.injects)
    again = load_scenario(copy)
    assert export_rows(again) == export_rows(scenario)
    assert again.model_dump() == scenario.model_dump()


def test_a_sheet_without_the_derived_columns_imports(tmp_path):
    scenario, copy = _copy(SOMALIA, tmp_path)
    with (tmp_path / "old.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=INPUT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(export_rows(scenario))
    rows = read_sheet(tmp_path / "old.csv")
    assert set(rows[0]) == set(INPUT_COLUMNS)
    assert import_rows(rows, copy, "old.csv") == 14
    assert load_scenario(copy).model_dump() == scenario.model_dump()
    assert derived_mismatches(rows, load_scenario(copy), "old.csv") == []


def test_a_workbook_with_seq_as_a_number_imports(tmp_path):
    scenario, copy = _copy(SOMALIA, tmp_path)
    book = Workbook()
    book.active.append(list(INPUT_COLUMNS))
    for n, row in enumerate(export_rows(scenario)):
        seq = int(row["seq"]) if n % 2 else float(row["seq"])  # Excel may hand back 3 or 3.0
        book.active.append([seq] + [row[c] or None for c in INPUT_COLUMNS[1:]])
    book.save(tmp_path / "typed.xlsx")
    rows = read_sheet(tmp_path / "typed.xlsx")
    assert [r["seq"] for r in rows] == [str(n) for n in range(1, 15)]
    assert import_rows(rows, copy, "typed.xlsx") == 14
    assert load_scenario(copy).model_dump() == scenario.model_dump()


def test_an_edited_derived_cell_is_ignored_with_a_warning(tmp_path):
    scenario, copy = _copy(SOMALIA, tmp_path)
    rows = export_rows(scenario)
    rows[0]["date_time_utc"] = "2008-09-26 02:00"  # a planner moves seq 1 by a day, in the wrong column
    rows[4]["trigger_in_words"] = "when the NAC says so"
    rows[10]["day"] = ""  # a cleared derived cell is no edit
    write_sheet(rows, tmp_path / "msel.csv")
    result = CliRunner().invoke(main, ["msel", "import", str(tmp_path / "msel.csv"), "--into", str(copy)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"14 injects imported into {copy}\n"
    sheet = tmp_path / "msel.csv"
    assert result.stderr.splitlines() == [
        f"{sheet}:2: warning: date_time_utc '2008-09-26 02:00' was ignored; scenario_time '2h' gives '2008-09-25 02:00' "
        "(derived columns are not imported: expected scenario_time edited to move an inject)",
        f"{sheet}:6: warning: trigger_in_words 'when the NAC says so' was ignored; scenario_time "
        "'{delay: 48h, request: sg_request, state: tasked}' gives "
        "\"2 d after request 'The UN Secretary-General asks NATO to escort WFP-chartered ships pending an EU operation' "
        '(sg_request) is tasked" (derived columns are not imported: expected scenario_time edited to move an inject)',
    ]
    assert load_scenario(copy).model_dump() == scenario.model_dump()  # nothing moved


def test_the_help_says_derived_columns_are_ignored_on_import():
    runner = CliRunner()
    assert "ignored on import" in " ".join(runner.invoke(main, ["msel", "import", "--help"]).output.split())
    assert "import ignores them" in " ".join(runner.invoke(main, ["msel", "export", "--help"]).output.split())


def test_the_mini_scenario_round_trips_through_excel_via_the_commands(tmp_path):
    runner = CliRunner()
    copy = tmp_path / "exercise.yaml"
    shutil.copy(MINI, copy)
    out = runner.invoke(main, ["msel", "export", str(copy), "--out", str(tmp_path / "m.xlsx")])
    assert out.exit_code == 0 and out.stdout == f"2 injects written to {tmp_path / 'm.xlsx'}\n"
    back = runner.invoke(main, ["msel", "import", str(tmp_path / "m.xlsx"), "--into", str(copy)])
    assert back.exit_code == 0 and back.stderr == ""
    assert load_scenario(copy).model_dump() == load_scenario(MINI).model_dump()


def test_effects_and_incidents_the_sheet_has_no_column_for_are_kept(mini_data, tmp_path):
    import yaml

    mini_data["injects"][0]["effects"] = [
        {"route": "ramstein-islamabad-air", "close": True, "for": "36.5h"},
        {"location": "islamabad", "stock": -20},
    ]
    mini_data["injects"][1]["incident"] = "islamabad-muzaffarabad-air"
    copy = tmp_path / "exercise.yaml"
    copy.write_text(yaml.safe_dump(mini_data, sort_keys=False), encoding="utf-8")
    scenario = load_scenario(copy)
    write_sheet(export_rows(scenario), tmp_path / "msel.csv")
    assert import_rows(read_sheet(tmp_path / "msel.csv"), copy) == 2
    back = load_scenario(copy)
    assert back.injects[0].effects[0].for_ == 36.5 and back.injects[1].incident == "islamabad-muzaffarabad-air"
    assert back.model_dump() == scenario.model_dump()
