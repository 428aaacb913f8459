"""Force generation and escorts: assets that arrive after an event, and escort units that sail to meet their convoys.

The escort tests add to the mini scenario a depot, a camp and four 10 t trucks
that carry 40 t of food from the depot to Muzaffarabad on a road with a risk
of 1 (none when escorted), ten hours long; one escort unit based at the camp,
five hours from the depot, takes two trucks a convoy. The activation tests make
the C-17s (ready at 0 h, tasked at 28 h, deliveries at 41, 41 and 64 h) wait
for an event and a lead time. Each test checks the exact times it shifts.
"""

from __future__ import annotations

import pytest
from conftest import records_of

from coopsim.engine import ScenarioError, records, run

ROAD = "depot-muzaffarabad-road"
APPROVED = {"request": "airlift", "state": "approved"}
SURGE = {"decision": "dp_priority", "option": "surge"}


def _convoy(d, convoy=2, count=1, **extra):
    """Trucks that need the ``guards`` escort pool (``extra``: more fields of the pool) to carry food over a risky road."""
    d["locations"] += [
        {"id": "depot", "name": "Depot", "kind": "depot", "supply": True},
        {"id": "camp", "name": "Camp", "kind": "base"},
    ]
    d["routes"] += [
        {"from": "depot", "to": "muzaffarabad", "mode": "road", "time": "10h", "risk": 1.0, "escorted_risk": 0.0},
        {"from": "camp", "to": "depot", "mode": "road", "time": "5h"},
    ]
    d["assets"] += [
        {"id": "trucks", "name": "Trucks", "owner": "un_ocha", "kind": "trucks", "mode": "road", "count": 4, "capacity": 10}
        | {"base": "depot", "military": False, "load_time": "1h"},
        {"id": "guards", "name": "Escorts", "owner": "shape", "kind": "apc", "role": "escort", "mode": "road"}
        | {"count": count, "convoy": convoy, "base": "camp", **extra},
    ]
    d["requests"].append(
        {"id": "food", "kind": "supply", "from": "un_ocha", "to": "un_ocha", "quantity": 40, "site": "muzaffarabad"}
        | {"assets": ["trucks"], "escorts": ["guards"], "at": "0h"}
    )


def _activate(d, after, lead="10h", **extra):
    """The C-17s become available ``lead`` after ``after`` fires."""
    d["assets"][0].update(activation={"after": after, "lead_time": lead}, **extra)


def of(recs, kind, *fields):
    return [tuple(getattr(r, f) for f in ("t", *fields)) for r in recs if type(r) is kind]


def food(recs):
    return [r.t for r in recs if type(r) is records.Delivery and r.request == "food"]


def airlift(recs):
    return [r.t for r in recs if type(r) is records.Delivery and r.request == "airlift"]


def refused(vary, edit) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        vary(edit)
    return [str(p) for p in caught.value.problems]


# -- escorts --------------------------------------------------------------------------------


def test_a_convoy_waits_for_its_escort_to_come_from_its_base_and_then_from_the_last_leg_end(vary):
    recs = records_of(vary(_convoy))
    assert of(recs, records.TripStarted, "trip") == [(1.0, "trip1"), (1.0, "trip2"), (1.0, "trip3"), (1.0, "trip4")] + [
        (28.0, "trip5"),
        (28.0, "trip6"),
        (51.0, "trip7"),
    ]
    # called at 2 h (loaded), the unit needs five hours from the camp; after the first convoy, ten back from Muzaffarabad
    assert of(recs, records.EscortDispatched, "unit", "origin", "destination", "hours") == [
        (2.0, "guards#1", "camp", "depot", 5.0),
        (17.0, "guards#1", "muzaffarabad", "depot", 10.0),
        (37.0, "guards#1", "muzaffarabad", "camp", 15.0),  # nobody left waiting: home
    ]
    assert of(recs, records.EscortJoined, "trip", "escort", "route", "unit", "waited") == [
        (7.0, "trip1", "guards", ROAD, "guards#1", 5.0),
        (7.0, "trip2", "guards", ROAD, "guards#1", 5.0),
        (27.0, "trip3", "guards", ROAD, "guards#1", 25.0),
        (27.0, "trip4", "guards", ROAD, "guards#1", 25.0),
    ]
    assert food(recs) == [17.0, 17.0, 37.0, 37.0]
    assert of(recs, records.Incident) == []


def test_an_escort_unit_leaves_after_its_endurance_and_is_back_after_replenishing(vary):
    recs = records_of(vary(lambda d: _convoy(d, endurance="12h", replenish="30h")))
    # due at 12 h, it sees its convoy in at 17 h first; back on station at the camp at 47 h, due again at 59 h, out at 62 h;
    # then, idle at the camp, it leaves every 12 h on station for 30 h away until the run ends
    assert of(recs, records.EscortWithdrawn, "actor", "asset", "unit", "back") == [
        (17.0, "shape", "guards", "guards#1", 47.0),
        (62.0, "shape", "guards", "guards#1", 92.0),
        (104.0, "shape", "guards", "guards#1", 134.0),
        (146.0, "shape", "guards", "guards#1", 176.0),
        (188.0, "shape", "guards", "guards#1", 218.0),
        (230.0, "shape", "guards", "guards#1", 260.0),
    ]
    assert of(recs, records.EscortDispatched, "origin", "destination", "hours") == [
        (2.0, "camp", "depot", 5.0),
        (47.0, "camp", "depot", 5.0),
    ]
    assert of(recs, records.EscortJoined, "trip", "waited") == [
        (7.0, "trip1", 5.0),
        (7.0, "trip2", 5.0),
        (52.0, "trip3", 50.0),
        (52.0, "trip4", 50.0),
    ]
    assert food(recs) == [17.0, 17.0, 62.0, 62.0]


def test_without_replenish_an_escort_unit_leaves_for_good(vary):
    recs = records_of(vary(lambda d: _convoy(d, endurance="12h")))
    assert of(recs, records.EscortWithdrawn, "unit", "back") == [(17.0, "guards#1", None)]
    # trips 3 and 4 wait for an escort that never comes
    assert of(recs, records.EscortJoined, "trip") == [(7.0, "trip1"), (7.0, "trip2")]
    assert food(recs) == [17.0, 17.0]


def test_with_escort_policy_sail_lift_units_sail_alone_when_no_escort_is_free(vary):
    def edit(d):
        _convoy(d)
        d["requests"][-1]["escort_policy"] = "sail"

    recs = records_of(vary(edit))
    # trips 3 and 4 find the only unit called by trips 1 and 2 and sail at 2 h, unescorted, into the full risk
    assert of(recs, records.Incident, "trip", "route", "escorted", "lost")[:2] == [
        (12.0, "trip3", ROAD, False, 10.0),
        (12.0, "trip4", ROAD, False, 10.0),
    ]
    assert of(recs, records.EscortJoined, "trip", "waited")[:2] == [(7.0, "trip1", 5.0), (7.0, "trip2", 5.0)]
    assert food(recs) == [17.0, 17.0, 76.0, 76.0]


def test_a_unit_out_of_service_leaves_the_other_unit_to_escort(vary):
    def edit(d):
        _convoy(d, count=2)
        d["injects"].append(
            {"seq": 5, "time": "0h", "type": "event", "to": ["shape"], "description": "breakdown"}
            | {"effects": [{"asset": "guards", "out": 1, "for": "20h"}]}
        )

    recs = records_of(vary(edit))
    assert of(recs, records.EscortDispatched, "unit", "origin", "destination") == [
        (2.0, "guards#2", "camp", "depot"),
        (17.0, "guards#2", "muzaffarabad", "depot"),
        (37.0, "guards#2", "muzaffarabad", "camp"),
    ]
    assert {r.unit for r in recs if type(r) is records.EscortJoined} == {"guards#2"}
    assert food(recs) == [17.0, 17.0, 37.0, 37.0]


def test_escort_wait_is_the_mean_wait_of_the_escorted_lift_units(vary):
    values = run(vary(_convoy)).metrics.values
    # (5 + 5 + 25 + 25) / 4
    assert values["escort_wait"] == values[f"escort_wait.{ROAD}"] == 15.0
    assert values["escort_wait.camp-depot-road"] is None
    values = run(vary(lambda d: _convoy(d, endurance="12h", replenish="30h"))).metrics.values
    assert values["escort_wait"] == (5 + 5 + 50 + 50) / 4 == 27.5


# -- activation -----------------------------------------------------------------------------


def test_an_asset_activated_by_an_approval_is_ready_after_its_lead_time(vary):
    recs = records_of(vary(lambda d: _activate(d, APPROVED)))
    assert of(recs, records.AssetActivated, "actor", "asset", "cause", "lead_time", "ready_at") == [
        (26.0, "shape", "c17", "when request airlift is approved", 10.0, 36.0)
    ]
    assert of(recs, records.AssetReady, "asset") == [(36.0, "c17")]
    # tasked at 28 h, the C-17s load from 36 h: two hours' loading, ten flying, one unloading
    assert of(recs, records.TripStarted, "trip")[:2] == [(36.0, "trip1"), (36.0, "trip2")]
    assert airlift(recs) == [49.0, 49.0, 72.0]


def test_an_asset_waiting_on_an_option_not_taken_never_comes(vary):
    recs = records_of(vary(lambda d: _activate(d, SURGE)))
    assert of(recs, records.AssetActivated) == of(recs, records.AssetReady) == of(recs, records.TripStarted) == []
    assert airlift(recs) == []


def test_an_asset_waiting_on_an_option_comes_when_a_policy_takes_it(vary):
    def edit(d):
        _activate(d, SURGE)
        d["decision_points"][0]["policy"] = [{"if": APPROVED, "choose": "surge"}]

    recs = records_of(vary(edit))
    assert of(recs, records.AssetActivated, "cause", "ready_at") == [(26.0, "after decision dp_priority (surge)", 36.0)]
    # surge also cuts loading to one hour
    assert airlift(recs) == [48.0, 48.0, 70.0]


def test_an_activated_asset_is_never_ready_before_its_available_from(vary):
    tri = {"dist": "triangular", "low": "5h", "mode": "10h", "high": "20h"}
    recs = records_of(vary(lambda d: _activate(d, APPROVED, tri, available_from="2d")))
    [(t, lead, ready_at)] = of(recs, records.AssetActivated, "lead_time", "ready_at")
    assert t == 26.0 and 5.0 <= lead <= 20.0 and ready_at == 48.0
    assert of(recs, records.AssetReady, "asset") == [(48.0, "c17")]
    assert airlift(recs) == [61.0, 61.0, 84.0]


def test_asset_ready_and_utilisation_count_from_actual_readiness(vary):
    result = run(vary(lambda d: _activate(d, APPROVED)))
    assert result.metrics.values["asset_ready"] == result.metrics.values["asset_ready.c17"] == 36.0
    # three 23-hour round trips over two units' 240 - 36 hours
    assert result.metrics.detail["assets"]["c17"] == {"ready": 36.0, "busy_unit_hours": 69.0, "available_unit_hours": 408.0}
    assert result.metrics.values["asset_utilisation.c17"] == 69.0 / 408.0
    # an asset that never comes is never ready, and has no utilisation
    values = run(vary(lambda d: _activate(d, SURGE))).metrics.values
    assert (values["asset_ready"], values["asset_ready.c17"], values["asset_utilisation.c17"]) == (None, None, None)
    # with no asset waiting for anything, there is no asset_ready; each pool is ready at the start
    values = run(vary(_convoy)).metrics.values
    assert values["asset_ready"] is None
    assert (values["asset_ready.c17"], values["asset_ready.trucks"], values["asset_ready.guards"]) == (0.0, 0.0, 0.0)
    assert values["asset_utilisation.trucks"] == (26 + 26 + 46 + 46) / (4 * 240)


def test_an_available_from_alone_is_recorded_as_readiness(vary):
    result = run(vary(lambda d: d["assets"][0].update(available_from="2d")), keep_records=True)
    assert of(result.records, records.AssetReady, "asset") == [(48.0, "c17")]
    assert of(result.records, records.AssetActivated) == []
    assert result.metrics.values["asset_ready"] == 48.0


# -- load-time errors -----------------------------------------------------------------------


def test_an_escort_pool_that_cannot_reach_a_risky_leg_is_refused(vary):
    def edit(d):
        _convoy(d)
        d["routes"].pop()  # no road from the camp to the depot

    assert refused(vary, edit) == [
        "test.yaml:171:5: escort pool guards cannot meet convoys at depot: "
        "asset guards (road) has no route from camp to depot (road routes joining camp to depot)"
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["assets"][0].update(endurance="12h"),
            "test.yaml:92:3: assets.c17: endurance and replenish are for escorts (expected role: escort, or neither)",
        ),
        (
            lambda d: _convoy(d, replenish="30h"),
            "test.yaml:129:3: assets.guards: replenish follows an endurance (expected endurance: how long a unit stays on station)",
        ),
        (
            lambda d: _convoy(d, endurance="0h"),
            "test.yaml:129:3: assets.guards: an endurance must be positive (expected e.g. endurance: 30d)",
        ),
        (
            lambda d: _activate(d, {"request": "airlfit", "state": "approved"}),
            "test.yaml:104:16: assets.c17.activation.after.request names request 'airlfit', which does not exist (one of: airlift)",
        ),
        (
            lambda d: _activate(d, {"decision": "dp_prio", "option": "surge"}),
            "test.yaml:104:17: assets.c17.activation.after.decision names decision point 'dp_prio', "
            "which does not exist (one of: dp_priority)",
        ),
        (
            lambda d: _activate(d, {"decision": "dp_priority", "option": "surg"}),
            "test.yaml:105:15: decision dp_priority has no option 'surg' (one of: standard, surge)",
        ),
    ],
    ids=["endurance-on-lift", "replenish-alone", "zero-endurance", "unknown-request", "unknown-decision", "unknown-option"],
)
def test_force_mistakes_are_refused_with_their_place(vary, edit, message):
    assert refused(vary, edit) == [message]


# -- determinism ----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_records(vary):
    def edit(d):
        _convoy(d, count=2, endurance="12h", replenish="30h")
        _activate(d, APPROVED, {"dist": "triangular", "low": "5h", "mode": "10h", "high": "20h"})

    scenario = vary(edit)
    first, again = records_of(scenario), records_of(scenario)
    assert first == again
    # and the lead time is drawn: another seed draws another
    other = records_of(scenario, seed=2)
    assert of(first, records.AssetActivated, "lead_time") != of(other, records.AssetActivated, "lead_time")


def test_a_full_convoy_and_the_next_one_form_at_the_same_place_side_by_side(vary):
    # two units of one place each, four trucks at once: two convoys form at the depot while both escorts are on their way
    recs = records_of(vary(lambda d: _convoy(d, convoy=1, count=2)))
    assert of(recs, records.EscortDispatched, "unit", "origin", "destination") == [
        (2.0, "guards#1", "camp", "depot"),
        (2.0, "guards#2", "camp", "depot"),
        (17.0, "guards#1", "muzaffarabad", "depot"),
        (17.0, "guards#2", "muzaffarabad", "depot"),
        (37.0, "guards#1", "muzaffarabad", "camp"),
        (37.0, "guards#2", "muzaffarabad", "camp"),
    ]
    assert food(recs) == [17.0, 17.0, 37.0, 37.0]


def test_only_legs_sailed_without_escort_are_assessed_on_the_planners_intel(vary):
    def edit(d):
        _convoy(d)
        d["facts"].append({"id": "threat", "description": "Threat picture", "class": "security", "origin": "shape", "at": "0h"})
        d["routes"][-2]["intel"] = {"fact": "threat", "risk_factor": 0.5}
        d["requests"][-1]["escort_policy"] = "sail"

    recs = records_of(vary(edit))
    no = "no threat issued in the last 24h"
    # trips 1 and 2 sail under escort and are not assessed; 3 and 4 sail alone, are struck, and their resends 5 and 6 too
    assert of(recs, records.RiskAssessed, "trip", "risk", "basis") == [
        (2.0, "trip3", 1.0, no),
        (2.0, "trip4", 1.0, no),
        (28.0, "trip5", 1.0, no),
        (28.0, "trip6", 1.0, no),
    ]
    assert of(recs, records.EscortJoined, "trip") == [(7.0, "trip1"), (7.0, "trip2"), (66.0, "trip10"), (66.0, "trip11")]
