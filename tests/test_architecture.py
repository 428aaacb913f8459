"""The shape of the house: the request lifecycle, the metric catalogue, explicit roles, typed run data, and properties.

Hypothesis checks the invariants the rest of the engine leans on: patches
merge purely and idempotently, durations read back exactly as written, an
agreement never widens what a marking forbids, and the fast JSON line writer
equals ``json.dumps``.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from conftest import MINI, records_of, scenario_from
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coopsim.engine import METRICS, MOVES, Part, Phase, RequestTrack, ScenarioError, load_scenario, records, run
from coopsim.engine.log.lifecycle import PHASE_AFTER
from coopsim.engine.log.rundir import RunRecords
from coopsim.engine.scenario.durations import MAX_HOURS, duration_text, parse_duration
from coopsim.engine.scenario.model import Marking, RequestState
from coopsim.engine.scenario.patch import apply_patch
from coopsim.engine.sim.deciders import DefaultDecider
from coopsim.engine.sim.lifecycle import LifecycleError, move
from coopsim.engine.sim.sharing import releasability
from coopsim.engine.sim.world import build

# -- the request lifecycle ---------------------------------------------------------------------


def test_every_request_in_every_bundled_scenario_moves_only_as_the_lifecycle_allows():
    from coopsim.engine import bundled_scenarios

    for b in bundled_scenarios():
        changes: dict[str, list[RequestState]] = {}
        for r in run(load_scenario(b.path), keep_records=True).records:
            if type(r) is records.RequestStateChanged:
                assert type(r.state) is RequestState
                changes.setdefault(r.request, []).append(r.state)
        assert changes, b.name
        for rid, states in changes.items():
            before = None
            for state in states:
                assert state in MOVES[before], (b.name, rid, before, state)
                before = state


def test_a_move_the_lifecycle_does_not_allow_is_refused(vary):
    world = build(vary(lambda d: None), 1, DefaultDecider(), [lambda r: None])
    world.request_states["airlift"] = RequestState.declined
    with pytest.raises(LifecycleError, match="request airlift cannot go from declined to approved"):
        move(world, "airlift", "nac", RequestState.approved)


def test_a_request_track_cuts_its_time_into_phases_and_parts_that_add_up(vary):
    tracks_of = records_of(vary(lambda d: None))
    track = RequestTrack("airlift")
    for r in tracks_of:
        if type(r) is records.RequestStateChanged and r.request == "airlift":
            track.moved(r)
    phases = track.phases(end=240.0)
    assert [p.phase for p in phases] == [
        Phase.validation,  # OCHA assesses its own last-resort case
        Phase.forwarding,  # to EADRCC, which forwards it to the NAC
        Phase.awaiting_decision,
        Phase.tasking,
        Phase.transport,
        Phase.hand_back,
    ]
    assert all(a.end == b.start for a, b in zip(phases, phases[1:], strict=False))
    assert set(PHASE_AFTER.values()) == set(Phase) and "approval" not in {p.value for p in Phase}
    metrics = run(vary(lambda d: None)).metrics
    parts = metrics.detail["requests"]["airlift"]["parts"]
    assert list(parts) == [p.value for p in Part]
    assert sum(parts.values()) == pytest.approx(metrics.values["rfa_cycle_time.airlift"])


# -- the metric catalogue ------------------------------------------------------------------------


def test_the_catalogue_is_complete_when_only_the_scenario_layer_is_imported():
    code = "from coopsim.engine.scenario.metric_names import METRICS; print(sorted(METRICS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == sorted(METRICS)
    assert {"rfa_cycle_time", "request_cycle_time", "info_latency", "fill_rate", "incidents"} <= set(METRICS)


def test_an_rfa_metric_on_a_request_that_is_no_rfa_is_refused_with_the_general_name(tmp_path):
    text = MINI.read_text().replace("metric: rfa_cycle_time", "metric: rfa_cycle_time.ask", 1)
    text = text.replace("requests:\n", "requests:\n  - {id: ask, kind: rfi, from: un_ocha, to: eadrcc, fact: damage, at: 1h}\n", 1)
    path = tmp_path / "rfi.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    line = next(str(p) for p in info.value.problems if "is for RFAs" in str(p))
    assert line.endswith("metric 'rfa_cycle_time.ask' is for RFAs, and request ask is a rfi (request_cycle_time.ask)")


# -- explicit roles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        ({"kind": "escort", "capacity": 1}, "kind 'escort' is only a label; an escort pool says role: escort"),
        ({"kind": "frigate", "role": "escort", "capacity": 1}, "an escort carries no cargo"),
        ({"kind": "trucks", "convoy": 2, "capacity": 10}, "convoy is for escorts"),
        ({"kind": "trucks"}, "a lift asset needs a capacity"),
    ],
)
def test_what_an_asset_does_is_its_role_never_its_label(mini_data, asset, expected):
    data = copy.deepcopy(mini_data)
    data["assets"].append({"id": "x", "name": "X", "owner": "shape", "mode": "air", "base": "ramstein", **asset})
    with pytest.raises(ScenarioError) as info:
        scenario_from(data)
    assert expected in str(info.value)


# -- reports read typed run data in bounded memory ---------------------------------------------------


def test_run_records_fold_what_no_report_shows_one_by_one(vary):
    kept = RunRecords()
    everything = records_of(vary(lambda d: d["facts"][0].update(at="1h", every="1h")), seed=3)
    for r in everything:
        kept(r)
    assert kept.total == len(everything)
    sent = [r for r in everything if type(r) is records.MessageSent]
    assert sum(c.sent for c in kept.channels.values()) == len(sent)
    assert all(r.request is not None for r in kept.of(records.MessageSent))
    learned = [r for r in everything if type(r) is records.FactLearned]
    assert len(learned) > 100 and sum(a.editions for a in kept.arrivals.values()) == len(learned)
    assert kept.of(records.FactLearned) == []  # folded into arrivals, never kept one by one
    merged = kept.of(records.RequestStateChanged, records.Delivery)
    assert [r.seq for r in merged] == sorted(r.seq for r in merged)


# -- properties ----------------------------------------------------------------------------------------

plain = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=200)
@given(data=st.dictionaries(st.sampled_from("abcd"), plain, max_size=4), patch=st.dictionaries(st.sampled_from("abcd"), plain, max_size=3))
def test_patch_merging_is_pure_and_idempotent(data, patch):
    before, patch_before = copy.deepcopy(data), copy.deepcopy(patch)
    try:
        once = apply_patch(data, patch)
    except KeyError:  # a patch naming a list item that does not exist is refused (with a location, when loading)
        assume(False)
    assert data == before and patch == patch_before  # pure: neither input changes
    assert apply_patch(once, patch) == once  # idempotent: applying it again changes nothing


@settings(max_examples=300)
@given(hours=st.floats(min_value=0, max_value=MAX_HOURS, allow_nan=False))
def test_a_duration_reads_back_exactly_as_it_was_written(hours):
    assert parse_duration(duration_text(hours)) == hours


@settings(max_examples=200)
@given(number=st.integers(0, 5_000), unit=st.sampled_from("smhdw"))
def test_written_durations_are_hours_in_their_unit(number, unit):
    hours = parse_duration(f"{number}{unit}")
    assert hours == pytest.approx(number * {"s": 1 / 3600, "m": 1 / 60, "h": 1, "d": 24, "w": 168}[unit])


MARKINGS = list(Marking)


@settings(max_examples=150, deadline=None)
@given(
    fact_marking=st.sampled_from(MARKINGS),
    agreements=st.lists(
        st.tuples(st.sampled_from(MARKINGS), st.sets(st.sampled_from(["humanitarian", "operational"]), min_size=1)), max_size=3
    ),
    fact_class=st.sampled_from(["humanitarian", "operational"]),
)
def test_an_agreement_never_widens_what_a_marking_forbids(mini_data, fact_marking, agreements, fact_class):
    data = copy.deepcopy(mini_data)
    data["agreements"] = [
        {"id": f"ag{i}", "kind": "information_sharing", "parties": ["NATO", "UN"], "classes": sorted(classes), "max_marking": m.value}
        for i, (m, classes) in enumerate(agreements)
    ]
    data["facts"].append({"id": "probe", "description": "probe", "class": fact_class, "marking": fact_marking.value, "origin": "shape"})
    world = build(scenario_from(data), 1, DefaultDecider(), [lambda r: None])
    fact = world.scenario.by_id["facts"]["probe"]
    released = releasability(world, fact, "un_ocha", at=0.0) is None
    covering = [m for m, classes in agreements if fact_class in classes and m.rank >= fact_marking.rank]
    assert released == (fact_marking is Marking.public or bool(covering))


@settings(max_examples=300)
@given(
    t=st.floats(0, 1e6, allow_nan=False),
    seq=st.integers(0, 10**9),
    text=st.text(max_size=20),
    flag=st.booleans(),
    names=st.lists(st.text(max_size=5), max_size=3),
    state=st.sampled_from(list(RequestState)),
)
def test_the_json_line_writer_equals_json_dumps(t, seq, text, flag, names, state):
    for record in (
        records.InjectReleased(t, seq, text, seq % 50, tuple(names), flag),
        records.RequestStateChanged(t, seq, text, text, state, t / 3, text),
        records.MessageDelivered(t, seq, text, text, text, t, seq % 7, None if flag else text),
    ):
        assert record.json_line() == json.dumps(record.as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
