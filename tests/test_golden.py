"""Golden summaries: every bundled scenario, run at its own seed, matches its stored summary.

A deliberate change to a scenario or to the engine's behaviour changes these
summaries; regenerate them with ``COOPSIM_UPDATE_GOLDEN=1 pytest
tests/test_golden.py`` and review the diff like any other change.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from coopsim.engine import bundled_scenarios, load_scenario, run

GOLDEN = Path(__file__).parent / "golden"
BUNDLED = bundled_scenarios()


def summary(name: str, variant: str | None = None) -> dict:
    scenario = load_scenario(name, variant=variant)
    result = run(scenario, keep_records=True)
    values = result.metrics.values
    return {
        "seed": result.manifest["seed"],
        "outcome": result.manifest["outcome"]["status"],
        "records": result.manifest["records"],
        "kinds": dict(sorted(Counter(r.kind for r in result.records).items())),
        "objectives": {o.objective: [None if o.value is None else round(o.value, 3), o.rating] for o in result.metrics.objectives},
        "metrics": {k: None if v is None else round(v, 3) for k, v in sorted(values.items()) if "." not in k},
    }


def test_there_are_bundled_scenarios():
    assert {"pakistan-earthquake-2005", "somalia-wfp-escort-2008"} <= {b.name for b in BUNDLED}


@pytest.mark.parametrize("name", [b.name for b in BUNDLED])
def test_bundled_scenario_matches_its_golden_summary(name):
    scenario = load_scenario(name)
    for variant in [None, *scenario.variants]:
        key = f"{name}--{variant}" if variant else name
        path = GOLDEN / f"{key}.json"
        got = summary(name, variant)
        if os.environ.get("COOPSIM_UPDATE_GOLDEN"):
            path.write_text(json.dumps(got, indent=2) + "\n")
        assert path.exists(), f"no golden summary for {key}; run with COOPSIM_UPDATE_GOLDEN=1"
        assert got == json.loads(path.read_text()), key


@pytest.mark.parametrize("name", [b.name for b in BUNDLED])
def test_bundled_scenario_is_a_complete_exercise(name):
    s = load_scenario(name)
    assert s.scenario.sources and s.objectives and s.decision_points
    assert len(s.variants) >= 2
    assert all(o.target is not None for o in s.objectives)


def test_the_library_exercises_every_part_of_the_engine():
    scenarios = [load_scenario(b.name) for b in BUNDLED]
    assert {r.mode.value for s in scenarios for r in s.routes} == {"air", "sea", "road"}
    assert any(s.liaison for s in scenarios)
    assert any(not load_scenario(b.name, variant="no_liaison").liaison for b in BUNDLED if "no_liaison" in load_scenario(b.name).variants)
    assert any(i.contingency for s in scenarios for i in s.injects)
    kinds = Counter(r.kind for b in BUNDLED for r in run(load_scenario(b.name), keep_records=True).records)
    assert kinds["fact_withheld"] > 0 and kinds["fact_learned"] > 0  # sharing blocked somewhere and allowed elsewhere
    assert kinds["escort_joined"] > 0 and kinds["incident"] > 0
