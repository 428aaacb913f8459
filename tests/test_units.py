"""Durations, distributions, patches and RNG streams: the pure building blocks."""

from __future__ import annotations

import random
import statistics

import pytest
from pydantic import TypeAdapter, ValidationError

from coopsim.engine.scenario.distributions import Distribution
from coopsim.engine.scenario.durations import parse_duration
from coopsim.engine.scenario.patch import apply_patch, expand_dotted
from coopsim.engine.sim.streams import Streams

DIST = TypeAdapter(Distribution)


@pytest.mark.parametrize("text,hours", [("90m", 1.5), ("6h", 6.0), ("2d", 48.0), ("1w", 168.0), ("0.5h", 0.5), ("36s", 0.01)])
def test_durations_are_hours(text, hours):
    assert parse_duration(text) == pytest.approx(hours)


@pytest.mark.parametrize("bad", ["-2h", "6 hours", "6", 6, True, "h"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    "spec,mean",
    [
        ("6h", 6.0),
        ({"dist": "uniform", "low": "2h", "high": "4h"}, 3.0),
        ({"dist": "triangular", "low": "1h", "mode": "2h", "high": "6h"}, 3.0),
        ({"dist": "exponential", "mean": "5h"}, 5.0),
        ({"dist": "lognormal", "mean": "10h", "sd": "4h"}, 10.0),
    ],
)
def test_sample_means_match(spec, mean):
    dist = DIST.validate_python(spec)
    assert dist.mean == pytest.approx(mean)
    rng = random.Random(42)
    xs = [dist.sample(rng) for _ in range(20_000)]
    assert statistics.fmean(xs) == pytest.approx(mean, rel=0.03)
    assert min(xs) >= 0


def test_normal_is_truncated_at_zero():
    dist = DIST.validate_python({"dist": "normal", "mean": "1h", "sd": "2h"})
    rng = random.Random(1)
    xs = [dist.sample(rng) for _ in range(10_000)]
    assert min(xs) >= 0
    # Truncation moves the mean up: E[X | X >= 0] for N(1, 2) is about 2.02.
    assert statistics.fmean(xs) == pytest.approx(2.02, rel=0.05)


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "uniform", "low": "3h", "high": "1h"},
        {"dist": "triangular", "low": "1h", "mode": "5h", "high": "4h"},
        {"dist": "exponential", "mean": "0h"},
        {"dist": "lognormal", "mean": "2h"},
        {"dist": "weibull", "mean": "2h"},
        {"dist": "fixed", "value": "2h", "extra": 1},
    ],
)
def test_distributions_validate_their_parameters(spec):
    with pytest.raises(ValidationError):
        DIST.validate_python(spec)


def test_expand_dotted_nests_paths():
    assert expand_dotted({"a.b.c": 1, "a.d": 2, "e": {"f.g": 3}}) == {"a": {"b": {"c": 1}, "d": 2}, "e": {"f": {"g": 3}}}


def test_patch_merges_lists_by_id_and_leaves_the_original_alone():
    data = {"actors": [{"id": "a", "staff": 1, "name": "A"}, {"id": "b", "staff": 2}], "scenario": {"seed": 1, "name": "x"}}
    patched = apply_patch(data, {"actors.b.staff": 5, "actors": {"a": {"name": "Alpha"}}, "scenario": {"seed": 3}})
    assert patched == {"actors": [{"id": "a", "staff": 1, "name": "Alpha"}, {"id": "b", "staff": 5}], "scenario": {"seed": 3, "name": "x"}}
    assert data["actors"][1]["staff"] == 2


def test_patch_null_removes_an_entity_and_a_list_replaces():
    data = {"liaison": [{"id": "lo1"}, {"id": "lo2"}], "routes": [{"from": "a"}]}
    assert apply_patch(data, {"liaison": {"lo1": None}}) == {"liaison": [{"id": "lo2"}], "routes": [{"from": "a"}]}
    assert apply_patch(data, {"liaison": []})["liaison"] == []
    assert apply_patch(data, {"routes.0.from": "b"})["routes"] == [{"from": "b"}]


def test_streams_are_independent_of_each_other_and_of_creation_order():
    first = Streams(7)
    a1 = [first("channel:a").random() for _ in range(3)]
    second = Streams(7)
    second("channel:new").random()  # another entity drawing first changes nothing for channel:a
    assert [second("channel:a").random() for _ in range(3)] == a1
    assert [Streams(8)("channel:a").random() for _ in range(3)] != a1
