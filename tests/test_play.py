"""Scripted tabletop sessions: decisions, facilitator observations and counterfactuals in the AAR."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import MINI

from coopsim.cli import main
from coopsim.engine import ScenarioError, load_scenario
from coopsim.engine.tabletop.session import Session, play
from coopsim.reports.write import write_report

SESSION = """decisions:
  dp_priority: {option: standard, by: NAC seat, rationale: Keep the normal loading plan}
observations:
  - {objective: obj_cycle, text: "EADRCC waited <i>hours</i> for OCHA's request", t: 10h}
"""


def test_a_played_session_reports_decisions_observations_and_counterfactuals(tmp_path):
    (tmp_path / "session.yaml").write_text(SESSION)
    ticks = []
    result = play(
        load_scenario(MINI), Session.from_file(tmp_path / "session.yaml"), tmp_path / "run", 3, 1, progress=lambda *t: ticks.append(t)
    )
    assert ticks == [(n, 6) for n in range(1, 7)]  # two options x three replications
    assert [(d["decision"], d["option"], d["by"]) for d in result.metrics.detail["decisions"]] == [("dp_priority", "standard", "NAC seat")]
    report = write_report(tmp_path / "run")
    doc = json.loads((report / "report.json").read_text())
    assert doc["observations"] == [
        {"text": "EADRCC waited <i>hours</i> for OCHA's request", "objective": "obj_cycle", "by": "facilitator", "t": 10.0}
    ]
    cycle = next(c for c in doc["counterfactuals"] if c["metric"] == "rfa_cycle_time")
    assert (cycle["chosen"], cycle["alternative"]) == ("standard", "surge")
    assert cycle["difference"]["mean"] == pytest.approx(-2.0)  # surge would have saved two loading hours
    html = (report / "report.html").read_text()
    assert "Counterfactuals" in html and "EADRCC waited &lt;i&gt;hours&lt;/i&gt;" in html


def test_a_session_naming_an_unknown_objective_is_refused(tmp_path):
    (tmp_path / "s.yaml").write_text("decisions: {}\nobservations:\n  - {objective: nope, text: x}\n")
    with pytest.raises(ScenarioError, match="observation names objective 'nope', which does not exist"):
        Session.from_file(tmp_path / "s.yaml").check(load_scenario(MINI))


def test_play_command(tmp_path):
    (tmp_path / "session.yaml").write_text(SESSION)
    args = ["play", str(MINI), "--script", str(tmp_path / "session.yaml"), "-n", "2", "--workers", "1", "--out", str(tmp_path / "p")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Report in" in result.output and (tmp_path / "p" / "report" / "report.html").exists()


def test_facilitator_releases_are_replayed_in_the_run_and_in_every_counterfactual(vary, tmp_path):
    # the RFA comes only if the facilitator releases its inject, so a counterfactual without the release would have no cycle
    def held_back(d):
        d["injects"][1] = {k: v for k, v in d["injects"][1].items() if k != "time"} | {"contingency": True}

    scenario = vary(held_back)
    (tmp_path / "s.yaml").write_text(
        "decisions: {dp_priority: standard}\nreleases:\n  - {inject: 2, t: 5h}\n"
        "observations:\n  - {text: The RFA came late, t: 5h, objective: obj_cycle}\n"
    )
    result = play(scenario, Session.from_file(tmp_path / "s.yaml"), tmp_path / "run", replications=2, workers=1)
    assert result.metrics.values["rfa_cycle_time"] == 61.0  # released at 5 h: acknowledged, then assessed by OCHA
    doc = json.loads((write_report(tmp_path / "run") / "report.json").read_text())
    cycle = next(c for c in doc["counterfactuals"] if c["metric"] == "rfa_cycle_time")
    assert (cycle["chosen_mean"], cycle["alternative_mean"]) == (61.0, 59.0)
    row = next(t for t in doc["timeline"] if t["seq"] == 2)
    assert (row["planned"], row["released"], row["released_by"]) == (None, 5.0, "facilitator")
    md = (tmp_path / "run" / "report" / "report.md").read_text()
    assert (
        "| 2 | contingency: released by the facilitator | 10 Oct 2005 05:00 UTC (day 1, 5.0 h) (facilitator) | UN OCHA | Submit RFA"
        " | done |"
    ) in md
    assert "- The RFA came late — *facilitator*, at 10 Oct 2005 05:00 UTC (day 1, 5.0 h) (objective: RFA handled promptly)" in md
