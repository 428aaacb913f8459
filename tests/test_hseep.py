"""The complete HSEEP AAR/IP: the exercise overview, core capabilities, the improvement plan's dates and contacts,
Appendix B participants, and each inject's expected action evaluated from the log."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import MINI

from coopsim.engine import Names, ScenarioError, load_scenario, run
from coopsim.engine.tabletop.session import Session, play
from coopsim.reports.write import write_report

EXERCISE = {
    "name": "COOPEX 26",
    "dates": ["2026-11-30", "2026-12-01"],
    "scope": "A two-day tabletop at NATO HQ with UN OCHA by VTC.",
    "mission_areas": ["Response", "Recovery"],
    "threat": "Earthquake",
    "sponsor": "NATO Civil-Military Cooperation Centre of Excellence",
    "poc": {"name": "Maj A. Example", "role": "Exercise Director", "email": "director@example.org"},
    "contacts": {"nac": {"name": "B. Example", "role": "Operations Division"}},
}


@pytest.fixture
def exercise_file(tmp_path):
    data = yaml.safe_load(MINI.read_text())
    data["scenario"]["exercise"] = EXERCISE
    data["objectives"][0]["core_capability"] = "Operational Coordination (air bridge)"
    path = tmp_path / "exercise.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _report(scenario, tmp_path, **kw):
    run(scenario, out=tmp_path / "run", **kw)
    out = write_report(tmp_path / "run")
    return json.loads((out / "report.json").read_text()), (out / "report.md").read_text(), (out / "report.html").read_text()


def test_the_overview_says_every_hseep_field_from_the_scenario(exercise_file, tmp_path):
    doc, md, html = _report(load_scenario(exercise_file), tmp_path)
    ov = doc["overview"]
    assert (ov["exercise_name"], ov["exercise_dates"], ov["threat"], ov["mission_areas"]) == (
        "COOPEX 26",
        "30 November to 01 December 2026",
        "Earthquake",
        ["Response", "Recovery"],
    )
    assert ov["poc"] == "Maj A. Example, Exercise Director, director@example.org"
    assert ov["core_capabilities"] == ["Operational Coordination (air bridge)", "Logistics and Supply Chain Management"]
    assert "| **Sponsor** | NATO Civil-Military Cooperation Centre of Excellence |" in md
    assert '<tr><th scope="row">Scope</th><td>A two-day tabletop at NATO HQ with UN OCHA by VTC.</td></tr>' in html


def test_without_exercise_fields_the_overview_says_what_is_not_stated(tmp_path):
    doc, md, _ = _report(load_scenario(MINI), tmp_path)
    ov = doc["overview"]
    assert (ov["exercise_name"], ov["exercise_dates"], ov["sponsor"], ov["poc"]) == (
        "Mini airlift",
        "not stated in the scenario",
        "not stated in the scenario",
        "not stated in the scenario",
    )
    assert ov["scope"].endswith("a rehearsal or analysis run, not a played exercise.")
    assert ov["core_capabilities"] == ["Operational Coordination", "Logistics and Supply Chain Management"]


def test_the_improvement_plan_dates_count_from_the_exercise_end_and_name_the_organisations_poc(exercise_file, tmp_path):
    slow = load_scenario(exercise_file).model_copy()  # the baseline rates the cycle P: slow the Council to get an improvement item
    from coopsim.engine import apply_override

    slow = apply_override(load_scenario(exercise_file), "actors.nac.approval=60h")
    doc, md, _ = _report(slow, tmp_path)
    item = next(p for p in doc["improvement_plan"] if p["objective"] == "obj_cycle")
    assert (item["capability"], item["start"], item["completion"]) == ("Planning", "15 December 2026", "01 March 2027")
    assert item["poc"] == "B. Example, Operations Division"
    assert item["core_capability"] == "Operational Coordination (air bridge)"
    assert doc["plan_dates"] == "counted from the exercise's last day, 01 December 2026"


def test_without_exercise_dates_the_plan_counts_days_after_the_end(tmp_path):
    from coopsim.engine import apply_override

    doc, _, _ = _report(apply_override(load_scenario(MINI), "actors.nac.approval=60h"), tmp_path)
    item = next(p for p in doc["improvement_plan"] if p["objective"] == "obj_cycle")
    assert (item["start"], item["completion"], item["poc"]) == ("E+14 d", "E+90 d", "to be named by the organisation")


def test_exercise_fields_are_checked_with_their_place(tmp_path):
    data = yaml.safe_load(MINI.read_text())
    data["scenario"]["exercise"] = {"contacts": {"nobody": {"name": "X"}}}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError, match=r"scenario.exercise.contacts.nobody names actor 'nobody', which does not exist"):
        load_scenario(tmp_path / "a.yaml")
    data["scenario"]["exercise"] = {"dates": ["2026-12-02", "2026-12-01"], "mission_areas": ["Response"]}
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError, match=r"the exercise ends \(2026-12-01\) before it starts \(2026-12-02\)"):
        load_scenario(tmp_path / "b.yaml")
    data["scenario"]["exercise"] = {"mission_areas": ["Deterrence"]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError, match=r"scenario.exercise.mission_areas.0") as caught:
        load_scenario(tmp_path / "c.yaml")
    assert len(caught.value.problems) == 1  # the bad item only: no "too short after validation" beside it


def test_each_injects_expected_action_is_evaluated_from_the_log(tmp_path):
    doc, md, _ = _report(load_scenario(MINI), tmp_path)
    rows = {t["seq"]: t for t in doc["timeline"]}
    # inject 1 hands OCHA the damage assessment; inject 2 asks it to submit the airlift RFA
    assert rows[1]["verdict"] == "done"
    assert [(e["t"], e["text"]) for e in rows[1]["evidence"]] == [
        (2.0, "UN OCHA acknowledged it"),
        (2.0, "UN OCHA had “Damage assessment”; NATO EADRCC first had it from them"),
    ]
    assert rows[2]["verdict"] == "done"
    assert [(e["t"], e["text"]) for e in rows[2]["evidence"]] == [
        (3.0, "UN OCHA acknowledged it"),
        (3.0, "UN OCHA submitted the request airlift"),
    ]
    assert "| 2 | 10 Oct 2005 02:00 UTC (day 1, 2.0 h) | 10 Oct 2005 02:00 UTC (day 1, 2.0 h) | UN OCHA | Submit RFA | done |" in md


def test_an_action_that_never_happened_is_not_done_and_an_inject_never_released_says_so(vary, tmp_path):
    def never(d):
        d["injects"][1] = {k: v for k, v in d["injects"][1].items() if k != "time"} | {"contingency": True}
        d["injects"].append({"seq": 3, "time": "1h", "to": ["eadrcc"], "description": "Pass the damage report", "fact": "flights"})

    doc, _, _ = _report(vary(never), tmp_path)
    rows = {t["seq"]: t for t in doc["timeline"]}
    assert (rows[2]["verdict"], rows[2]["evidence"], rows[2]["observed"]) == ("not released", [], None)
    assert rows[3]["verdict"] == "done"  # EADRCC learns the flight schedule from the inject itself


def test_a_played_sessions_responses_and_players_reach_the_report(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "seats: [un_ocha, nac]\n"
        "decisions:\n  dp_priority: {option: standard, by: Colonel Smith, rationale: Keep the plan}\n"
        "responses:\n  - {inject: 2, seat: un_ocha, by: Ana Lopez, text: Drafted the RFA with the last-resort case, t: 2h}\n"
        "observations:\n  - {text: Good drill, by: Evaluator Jones}\n"
    )
    play(load_scenario(MINI), Session.from_file(tmp_path / "s.yaml"), tmp_path / "run", 2, 1)
    out = write_report(tmp_path / "run")
    doc = json.loads((out / "report.json").read_text())
    assert doc["participants"] == [
        {"organisation": "UN OCHA", "id": "un_ocha", "role": "player", "people": ["Ana Lopez"]},
        {"organisation": "North Atlantic Council", "id": "nac", "role": "player", "people": ["Colonel Smith"]},
        {"organisation": "exercise control", "id": "", "role": "facilitator or evaluator", "people": ["Evaluator Jones"]},
    ]
    row = next(t for t in doc["timeline"] if t["seq"] == 2)
    assert row["responses"] == [{"by": "Ana Lopez", "seat": "UN OCHA", "text": "Drafted the RFA with the last-resort case", "t": 2.0}]
    md = (out / "report.md").read_text()
    assert "**Response** (UN OCHA), Ana Lopez: Drafted the RFA with the last-resort case" in md
    assert "| UN OCHA | player | Ana Lopez |" in md
    assert "scope" in doc["overview"] and "with UN OCHA and North Atlantic Council at the table" in doc["overview"]["scope"]


def test_a_response_to_an_inject_not_addressed_to_the_seat_is_refused(tmp_path):
    (tmp_path / "s.yaml").write_text("responses:\n  - {inject: 2, seat: nac, text: We act}\n")
    with pytest.raises(ScenarioError, match=r"'nac' responds to inject 2, which is not addressed to it \(one of: un_ocha\)"):
        Session.from_file(tmp_path / "s.yaml").check(load_scenario(MINI))


def test_names_for_prose():
    names = Names(load_scenario("somalia-wfp-escort-2008"))
    assert names.actor("wfp") == "World Food Programme"
    assert names.actor("SIMCELL") == "exercise control"
    assert names.actor("no_such_actor") == "no_such_actor"
    assert names.fact("escort_plan") == "Task group escort plan"
    assert names.request("wfp_mogadishu") == "“WFP ships food from Mombasa to Mogadishu under NATO escort”"
    assert (
        names.actors(["wfp", "snmg2", "nac"])
        == "World Food Programme, Standing NATO Maritime Group 2 task group commander and North Atlantic Council"
    )


def test_a_lesson_says_with_a_confidence_interval_what_another_variant_would_have_changed(tmp_path):
    from click.testing import CliRunner

    from coopsim.cli import main
    from coopsim.engine import Archive, compare

    scenario = load_scenario(MINI)
    compare(scenario, ["slow_channel"], 3, workers=1, archive=Archive(tmp_path / "cmp" / "results.sqlite"))
    run(load_scenario(MINI, variant="slow_channel"), out=tmp_path / "run")
    out = write_report(tmp_path / "run", what_if=tmp_path / "cmp")
    doc = json.loads((out / "report.json").read_text())
    cycle = next(x for x in doc["lessons"] if x["objective"] == "obj_cycle")
    assert cycle["quantified"] == [
        "With the baseline (the scenario as written), this objective would have been 18.0 h sooner (paired difference -18.0 h,"
        f" 95% CI -18.0 h to -18.0 h, over 3 replications of the experiment in {tmp_path / 'cmp'}; reached in 3 of 3 runs,"
        " against 3 of 3 as this run was made)."
    ]
    # a directory that is not an experiment of this scenario gets one line, and no report
    result = CliRunner().invoke(main, ["report", str(tmp_path / "run"), "--what-if", str(tmp_path), "--out", str(tmp_path / "r2")])
    assert result.exit_code == 1
    assert result.output.strip().endswith("holds no results.sqlite (expected the --out directory of coopsim compare on this scenario)")
    assert not (tmp_path / "r2").exists()
