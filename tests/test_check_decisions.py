"""``coopsim check-decisions``: does every decision point move some objective?

The verdict rules are checked on hand-made replication results with exact
values; the whole check then runs on the mini scenario, where the default
surge option only loads faster (cosmetic for its objectives) and an option
that holds the air bridge back moves the time to first delivery.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from coopsim.cli import main
from coopsim.engine import check_decisions
from coopsim.engine.experiments.decisions import effect
from coopsim.engine.experiments.design import Replication, ReplicationResult
from coopsim.engine.scenario.model import Objective

OBJ = Objective.model_validate(
    {
        "id": "obj_first",
        "name": "First delivery",
        "metric": "time_to_first_delivery",
        "target": 48,
        "thresholds": {"P": 48, "S": 72, "M": 96},
    }
)


def _results(label: str, values: list[float | None]) -> list[ReplicationResult]:
    from coopsim.engine.metrics.measurer import rate

    return [ReplicationResult(Replication(label, i, 100 + i), {OBJ.metric: v}, {OBJ.id: rate(OBJ, v)}, None) for i, v in enumerate(values)]


def test_a_clear_ten_percent_move_counts():
    e = effect(OBJ, _results("baseline", [30, 32, 34, 36]), _results("x", [35, 37, 39, 41]))
    assert e.reasons == ("mean",)
    assert (e.default.mean, e.option.mean) == (33.0, 38.0)
    assert e.change == pytest.approx(5 / 33)
    assert e.ci == pytest.approx((5.0, 5.0))


def test_a_move_under_ten_percent_does_not_count():
    e = effect(OBJ, _results("baseline", [40, 42, 44, 46]), _results("x", [44, 46, 48, 50]))
    assert e.reasons == () and not e.moves
    assert e.option.mean == 47.0


def test_a_ten_percent_move_whose_interval_includes_zero_is_noise():
    e = effect(OBJ, _results("baseline", [40, 60, 40, 60]), _results("x", [70, 40, 70, 40]))
    assert (e.default.mean, e.option.mean) == (50.0, 55.0)
    assert e.ci[0] < 0 < e.ci[1]
    assert e.reasons == ()


def test_a_change_of_the_usual_rating_counts_even_when_small():
    e = effect(OBJ, _results("baseline", [47, 47, 47, 47]), _results("x", [49, 49, 49, 49]))
    assert (e.default.rating, e.option.rating) == ("P", "S")
    assert e.reasons == ("rating",)


def test_a_metric_measured_in_fewer_runs_counts():
    e = effect(OBJ, _results("baseline", [40] * 10), _results("x", [40] * 8 + [None] * 2))
    assert (e.default.measured, e.option.measured) == (10, 8)
    assert e.reasons == ("measured",)


def test_a_tie_of_ratings_reports_the_worse():
    e = effect(OBJ, _results("baseline", [40, 40, 100, 100]), _results("x", [40, 40, 100, 100]))
    assert e.default.rating == "U"


def _with_objective_and_hold(d: dict) -> None:
    d["objectives"].append(OBJ.model_dump(exclude_defaults=True))
    d["decision_points"].append(
        {
            "id": "dp_hold",
            "name": "Hold the air bridge for a day",
            "owner": "nac",
            "trigger": {"request": "airlift", "state": "approved"},
            "options": [{"id": "go"}, {"id": "hold", "patch": {"assets.c17.load_time": "1d"}}],
            "default": "go",
        }
    )


def test_each_option_runs_against_the_default_on_the_same_seeds(vary):
    checks = check_decisions(vary(_with_objective_and_hold), replications=3, workers=1)
    assert [(c.point, c.default, c.cosmetic) for c in checks] == [("dp_priority", "standard", True), ("dp_hold", "go", False)]
    assert [list(c.effects) for c in checks] == [["standard", "surge"], ["go", "hold"]]  # every option forced, the default too
    assert not any(e.moves for e in checks[1].effects["go"])  # forcing what would be decided anyway changes nothing
    surge = {e.objective: e for e in checks[0].effects["surge"]}
    assert not any(e.moves for e in surge.values())
    hold = {e.objective: e for e in checks[1].effects["hold"]}
    assert hold["obj_first"].reasons == ("mean", "rating")
    assert hold["obj_first"].option.mean - hold["obj_first"].default.mean == pytest.approx(22.0)  # load time 2h -> 24h
    assert (hold["obj_cycle"].default.mean, hold["obj_cycle"].option.mean) == (61.0, 105.0)  # the cycle ends at the last delivery
    assert checks[0].errors == checks[1].errors == ()


def test_the_command_names_the_cosmetic_point_and_exits_1(tmp_path, mini_data):
    import yaml

    path = tmp_path / "mini.yaml"
    _with_objective_and_hold(mini_data)
    path.write_text(yaml.safe_dump(mini_data, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["check-decisions", str(path), "-n", "3", "--workers", "1"])
    assert result.exit_code == 1
    out = result.output
    assert "dp_priority  [default standard]  COSMETIC: no option moves any objective" in out
    assert "dp_hold  [default go]  matters" in out
    assert "1 of 2 decision points are cosmetic: dp_priority" in out


def test_the_command_passes_a_scenario_whose_every_decision_matters(tmp_path, mini_data):
    import yaml

    _with_objective_and_hold(mini_data)
    mini_data["decision_points"] = mini_data["decision_points"][1:]
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(mini_data, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["check-decisions", str(path), "-n", "3", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Every decision point (1) moves at least one objective." in result.output


def test_bad_input_gets_one_located_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("scenario: [\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check-decisions", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "bad.yaml:" in result.output


def test_where_a_policy_decides_forcing_the_default_option_is_an_alternative(vary):
    def edit(d):
        _with_objective_and_hold(d)
        d["decision_points"][1]["policy"] = [{"if": {"request": "airlift", "state": "approved"}, "choose": "hold"}]

    check = check_decisions(vary(edit), replications=3, workers=1)[1]
    assert check.policy and not check.cosmetic
    assert not any(e.moves for e in check.effects["hold"])  # the policy holds anyway
    go = {e.objective: e for e in check.effects["go"]}
    assert go["obj_first"].option.mean - go["obj_first"].default.mean == pytest.approx(-22.0)
