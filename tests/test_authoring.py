"""Authoring help: MSEL spreadsheet export/import, the starter scenario, and validation warnings."""

from __future__ import annotations

import csv
import shutil

import pytest
import yaml
from click.testing import CliRunner
from conftest import MINI, scenario_from

from coopsim.cli import main
from coopsim.engine import load_scenario
from coopsim.engine.scenario.lint import warnings
from coopsim.engine.scenario.msel import COLUMNS, MselError, export_rows, import_rows, read_sheet, write_csv


@pytest.mark.parametrize("name", ["pakistan-earthquake-2005", "somalia-wfp-escort-2008", str(MINI)])
def test_msel_round_trip_keeps_the_scenario(name, tmp_path):
    scenario = load_scenario(name)
    copy = tmp_path / "exercise.yaml"
    shutil.copy(scenario.source, copy)
    write_csv(export_rows(scenario), tmp_path / "msel.csv")
    with (tmp_path / "msel.csv").open(newline="") as fh:
        assert tuple(next(csv.reader(fh))) == COLUMNS
    assert import_rows(read_sheet(tmp_path / "msel.csv"), copy) == len(scenario.injects)
    assert load_scenario(copy).model_dump() == scenario.model_dump()


def test_msel_import_reports_bad_rows_and_changes_nothing(tmp_path):
    copy = tmp_path / "exercise.yaml"
    shutil.copy(MINI, copy)
    before = copy.read_bytes()
    rows = export_rows(load_scenario(MINI))
    rows[0]["to"] = "un_ocah"
    rows[1]["scenario_time"] = "soon"
    rows.append({**rows[1], "seq": "2", "scenario_time": "5h"})
    rows.append({**rows[1], "seq": "x", "scenario_time": "5h"})
    with pytest.raises(MselError) as info:
        import_rows(rows, copy, "msel.csv")
    assert info.value.lines == [
        "msel.csv:2: unknown actor 'un_ocah' (expected one of: un_ocha, eadrcc, nac, shape, or SIMCELL as sender)",
        "msel.csv:3: time: 'soon' is not a duration (got 'soon')",
        "msel.csv:5: seq 'x' is not a whole number (expected 1, 2, 3...)",
    ]
    assert copy.read_bytes() == before


def test_msel_commands(tmp_path):
    runner = CliRunner()
    copy = tmp_path / "exercise.yaml"
    shutil.copy(MINI, copy)
    out = runner.invoke(main, ["msel", "export", str(copy), "--out", str(tmp_path / "m.csv")])
    assert out.exit_code == 0 and "2 injects written" in out.output
    text = (tmp_path / "m.csv").read_text().replace("Earthquake damage assessment arrives", "Damage report arrives")
    (tmp_path / "m.csv").write_text(text)
    back = runner.invoke(main, ["msel", "import", str(tmp_path / "m.csv"), "--into", str(copy)])
    assert back.exit_code == 0, back.output
    assert load_scenario(copy).injects[0].description == "Damage report arrives"
    (tmp_path / "bad.csv").write_text("seq,description\n1,x\n")
    bad = runner.invoke(main, ["msel", "import", str(tmp_path / "bad.csv"), "--into", str(copy)])
    assert bad.exit_code == 1 and "bad.csv:1: missing column(s) scenario_time" in bad.output


def test_starter_scenario_validates_and_runs(tmp_path):
    runner = CliRunner()
    made = runner.invoke(main, ["new", "drill", "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    assert runner.invoke(main, ["validate", str(tmp_path / "drill.yaml")]).exit_code == 0
    ran = runner.invoke(main, ["run", str(tmp_path / "drill.yaml"), "--out", str(tmp_path / "run")])
    assert ran.exit_code == 0 and "RFA handled within 3 days" in ran.output
    again = runner.invoke(main, ["new", "drill", "--out", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_warnings_point_at_likely_mistakes():
    data = yaml.safe_load(MINI.read_text())
    data["actors"].append({"id": "ngo", "name": "Lonely NGO", "family": "NGO"})
    data["assets"].append(
        {"id": "trucks", "name": "Trucks", "owner": "shape", "kind": "trucks", "mode": "road", "capacity": 10, "base": "ramstein"}
    )
    data["injects"][1].pop("request")
    data["injects"].append({"seq": 3, "time": "30d", "to": ["nac"], "description": "Too late"})
    found = [(p.position.line, p.message) for p in warnings(scenario_from(data))]
    assert [m for _, m in found] == [
        "warning: actor ngo is unreachable",
        "warning: asset trucks is never used",
        "warning: inject 3 is timed at 720h, after the scenario ends at 240h",
        "warning: objective obj_cycle can never be measured: no request is ever submitted",
        "warning: objective obj_fill can never be measured: nothing is ever delivered to islamabad",
    ]
    assert warnings(load_scenario("pakistan-earthquake-2005")) == []


def test_msel_round_trip_through_excel(tmp_path):
    from coopsim.engine.scenario.msel import read_sheet, write_sheet

    scenario = load_scenario("somalia-wfp-escort-2008")
    copy = tmp_path / "exercise.yaml"
    shutil.copy(scenario.source, copy)
    write_sheet(export_rows(scenario), tmp_path / "msel.xlsx")
    assert read_sheet(tmp_path / "msel.xlsx") == export_rows(scenario)
    import_rows(read_sheet(tmp_path / "msel.xlsx"), copy)
    assert load_scenario(copy).model_dump() == scenario.model_dump()


def test_new_from_a_bundled_scenario_copies_it(tmp_path):
    runner = CliRunner()
    made = runner.invoke(main, ["new", "mine", "--from", "somalia-wfp-escort-2008", "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    assert load_scenario(tmp_path / "mine.yaml").model_dump() == load_scenario("somalia-wfp-escort-2008").model_dump()
    bad = runner.invoke(main, ["new", "other", "--from", "atlantis", "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "--from atlantis: no bundled scenario of that name" in bad.output
