"""Knowledge changes what happens.

Security information cuts a route's risk; facts gate requests, trips and
options; and policies decide on what a point's owner knows.

Each test runs the mini scenario (one RFA for 100 t of airlift, two C-17s,
ten-hour legs; trips loaded at 30 h reach Chaklala at 41 h) with one change,
and checks the exact times and choices it shifts.
"""

from __future__ import annotations

import pytest
from conftest import records_of

from coopsim.engine import ScenarioError, loads_scenario, records

ROUTE = "ramstein-islamabad-air"


def _threat(d, at="1h", every="1d", risk=1.0, **intel):
    """A threat assessment SHAPE (the C-17s' owner) issues, and the route's risk that it informs."""
    fact = {"id": "threat", "description": "Threat assessment", "class": "operational", "origin": "shape", "at": at}
    if every is not None:
        fact["every"] = every
    d["facts"].append(fact)
    d["routes"][0].update(risk=risk, intel={"fact": "threat", **intel})


def of(recs, kind, *fields):
    return [tuple(getattr(r, f) for f in ("t", *fields)) for r in recs if type(r) is kind]


def test_a_fresh_assessment_scales_the_risk_of_every_loaded_leg(vary):
    recs = records_of(vary(lambda d: _threat(d, risk_factor=0.0)))
    # the 25 h edition is fresh at 30 h and the 49 h edition at 53 h: no trip meets an incident
    assert of(recs, records.RiskAssessed, "trip", "risk", "basis") == [
        (30.0, "trip1", 0.0, "fresh threat"),
        (30.0, "trip2", 0.0, "fresh threat"),
        (53.0, "trip3", 0.0, "fresh threat"),
    ]
    assert of(recs, records.Incident) == []
    assert of(recs, records.Delivery, "quantity") == [(41.0, 40.0), (41.0, 40.0), (64.0, 20.0)]


def test_without_a_fresh_assessment_the_full_risk_applies(vary):
    recs = records_of(vary(lambda d: _threat(d, at="9d", every=None, risk_factor=0.0)))
    assessed = of(recs, records.RiskAssessed, "trip", "risk", "basis")
    assert assessed[:2] == [
        (30.0, "trip1", 1.0, "no threat issued in the last 24h"),
        (30.0, "trip2", 1.0, "no threat issued in the last 24h"),
    ]
    # with a risk of 1 every loaded transit meets an incident, and nothing is delivered
    assert len(of(recs, records.Incident)) == len(assessed) == 8
    assert of(recs, records.Delivery) == []


def test_a_stale_edition_counts_as_no_assessment(vary):
    # a one-off assessment at 1 h is 29 h old at 30 h, older than the 24 h it stays fresh
    recs = records_of(vary(lambda d: _threat(d, every=None, risk=0.5, risk_factor=0.0)))
    assert {r.basis for r in recs if type(r) is records.RiskAssessed} == {"no threat issued in the last 24h"}
    # and with 48 h of freshness it is current for the first round (30 h) but not the second (53 h)
    recs = records_of(vary(lambda d: _threat(d, every=None, risk=0.5, risk_factor=0.0, fresh="48h")))
    assert of(recs, records.RiskAssessed, "trip", "basis")[:3] == [
        (30.0, "trip1", "fresh threat"),
        (30.0, "trip2", "fresh threat"),
        (53.0, "trip3", "no threat issued in the last 24h".replace("24", "48")),
    ]


def test_without_wait_a_loaded_unit_holds_until_a_fresh_edition_arrives(vary):
    recs = records_of(vary(lambda d: _threat(d, at="35h", every=None, risk_factor=0.0, without="wait")))
    # loaded at 30 h, the C-17s wait for the 35 h assessment, then fly: five hours later than without intel
    assert of(recs, records.RiskAssessed, "trip", "risk")[:2] == [(35.0, "trip1", 0.0), (35.0, "trip2", 0.0)]
    assert of(recs, records.Delivery, "quantity") == [(46.0, 40.0), (46.0, 40.0), (69.0, 20.0)]


def test_wait_at_most_bounds_the_wait_and_then_the_full_risk_applies(vary):
    recs = records_of(vary(lambda d: _threat(d, at="9d", every=None, risk=0.5, risk_factor=0.0, without="wait", wait_at_most="3h")))
    assert of(recs, records.RiskAssessed, "trip", "risk")[:2] == [(33.0, "trip1", 0.5), (33.0, "trip2", 0.5)]


def test_on_a_route_without_risk_nobody_waits_for_intel(vary):
    recs = records_of(vary(lambda d: _threat(d, at="9d", every=None, risk=0.0, without="wait")))
    assert of(recs, records.RiskAssessed) == []
    assert of(recs, records.Delivery, "quantity") == [(41.0, 40.0), (41.0, 40.0), (64.0, 20.0)]


def _needs(d, fact, origin, at):
    d["facts"].append({"id": fact, "description": fact, "class": "humanitarian", "origin": origin, "at": at})


def test_a_request_waits_until_its_requester_knows_what_it_requires(vary):
    def edit(d):
        _needs(d, "needs", "un_ocha", "20h")
        d["requests"][0]["requires"] = "needs"

    recs = records_of(vary(edit))
    submitted = [r.t for r in recs if type(r) is records.RequestStateChanged and r.state.value == "submitted"]
    plain = [r.t for r in records_of(vary(lambda d: None)) if type(r) is records.RequestStateChanged and r.state.value == "submitted"]
    assert plain == [3.0]
    assert submitted == [20.0]  # drafted by 3 h, held until the needs assessment arrives at 20 h


def test_a_request_whose_requirement_never_arrives_is_never_submitted(vary):
    # the flight schedule is restricted and operational; the agreement releases only unclassified humanitarian facts to the UN
    recs = records_of(vary(lambda d: d["requests"][0].update(requires="flights")))
    assert [r for r in recs if type(r) is records.RequestStateChanged] == []
    assert of(recs, records.Delivery) == []


def test_trips_wait_at_base_until_the_lift_owner_knows_what_they_require(vary):
    def edit(d):
        _needs(d, "slots", "shape", "40h")
        d["requests"][0]["trips_require"] = "slots"

    recs = records_of(vary(edit))
    assert of(recs, records.TripStarted, "trip")[:2] == [(40.0, "trip1"), (40.0, "trip2")]
    assert of(recs, records.Delivery, "quantity") == [(53.0, 40.0), (53.0, 40.0), (76.0, 20.0)]


def _surge_requires(d, at):
    """Surge loading needs SHAPE's flight schedule at the NAC, which arrives two hours after SHAPE issues it."""
    d["decision_points"][0]["options"][1]["requires"] = "flights"
    d["decision_points"][0]["default"] = "surge"
    d["facts"][1]["at"] = at


def test_an_option_that_needs_an_unknown_fact_is_closed_and_the_first_open_one_taken(vary):
    recs = records_of(vary(lambda d: _surge_requires(d, "2d")))
    assert of(recs, records.DecisionTaken, "option", "by", "rationale") == [
        (26.0, "standard", "default", "the default is closed (surge needs flights, which nac does not know): the first open option")
    ]
    assert of(recs, records.Delivery, "quantity")[0] == (41.0, 40.0)


def test_an_option_is_open_once_the_owner_knows_what_it_needs(vary):
    recs = records_of(vary(lambda d: _surge_requires(d, "10h")))
    assert of(recs, records.DecisionTaken, "option", "by") == [(26.0, "surge", "default")]
    assert of(recs, records.Delivery, "quantity")[0] == (40.0, 40.0)  # an hour's loading instead of two


def test_a_decider_that_picks_a_closed_option_gets_the_open_default(vary):
    from coopsim.engine import Decision

    class Stubborn:
        def decide(self, point, situation):
            assert situation.closed == {"surge": "surge needs flights, which nac does not know"}
            return Decision("surge", "player", "I want surge")

    recs = records_of(vary(lambda d: _surge_requires(d, "2d") or d["decision_points"][0].update(default="standard")), decider=Stubborn())
    assert of(recs, records.DecisionTaken, "option", "by", "rationale") == [
        (26.0, "standard", "player", "surge needs flights, which nac does not know; the scenario's default option")
    ]


def _policy(d, *rules):
    d["decision_points"][0]["policy"] = list(rules)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([{"if": {"knows": "flights"}, "choose": "surge"}], ("standard", "default", "the scenario's default option")),
        ([{"if": {"not_knows": "flights"}, "choose": "surge"}], ("surge", "policy", "policy: the owner does not know flights")),
        (
            [{"if": {"request": "airlift", "state": "approved"}, "choose": "surge"}],
            ("surge", "policy", "policy: request airlift is approved"),
        ),
        (
            [{"if": {"request": "airlift", "state": "declined"}, "choose": "surge"}],
            ("standard", "default", "the scenario's default option"),
        ),
        (
            [
                {"if": {"knows": "flights"}, "choose": "standard"},
                {"if": {"knows": "damage"}, "choose": "standard"},
                {"if": {"not_knows": "damage"}, "choose": "surge"},
            ],
            ("surge", "policy", "policy: the owner does not know damage"),
        ),
    ],
)
def test_a_policy_chooses_by_the_first_rule_that_holds(vary, rules, expected):
    # at 26 h the NAC has approved the airlift; it learns the flight schedule only at 50 h and never the damage assessment
    recs = records_of(vary(lambda d: _policy(d, *rules)))
    assert of(recs, records.DecisionTaken, "option", "by", "rationale") == [(26.0, *expected)]


def test_a_policy_moves_the_outcome(vary):
    plain = of(records_of(vary(lambda d: None)), records.Delivery)
    ruled = of(
        records_of(vary(lambda d: _policy(d, {"if": {"request": "airlift", "state": "approved"}, "choose": "surge"}))), records.Delivery
    )
    assert [t for (t,) in plain] == [41.0, 41.0, 64.0]
    assert [t for (t,) in ruled] == [40.0, 40.0, 62.0]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["routes"][0].update(risk=0.1, intel={"fact": "nothing"}),
            "routes.ramstein-islamabad-air.intel.fact names fact 'nothing', which does not exist",
        ),
        (lambda d: d["requests"][0].update(requires="nothing"), "requests.airlift.requires names fact 'nothing', which does not exist"),
        (
            lambda d: d["requests"][0].update(trips_require="nothing"),
            "requests.airlift.trips_require names fact 'nothing', which does not exist",
        ),
        (
            lambda d: d["decision_points"][0]["options"][1].update(requires="nothing"),
            "decision_points.dp_priority.options.surge.requires names fact 'nothing', which does not exist",
        ),
        (
            lambda d: _policy(d, {"if": {"knows": "damage"}, "choose": "hurry"}),
            "policy rule 1 of dp_priority chooses 'hurry', which is not one of its options",
        ),
        (
            lambda d: _policy(d, {"if": {"knows": "nothing"}, "choose": "surge"}),
            "decision_points.dp_priority.policy.0.if.knows names fact 'nothing', which does not exist",
        ),
        (
            lambda d: _policy(d, {"if": {"knows": "damage", "request": "airlift", "state": "approved"}, "choose": "surge"}),
            "give exactly one of knows, not_knows, request",
        ),
        (lambda d: _policy(d, {"if": {"request": "airlift"}, "choose": "surge"}), "a request condition needs a state"),
        (
            lambda d: [o.update(requires="damage") for o in d["decision_points"][0]["options"]],
            "every option of dp_priority requires a fact, so none may be open when the point comes",
        ),
    ],
)
def test_knowledge_mistakes_are_refused_with_their_place(vary, edit, message):
    with pytest.raises(ScenarioError) as caught:
        vary(edit)
    assert message in str(caught.value)


HOLD_ENDS_AT_AN_AWKWARD_HOUR = """\
scenario: {name: hold, start: 2000-01-01T00:00:00Z, duration: 20d}
actors:
  - {id: a, name: A, family: UN}
  - {id: m, name: M, family: NATO, military: true}
locations:
  - {id: depot, name: Depot, kind: depot, supply: true}
  - {id: site, name: Site}
routes:
  - {id: depot-site, from: depot, to: site, mode: road, time: 2h, risk: 0.1,
     intel: {fact: threat, fresh: 24h, risk_factor: 0.5, without: wait, wait_at_most: 24h}}
assets:
  - {id: trucks, name: Trucks, owner: a, kind: trucks, mode: road, count: 1, capacity: 10, base: depot, military: false,
     load_time: 234.847319h}
facts:
  - {id: threat, description: never shared with A, class: security, origin: m, at: 1h, every: 1d}
requests:
  - {id: r, kind: supply, from: a, to: a, quantity: 10, site: site, assets: [trucks], at: 1h}
"""


def test_a_hold_for_intel_ends_on_time_whatever_the_hour_it_began():
    # the hold once re-summed its time left and, at this hour, waited 3e-14 h for ever
    recs = records_of(loads_scenario(HOLD_ENDS_AT_AN_AWKWARD_HOUR, "hold.yaml"), seed=1)
    assessed = [(round(r.t, 6), r.basis) for r in recs if r.kind == "risk_assessed"]
    assert assessed == [(260.847319, "no threat issued in the last 24h")]  # loaded at 236.847319, held 24 h
    assert [round(r.t, 6) for r in recs if r.kind == "delivery"] == [262.847319]
