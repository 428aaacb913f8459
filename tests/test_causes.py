"""Causal attribution: the critical path behind a measured time, and the lesson that names its binding cause.

Each hand-built case plants one known cause in the mini scenario (the first
delivery at Islamabad comes at 41 h: MSEL 2 h, channels 8 h, staff 5 h, NAC
approval 12 h, flying 13 h) and checks that the walk finds it, with its hours,
and that the lesson's recommendation addresses it and nothing else. A bundled
run with a delay planted by ``--set`` closes the loop.
"""

from __future__ import annotations

import pytest
from conftest import scenario_from
from test_forces import _convoy

from coopsim.engine import Blocked, critical_path, load_scenario, read_run, run
from coopsim.reports.odcr import Evidence, lesson

FIRST = "time_to_first_delivery.islamabad"


@pytest.fixture
def path_of(mini_data, tmp_path):
    """``path_of(edit, metric)``: the critical path of ``metric`` in the mini scenario after ``edit``."""
    import copy

    def make(edit, metric=FIRST):
        data = copy.deepcopy(mini_data)
        edit(data)
        run(scenario_from(data), out=tmp_path / "run", replace=True)
        return critical_path(read_run(tmp_path / "run"), metric)

    return make


def _steps(path):
    return [(s.cause, s.hours) for s in path.steps]


def test_the_path_accounts_for_the_whole_time_to_the_event(path_of):
    p = path_of(lambda d: None)
    assert (p.event, p.t) == ("first delivery at Chaklala Air Base", 41.0)
    assert _steps(p) == [("transport", 13.0), ("transit", 8.0), ("processing", 5.0), ("approval", 12.0), ("scheduled", 2.0)]
    assert p.binding().cause == "transport" and p.blocked == ()


@pytest.mark.parametrize(
    ("edit", "cause", "hours", "actor"),
    [
        (lambda d: d["actors"][2].update(approval="5d"), "approval", 120.0, "nac"),
        (lambda d: d["channels"][0].update(latency="3d"), "transit", 74.0, None),
        (lambda d: d["requests"][0].pop("last_resort"), "rework", 24.0, "un_ocha"),
        (
            lambda d: d["assets"][0].update(activation={"after": {"request": "airlift", "state": "approved"}, "lead_time": "4d"}),
            "lift_not_ready",
            94.0,
            "shape",
        ),
        (
            lambda d: (
                d["assets"][0].update(count=1),
                d["requests"].insert(
                    0,
                    {"id": "earlier", "kind": "supply", "from": "shape", "to": "shape", "quantity": 400, "site": "muzaffarabad"}
                    | {"assets": ["c17"], "at": "0h"},
                ),
            ),
            "lift_busy",
            48.0,
            "shape",
        ),
    ],
    ids=["approval", "transit", "rework", "lift_not_ready", "lift_busy"],
)
def test_a_planted_cause_is_the_binding_one(path_of, edit, cause, hours, actor):
    binding = path_of(edit).binding()
    assert (binding.cause, binding.hours, binding.actor) == (cause, hours, actor)


def test_escorts_not_yet_generated_are_told_from_escorts_on_their_way(path_of):
    def late(d):
        _convoy(d)
        d["assets"][-1]["activation"] = {"after": {"request": "airlift", "state": "approved"}, "lead_time": "2d"}

    p = path_of(late, "time_to_first_delivery.muzaffarabad")
    assert _steps(p)[:3] == [("transport", 11.0), ("escort_not_ready", 72.0), ("escort_busy", 5.0)]
    assert p.binding().text.endswith("(activated when request airlift is approved at 26.0 h, lead time 48.0 h)")
    on_time = path_of(_convoy, "time_to_first_delivery.muzaffarabad")
    assert _steps(on_time)[:2] == [("transport", 11.0), ("escort_busy", 5.0)]


def _withheld(d):
    # OCHA would ask as soon as it had NATO's flight schedule (inject 3), but no agreement releases it: it asks on day 5
    d["injects"][1].update(time="5d")
    d["injects"].append(
        {"seq": 3, "trigger": {"fact": "flights", "known_by": "un_ocha", "delay": "1h"}, "type": "request", "to": ["un_ocha"]}
        | {"description": "With the flight schedule OCHA asks for airlift", "request": "airlift"}
    )


def test_a_start_blocked_by_a_withheld_fact_is_the_binding_cause(path_of):
    p = path_of(_withheld)
    assert p.t == 159.0
    assert p.blocked == (
        Blocked(
            "flights",
            "shape",
            "un_ocha",
            48.0,
            "no agreement in force releases class 'operational' from NATO to UN (isa covers other classes)",
            72.0,
            "inject 3 (With the flight schedule OCHA asks for airlift)",
        ),
    )
    assert p.binding() is p.blocked[0]


def test_a_target_out_of_reach_whatever_the_players_did_is_put_on_the_timeline(path_of):
    p = path_of(lambda d: d["injects"][1].update(time="5d"))  # the request is only raised on day 5
    assert ("scheduled", 120.0) in _steps(p)
    assert p.binding(shortfall=0.0).cause == "transport"  # the players' largest step
    assert p.binding(shortfall=100.0).cause == "scheduled"  # 38 h under their control cannot make up 100 h


def _lesson(scenario, directory, objective_id):
    data = read_run(directory)
    o = scenario.by_id["objectives"][objective_id]
    rating = next(x.rating for x in data.metrics.objectives if x.objective == objective_id)
    return lesson(o, rating, data.metrics.values.get(o.metric), Evidence(data))


def test_the_lesson_of_a_withheld_fact_recommends_the_arrangement_not_lift(mini_data, tmp_path):
    _withheld(mini_data)
    mini_data["objectives"].append(
        {"id": "obj_first", "name": "First relief lands", "metric": FIRST, "target": 48, "thresholds": {"P": 48, "S": 96, "M": 144}}
    )
    s = scenario_from(mini_data)
    run(s, out=tmp_path / "run")
    x = _lesson(s, tmp_path / "run", "obj_first")
    assert x.kind == "improvement"
    assert "Had it arrived, inject 3 (With the flight schedule OCHA asks for airlift) would have set this going about 72 h earlier." in (
        x.discussion
    )
    assert x.conclusion == "“Flight schedule” was withheld from UN OCHA, which acted only when it heard by another route."
    assert x.recommendation == (
        "Agree an information-sharing arrangement that releases operational information up to restricted to UN OCHA,"
        " so that “Flight schedule” reaches it when it is issued."
    )
    assert "lift" not in x.recommendation


def test_a_delay_planted_in_a_bundled_scenario_is_found(tmp_path):
    # Pakistan with the Council deliberating ten days: the Muzaffarabad lesson names the Council, not transport
    s = load_scenario("pakistan-earthquake-2005", overrides=["actors.nac.approval=10d"])
    run(s, out=tmp_path / "run")
    x = _lesson(s, tmp_path / "run", "obj_muzaffarabad")
    assert (
        "The binding cause: approval for the request “Pakistan asks NATO to airlift relief donated by NATO and partner nations"
        " to Chaklala”, 240.0 h"
    ) in x.discussion
    assert x.conclusion == "Deliberation at North Atlantic Council set the pace."
    assert x.recommendation.startswith(
        "Grant SHAPE its standing authority (pakistan_airlift_authority) before the request “Pakistan asks NATO to airlift relief"
        " donated by NATO and partner nations to Chaklala” is raised, so that SHAPE approves it rather than North Atlantic Council."
    )
