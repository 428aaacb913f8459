"""Experiments: pure expansions, common random numbers, executors, failures, and resume after a kill."""

from __future__ import annotations

import importlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from coopsim.engine import ScenarioError, load_scenario
from coopsim.engine import run as run_engine
from coopsim.engine.experiments.archive import Archive
from coopsim.engine.experiments.comparison import compare
from coopsim.engine.experiments.design import Replication, experiment_key, factorial, plan, variant_names
from coopsim.engine.experiments.stats import mean_ci

SOMALIA = "somalia-wfp-escort-2008"
MINI = os.path.join(os.path.dirname(__file__), "data", "mini.yaml")
METRIC = "rfa_cycle_time.sg_request"


def test_variant_names_put_the_baseline_first():
    s = load_scenario(SOMALIA)
    assert variant_names(s) == ["baseline", "no_liaison", "no_info_sharing"]
    assert variant_names(s, ["no_info_sharing", "baseline"]) == ["baseline", "no_info_sharing"]
    with pytest.raises(ScenarioError, match="no variant named 'nope'"):
        variant_names(s, ["nope"])


def test_jobs_share_seeds_across_variants():
    expected = [Replication("baseline", 0, 100), Replication("v", 0, 100), Replication("baseline", 1, 101), Replication("v", 1, 101)]
    assert plan(["baseline", "v"], 2, 100) == expected


def test_factorial_is_every_combination():
    assert factorial({"a.b": [1, 2], "c": ["x", "y", "z"]}) == [
        {"a.b": 1, "c": "x"},
        {"a.b": 1, "c": "y"},
        {"a.b": 1, "c": "z"},
        {"a.b": 2, "c": "x"},
        {"a.b": 2, "c": "y"},
        {"a.b": 2, "c": "z"},
    ]
    assert factorial({}) == [{}]


def test_common_random_numbers_narrow_the_interval_of_a_real_difference():
    s = load_scenario(SOMALIA)
    crn = compare(s, ["no_liaison"], 20, workers=1).paired("no_liaison", METRIC)
    assert not crn.difference.includes_zero and crn.difference.mean > 0  # the liaison officer really saves time
    variant = load_scenario(SOMALIA, variant="no_liaison")
    base = [run_engine(s, seed=2008 + i).metrics.values[METRIC] for i in range(20)]
    independent = [run_engine(variant, seed=9000 + i).metrics.values[METRIC] for i in range(20)]
    unpaired = mean_ci([v - b for b, v in zip(base, independent, strict=True)])
    crn_width = crn.difference.high - crn.difference.low
    assert crn_width < 0.5 * (unpaired.high - unpaired.low)


def test_process_pool_and_serial_runs_agree_exactly():
    s = load_scenario(SOMALIA)
    serial = compare(s, replications=4, workers=1)
    pooled = compare(s, replications=4, workers=2)
    assert serial.rows == pooled.rows
    assert len(serial.rows) == 3 * 4 * len(serial.outcomes[0].metrics)


def test_a_failing_replication_is_recorded_and_the_rest_go_on(monkeypatch, tmp_path):
    run_module = importlib.import_module("coopsim.engine.run")  # the module, not the run() it exports

    real = run_module.Simulation.to_end

    def flaky(simulation, progress=None):
        if simulation.world.streams.seed == 2009:
            raise RuntimeError("boom")
        return real(simulation, progress)

    monkeypatch.setattr(run_module.Simulation, "to_end", flaky)
    archive = Archive(tmp_path / "r.sqlite")
    result = compare(load_scenario(SOMALIA), ["no_liaison"], 3, workers=1, archive=archive)
    assert [(o.job.variant, o.job.seed, o.error) for o in result.errors] == [
        ("baseline", 2009, "RuntimeError: boom"),
        ("no_liaison", 2009, "RuntimeError: boom"),
    ]
    assert len([o for o in result.outcomes if o.metrics]) == 4
    assert len(archive.rows(experiment_key(load_scenario(SOMALIA)))) == 6


SLOW = """
import sys
from coopsim.engine import Archive, compare, load_scenario
compare(load_scenario("pakistan-earthquake-2005"), ["standing_agreement"], 200, workers=1, archive=Archive(sys.argv[1]))
"""


def test_killed_experiment_resumes_without_redoing_or_losing_work(tmp_path):
    path = tmp_path / "results.sqlite"
    child = subprocess.Popen([sys.executable, "-c", SLOW, str(path)])
    try:
        deadline = time.time() + 60
        kept = 0
        while time.time() < deadline and kept < 6:
            time.sleep(0.2)
            if path.exists():
                with sqlite3.connect(path) as db:
                    try:
                        kept = db.execute("SELECT count(*) FROM replications").fetchone()[0]
                    except sqlite3.OperationalError:  # the file is there, its tables not yet
                        pass
        assert kept >= 6, "the child should have archived some replications by now"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    with sqlite3.connect(path) as db:
        before = db.execute("SELECT count(*) FROM replications").fetchone()[0]
    assert 6 <= before < 400
    scenario = load_scenario("pakistan-earthquake-2005")
    resumed = compare(scenario, ["standing_agreement"], 5 if before >= 10 else 3, workers=1, archive=Archive(path))
    fresh = compare(scenario, ["standing_agreement"], 5 if before >= 10 else 3, workers=1)
    assert resumed.reused == len(resumed.outcomes)
    assert resumed.rows == fresh.rows


def test_compare_command_prints_the_table_and_resumes(tmp_path):
    from click.testing import CliRunner

    from coopsim.cli import main

    args = ["compare", SOMALIA, "-n", "3", "--workers", "1", "--variants", "no_liaison", "--out", str(tmp_path / "cmp")]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "no_liaison               reached in 3 of 3; restricted mean" in first.output and "95% CI" in first.output
    assert "Reused" not in first.output
    again = CliRunner().invoke(main, args)
    assert "Reused 6 of 6 replications" in again.output
    bad = CliRunner().invoke(main, ["compare", SOMALIA, "--variants", "nope", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 1 and "no variant named 'nope'" in bad.output and "Traceback" not in bad.output


def test_dask_runs_give_the_same_results_as_the_process_pool():
    from coopsim.engine.experiments.executors import dask_executor

    s = load_scenario(SOMALIA)
    executor, close = dask_executor("local")
    try:
        on_dask = compare(s, ["no_liaison"], 3, executor=executor)
    finally:
        close()
    assert on_dask.rows == compare(s, ["no_liaison"], 3, workers=2).rows


def test_missing_dask_is_a_clear_error(monkeypatch):
    from coopsim.engine.experiments.executors import DaskMissing, dask_executor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DaskMissing, match=r"Dask is not installed \(expected: pip install 'coopsim\[dask\]'\)"):
        dask_executor("local")


def test_comparison_report_claims_only_what_the_intervals_support(tmp_path):
    from coopsim.reports.comparison import build_comparison
    from coopsim.reports.write import write_comparison_report

    s = load_scenario(SOMALIA)
    result = compare(s, ["no_liaison", "no_info_sharing"], 12, workers=2)
    doc = build_comparison(s, result)
    claimed = {(f["variant"], f["objective"]) for f in doc["findings"]}
    for block in doc["metrics"]:
        for row in block["rows"]:
            d = row["difference"]
            if d is not None:
                supported = not d["includes_zero"] and not row["verdict"].startswith("a clear but small")
                assert ((row["variant"], block["id"]) in claimed) == supported
    liaison = next(f for f in doc["findings"] if f["variant"] == "no_liaison" and f["objective"] == "obj_nac_decision")
    assert liaison["text"].startswith("no_liaison worsened \u201cNATO decides on the UN request within ten days\u201d: restricted mean ")
    assert not liaison["improved"]
    # a run in which WFP never gets the escort plan is censored, not dropped: the worse variant cannot look faster,
    # and the largest effect leads the findings
    plan = next(b for b in doc["metrics"] if b["id"] == "obj_escort_plan")
    withheld = next(r for r in plan["rows"] if r["variant"] == "no_info_sharing")
    assert (withheld["reached"], withheld["runs"]) == (0, 12)
    assert withheld["mean"] == s.scenario.duration and withheld["difference"]["mean"] > 1000
    assert (doc["findings"][0]["variant"], doc["findings"][0]["objective"]) == ("no_info_sharing", "obj_escort_plan")
    assert doc["findings"][0]["text"].endswith("It was reached in 0 of 12 runs, against 12 in the baseline.")
    assert [f["size"] for f in doc["findings"]] == sorted((f["size"] for f in doc["findings"]), reverse=True)
    out = write_comparison_report(s, result, tmp_path / "report")
    html = (out / "comparison.html").read_text()
    assert html.count('<img src="data:image/png;base64,') == 5 and "<script" not in html
    for section in ("findings", "metrics", "charts", "provenance"):
        assert f'<section id="{section}">' in html
    assert sorted(p.name for p in (out / "charts").iterdir()) == [
        "boxes.png",
        "delay_attribution.png",
        "forest.png",
        "rating_shares.png",
        "reached.png",
    ]
    assert doc["provenance"]["seeds"] == list(range(2008, 2020))


def test_sweep_ranks_the_parameter_that_matters_first(tmp_path):
    from click.testing import CliRunner

    from coopsim.cli import main
    from coopsim.engine.experiments.comparison import sweep
    from coopsim.reports.sweep import main_effects, tornado

    s = load_scenario("pakistan-earthquake-2005")
    grid = {"actors.nac.approval": ["6h", "2d"], "actors.eadrcc.staff": [1, 4]}
    result = sweep(s, grid, 4, workers=2)
    assert result.variants == (
        "actors.nac.approval=6h,actors.eadrcc.staff=1",
        "actors.nac.approval=6h,actors.eadrcc.staff=4",
        "actors.nac.approval=2d,actors.eadrcc.staff=1",
        "actors.nac.approval=2d,actors.eadrcc.staff=4",
    )
    effects = {b["id"]: b["ranking"] for b in main_effects(s, result, grid)}
    first = effects["obj_airbridge_open"]
    assert first[0]["parameter"] == "actors.nac.approval"
    assert first[0]["level_means"]["2d"] - first[0]["level_means"]["6h"] > 24  # a slower NAC delays the air bridge
    assert tornado(list(main_effects(s, result, grid))).png[:4] == b"\x89PNG"
    bad = CliRunner().invoke(main, ["sweep", "pakistan-earthquake-2005", "--param", "actors.nac.staff", "--out", str(tmp_path)])
    assert bad.exit_code == 1
    assert bad.stderr == "--param actors.nac.staff:1:1: a parameter needs a path and values (PATH=V1,V2,... e.g. actors.nac.staff=1,2)\n"
    wrong = CliRunner().invoke(main, ["sweep", "pakistan-earthquake-2005", "--param", "actors.nac.staff=0,1", "--out", str(tmp_path)])
    assert wrong.exit_code == 1 and "actors.nac.staff: got 0 (expected a number of at least 1)" in wrong.output


def test_event_logs_are_kept_only_on_request(tmp_path):
    from coopsim.engine import compare as api_compare  # the public API path

    s = load_scenario(SOMALIA)
    api_compare(s, ["no_liaison"], 2, workers=1, archive=Archive(tmp_path / "a.sqlite"))
    assert not (tmp_path / "logs").exists()
    api_compare(s, ["no_liaison"], 2, workers=2, keep_logs=tmp_path / "logs")
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == [
        "baseline-s2008",
        "baseline-s2009",
        "no_liaison-s2008",
        "no_liaison-s2009",
    ]
    assert (tmp_path / "logs" / "no_liaison-s2009" / "events.jsonl").stat().st_size > 0


def test_counterfactuals_show_the_better_option(vary):
    from coopsim.engine.experiments.comparison import counterfactuals

    def stochastic(d):
        d["routes"][0]["time"] = {"dist": "triangular", "low": "8h", "mode": "10h", "high": "14h"}
        d["actors"][2]["approval"] = {"dist": "uniform", "low": "6h", "high": "18h"}

    scenario = vary(stochastic)
    result = counterfactuals(scenario, {"dp_priority": "standard"}, 10, workers=2)["dp_priority"]
    assert result.variants == ("standard", "surge")
    p = result.paired("surge", "rfa_cycle_time")
    # surge loads in 1h instead of 2h; the third load waits for an aircraft to return, so two loadings
    # lie on the critical path: every replication is exactly 2h faster
    assert p.difference.high < 0 and p.p_improvement == 1.0
    assert p.difference.mean == pytest.approx(-2.0)


def test_results_export_as_tidy_rows_to_csv_and_parquet_and_never_over_a_file(tmp_path):
    import csv

    import pandas as pd
    from click.testing import CliRunner

    from coopsim.cli import main

    args = ["compare", str(MINI), "-n", "2", "--workers", "1", "--out", str(tmp_path / "cmp")]
    done = CliRunner().invoke(main, [*args, "--export", str(tmp_path / "r.csv")])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["variant", "replication", "seed", "metric", "value"]
    assert {(r["variant"], r["replication"]) for r in rows} == {(v, str(i)) for v in ("baseline", "slow_channel") for i in (0, 1)}
    assert f"Exported {len(rows):,} rows to {tmp_path / 'r.csv'}" in done.output
    again = CliRunner().invoke(main, [*args, "--export", str(tmp_path / "r.csv")])
    assert again.exit_code == 1 and again.output.strip().endswith(
        "r.csv: a file is already there and will not be replaced (expected a new file name)"
    )
    wrong = CliRunner().invoke(main, [*args, "--export", str(tmp_path / "r.xlsx")])
    assert wrong.exit_code == 1 and "cannot export to .xlsx (expected a .csv or .parquet file)" in wrong.output
    assert CliRunner().invoke(main, [*args, "--export", str(tmp_path / "r.parquet")]).exit_code == 0
    frame = pd.read_parquet(tmp_path / "r.parquet")
    assert len(frame) == len(rows) and list(frame.columns) == ["variant", "replication", "seed", "metric", "value"]


def test_to_pandas_without_pandas_says_how_to_install_it(monkeypatch):
    from coopsim.engine import PandasMissing

    result = compare(load_scenario(MINI), None, 2, workers=1)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(PandasMissing, match=r"pandas is not installed \(expected: pip install 'coopsim\[pandas\]'\)"):
        result.to_pandas()
