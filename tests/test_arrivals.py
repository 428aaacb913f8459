"""Arrival streams: requests and injects arriving at random, phase by phase, with common random numbers."""

from __future__ import annotations

import pytest
from conftest import records_of

from coopsim.engine import ScenarioError, records, run

STREAM = {
    "id": "demands",
    "every": {"dist": "exponential", "mean": "12h"},
    "limit": 6,
    "quantity": {"dist": "uniform", "low": 10, "high": 30},
    "request": {
        "kind": "supply",
        "from": "un_ocha",
        "to": "eadrcc",
        "approver": "nac",
        "site": "islamabad",
        "assets": ["c17"],
        "last_resort": {"evidence": "none in reach"},
    },
}


def test_a_request_stream_brings_requests_that_are_carried_and_measured(vary):
    result = run(vary(lambda d: d.setdefault("arrivals", []).append(STREAM)), seed=4, keep_records=True)
    opened = [r for r in result.records if type(r) is records.RequestOpened]
    assert [r.request for r in opened] == [f"demands-{n}" for n in range(1, 7)]
    assert all(10 <= r.quantity <= 30 and r.site == "islamabad" for r in opened)
    gaps = [b.t - a.t for a, b in zip(opened, opened[1:], strict=False)]
    assert len(set(gaps)) == len(gaps)  # random intervals, not a timetable
    demand = 100 + sum(r.quantity for r in opened)  # the scenario's own 100 t, and the stream's
    assert result.metrics.detail["sites"]["islamabad"]["demand"] == pytest.approx(demand)
    completed = {r.request for r in result.records if type(r) is records.RequestStateChanged and r.state == "completed"}
    assert {r.request for r in opened} <= completed


def test_arrivals_keep_their_instants_across_variants(vary):
    """Common random numbers: a variant that changes something else sees the same arrivals at the same times."""

    def with_stream(d):
        d.setdefault("arrivals", []).append(STREAM)

    def slower(d):
        with_stream(d)
        d["channels"][0]["latency"] = "1d"

    def instants(edit):
        return [(r.t, r.quantity) for r in records_of(vary(edit), seed=9) if type(r) is records.RequestOpened]

    assert instants(with_stream) == instants(slower)


def test_phases_change_the_pace_of_arrivals(vary):
    stream = {
        "id": "reports",
        "every": {"dist": "fixed", "value": "10h"},
        "phases": [{"until": "1d", "every": "2h"}],
        "until": "2d",
        "inject": {"to": ["un_ocha"], "description": "a field report"},
    }
    recs = records_of(vary(lambda d: d.setdefault("arrivals", []).append(stream)))
    times = [r.t for r in recs if type(r) is records.InjectReleased and r.inject > 1_000_000]
    # every 2 h while t < 24 h (the draw at 22 h lands at 24 h), then every 10 h until 48 h
    assert times == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0, 24.0, 34.0, 44.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"request": None, "inject": None}, "give exactly one of request, inject"),
        ({"request": {**STREAM["request"], "site": None}}, "arrivals demands draw a quantity to carry"),
        ({"until": "0h"}, "until is not after start"),
        ({"quantity": {"dist": "triangular", "low": 5, "mode": 1, "high": 9}}, "low, mode and high are out of order"),
    ],
)
def test_a_stream_that_cannot_run_is_a_located_error(vary, change, message):
    stream = {k: v for k, v in {**STREAM, **change}.items() if v is not None}
    with pytest.raises(ScenarioError) as info:
        vary(lambda d: d.setdefault("arrivals", []).append(stream))
    assert message in str(info.value)
