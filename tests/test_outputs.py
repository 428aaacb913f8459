"""Run outputs: byte-identical logs, the manifest, atomic run directories, reading logs back."""

from __future__ import annotations

import hashlib
import json
import socket

import pytest
from conftest import MINI

from coopsim import __version__
from coopsim.engine import load_scenario, run
from coopsim.engine.log.sinks import LogError, read_records


def _stochastic(d):
    d["actors"][1]["processing"] = {"dist": "triangular", "low": "1h", "mode": "2h", "high": "6h"}
    d["channels"][0].update(latency={"dist": "lognormal", "mean": "6h", "sd": "3h"}, loss=0.3)


def test_same_scenario_and_seed_give_a_byte_identical_log(vary, tmp_path):
    scenario = vary(_stochastic)
    run(scenario, seed=11, out=tmp_path / "a")
    run(scenario, seed=11, out=tmp_path / "b")
    run(scenario, seed=12, out=tmp_path / "c")
    a, b, c = ((tmp_path / x / "events.jsonl").read_bytes() for x in "abc")
    assert a == b
    assert a != c


def test_manifest_and_metrics_say_what_ran(tmp_path):
    scenario = load_scenario(MINI, variant="slow_channel", overrides=["actors.nac.approval=6h"])
    result = run(scenario, seed=5, out=tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["scenario"]["sha256"] == hashlib.sha256(MINI.read_bytes()).hexdigest()
    assert manifest["scenario"]["name"] == "Mini airlift"
    assert (manifest["variant"], manifest["seed"], manifest["coopsim_version"]) == ("slow_channel", 5, __version__)
    assert manifest["overrides"] == ["actors.nac.approval=6h"]
    assert manifest["outcome"] == {"status": "completed", "reason": "reached the scenario end at t=240h", "end_time": 240.0}
    lines = (tmp_path / "run" / "events.jsonl").read_text().splitlines()
    assert manifest["records"] == len(lines)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # slow channel: 24h each way instead of 6h; approval 6h instead of 12h
    assert metrics["values"]["rfa_cycle_time"] == 61.0 + 18 - 6
    assert [(o["id"], o["rating"]) for o in metrics["objectives"]] == [("obj_cycle", "S"), ("obj_fill", "P")]  # 73 h > 72 h target


def test_an_earlier_run_is_replaced_only_when_asked_and_only_if_it_holds_nothing_else(vary, tmp_path):
    from coopsim.engine import OutputDirError

    out = tmp_path / "run"
    run(vary(lambda d: None), out=out)
    with pytest.raises(OutputDirError) as info:
        run(vary(lambda d: None), out=out)
    assert str(info.value) == f"{out}: holds an earlier run (expected a new directory, or --replace to write over it)"
    run(vary(lambda d: None), out=out, replace=True)
    assert sorted(p.name for p in out.iterdir()) == [".coopsim", "events.jsonl", "manifest.json", "metrics.json", "scenario.yaml"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]

    (out / "notes.txt").write_text("the analyst's own notes")
    with pytest.raises(OutputDirError) as info:
        run(vary(lambda d: None), out=out, replace=True)
    assert str(info.value) == f"{out}: holds files coopsim did not write (notes.txt); it is never replaced (expected a new directory)"
    assert (out / "notes.txt").read_text() == "the analyst's own notes"


def test_log_reads_back_as_the_same_records(vary, tmp_path):
    result = run(vary(_stochastic), seed=2, out=tmp_path / "run", keep_records=True)
    back = list(read_records(tmp_path / "run" / "events.jsonl"))
    assert [r.as_dict() for r in back] == [r.as_dict() for r in result.records]


def test_truncated_log_names_the_file_and_line(vary, tmp_path):
    run(vary(lambda d: None), out=tmp_path / "run")
    log = tmp_path / "run" / "events.jsonl"
    text = log.read_text()
    log.write_text(text[: len(text) - 30])
    lines = text.count("\n")
    with pytest.raises(LogError, match=rf"events.jsonl:{lines}: not a complete record"):
        list(read_records(log))
    with pytest.raises(LogError, match="cannot read the event log"):
        list(read_records(tmp_path / "missing.jsonl"))


def test_progress_reports_do_not_change_the_log(vary, tmp_path):
    ticks = []
    scenario = vary(_stochastic)
    run(scenario, seed=4, out=tmp_path / "quiet")
    run(scenario, seed=4, out=tmp_path / "ticking", progress=lambda t, d, n: ticks.append((t, d, n)))
    assert (tmp_path / "quiet" / "events.jsonl").read_bytes() == (tmp_path / "ticking" / "events.jsonl").read_bytes()
    assert len(ticks) in (99, 100) and ticks[0][1] == 240.0
    assert [n for _, _, n in ticks] == sorted(n for _, _, n in ticks)


def test_fast_json_lines_equal_json_dumps(vary):
    result = run(vary(_stochastic), seed=9, keep_records=True)
    kinds = set()
    for record in result.records:
        assert record.json_line() == json.dumps(record.as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
        assert record.json_line().endswith("}\n")
        kinds.add(record.kind)
    assert len(kinds) >= 10


def test_a_directory_that_is_not_a_run_is_never_replaced(vary, tmp_path):
    from coopsim.engine import OutputDirError

    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.txt").write_text("precious")
    webapp = tmp_path / "webapp"
    webapp.mkdir()
    (webapp / "manifest.json").write_text('{"name": "my web app"}')  # a web app's manifest is not a run's
    for directory in (precious, webapp):
        for replace in (False, True):
            with pytest.raises(OutputDirError) as info:
                run(vary(lambda d: None), out=directory, replace=replace)
            never = "is not empty and was not made by coopsim; it is never replaced (expected a new directory)"
            assert str(info.value) == f"{directory}: {never}"
    assert [p.name for p in precious.iterdir()] == ["chapter1.txt"]
    assert (webapp / "manifest.json").read_text() == '{"name": "my web app"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis", "webapp"]


def test_a_killed_runs_staging_directory_is_cleared_by_the_next_run(vary, tmp_path):
    from coopsim.engine.log.outputs import staging_dir

    dead = staging_dir(tmp_path / "run")
    (dead / "events.jsonl").write_text("half a run")
    (dead / ".coopsim-staging").write_text(json.dumps({"host": socket.gethostname(), "pid": 999999999}))  # a writer long gone
    elsewhere = tmp_path / ".thesis.backup.tmp"  # someone else's hidden directory
    elsewhere.mkdir()
    run(vary(lambda d: None), out=tmp_path / "other")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".thesis.backup.tmp", "other"]


def test_the_manifest_records_the_decisions_taken(vary, tmp_path):
    from coopsim.engine import ScriptedDecider

    script = {"dp_priority": {"option": "surge", "by": "Alice (nac seat)", "rationale": "faster loading"}}
    result = run(vary(lambda d: None), decider=ScriptedDecider(script), out=tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["decisions"] == [{"point": "dp_priority", "option": "surge", "by": "Alice (nac seat)", "t": 26.0}]
    assert manifest["decider"] == "ScriptedDecider" and result.manifest == manifest


def test_run_directory_gets_ordinary_permissions(vary, tmp_path):
    run(vary(lambda d: None), out=tmp_path / "run")
    assert (tmp_path / "run").stat().st_mode & 0o755 == 0o755


def test_out_can_be_the_current_directory_when_empty(vary, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    run(vary(lambda d: None), out=".")
    assert sorted(p.name for p in here.iterdir()) == [".coopsim", "events.jsonl", "manifest.json", "metrics.json", "scenario.yaml"]


def test_the_run_keeps_the_scenario_as_run(tmp_path):
    from coopsim.engine import loads_scenario

    scenario = load_scenario(MINI, variant="slow_channel", overrides=["actors.nac.approval=6h"])
    result = run(scenario, out=tmp_path / "run")
    again = loads_scenario((tmp_path / "run" / "scenario.yaml").read_text(), source="scenario.yaml")
    assert again.model_dump() == scenario.model_copy(update={"variants": {}}).model_dump()
    resolved = again.model_dump_json(by_alias=True, exclude={"variants"}).encode()
    assert hashlib.sha256(resolved).hexdigest() == result.manifest["scenario"]["resolved_sha256"]
