"""Shared fixtures: the small ``mini.yaml`` scenario, and a way to vary it in a test."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings

from coopsim.engine import Scenario, loads_scenario, run
from coopsim.engine.log.records import Record

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini.yaml"


@pytest.fixture
def mini_data() -> dict:
    return yaml.safe_load(MINI.read_text(encoding="utf-8"))


def scenario_from(data: dict) -> Scenario:
    """Validate plain data as a scenario (through YAML, as a user's file would be)."""
    return loads_scenario(yaml.safe_dump(data, sort_keys=False), source="test.yaml")


@pytest.fixture
def vary(mini_data) -> Callable[[Callable[[dict], None]], Scenario]:
    """``vary(fn)``: the mini scenario after ``fn`` edits its data in place."""

    def make(edit: Callable[[dict], None]) -> Scenario:
        data = copy.deepcopy(mini_data)
        edit(data)
        return scenario_from(data)

    return make


def records_of(scenario: Scenario, **kwargs) -> tuple[Record, ...]:
    return run(scenario, keep_records=True, **kwargs).records


def log(records, *kinds: str) -> list[tuple]:
    """A ``(t, kind, actor)`` log, optionally of some kinds only."""
    return [(r.t, r.kind, r.actor) for r in records if not kinds or r.kind in kinds]


# Hypothesis: the suite runs a fixed, repeatable set of examples (``ci``); ``--hypothesis-profile=fuzz`` hunts with many more.
settings.register_profile(
    "ci",
    max_examples=500,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("COOPSIM_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci")
