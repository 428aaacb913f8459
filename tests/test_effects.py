"""Events with effects: an inject or an incident changes the world for a period, and that changes what happens.

Each test runs the mini scenario (one RFA for 100 t of airlift, two C-17s,
ten-hour legs) with one effect, and checks the exact times it shifts.
"""

from __future__ import annotations

import pytest
from conftest import records_of

from coopsim.engine import ScenarioError, records, run

ROUTE = "ramstein-islamabad-air"


def _inject(d, seq, time, **extra):
    d["injects"].append({"seq": seq, "time": time, "type": "event", "to": ["shape"], "description": "event", **extra})


def deliveries(recs):
    return [(r.t, r.quantity) for r in recs if type(r) is records.Delivery]


def test_without_effects_the_cargo_arrives_in_two_rounds(vary):
    assert deliveries(records_of(vary(lambda d: None))) == [(41.0, 40.0), (41.0, 40.0), (64.0, 20.0)]


def test_a_closed_route_holds_trips_at_its_start_until_it_reopens(vary):
    recs = records_of(vary(lambda d: _inject(d, 5, "29h", effects=[{"route": ROUTE, "close": True, "for": "5h"}])))
    # loaded at 30 h, the leg opens at 34 h: ten hours' flight and an hour's unloading
    assert deliveries(recs) == [(45.0, 40.0), (45.0, 40.0), (68.0, 20.0)]
    started = [(r.t, r.target, r.change, r.until) for r in recs if type(r) is records.EffectStarted]
    assert started == [(29.0, f"route:{ROUTE}", f"route {ROUTE} closed for 5h", 34.0)]
    assert [(r.t, r.target) for r in recs if type(r) is records.EffectEnded] == [(34.0, f"route:{ROUTE}")]


def test_an_asset_out_of_service_leaves_fewer_units_for_the_request(vary):
    recs = records_of(vary(lambda d: _inject(d, 5, "1h", effects=[{"asset": "c17", "out": 1, "for": "3d"}])))
    # one C-17 left for the first two rounds (23 h each, from tasking at 28 h); the other is back at 73 h
    assert deliveries(recs) == [(41.0, 40.0), (64.0, 40.0), (86.0, 20.0)]


def test_staff_taken_off_duty_delay_what_they_handle(vary):
    plain = run(vary(lambda d: None)).metrics.values["rfa_cycle_time"]
    shorted = run(vary(lambda d: _inject(d, 5, "0h", effects=[{"actor": "eadrcc", "staff": 0, "for": "20h"}])))
    # the request reaches EADRCC at 10 h, behind the damage report (8 h); both wait for an officer until 20 h,
    # so the request is handled 22-24 h instead of 10-12 h: twelve hours later throughout
    assert shorted.metrics.values["rfa_cycle_time"] == plain + 12.0
    assert shorted.metrics.values["rfa_queue.airlift"] == 12.0


def test_a_surge_cell_puts_more_officers_on_duty_than_the_actor_has(vary):
    def edit(d):
        d["actors"][1]["staff"] = 1
        _inject(d, 5, "0h", effects=[{"actor": "eadrcc", "staff": 3}])

    world_staff = records_of(vary(edit))
    assert [r.amount for r in world_staff if type(r) is records.EffectStarted] == [3.0]


def test_more_cargo_is_more_demand_at_the_site(vary):
    result = run(vary(lambda d: _inject(d, 5, "1h", effects=[{"request": "airlift", "quantity": 40}])), keep_records=True)
    assert sum(q for _, q in deliveries(result.records)) == 140.0
    assert result.metrics.values["fill_rate.islamabad"] == 1.0
    assert result.metrics.detail["sites"]["islamabad"]["demand"] == 140.0


def test_stock_added_where_a_request_picks_up_lets_its_trips_load(vary):
    def edit(d):
        d["requests"][0].update(pickup="islamabad", site="muzaffarabad", quantity=40)
        _inject(d, 5, "100h", effects=[{"location": "islamabad", "stock": 40}])

    # the C-17 flies out empty at 28 h, waits at Chaklala for stock until 100 h, loads 2 h, flies 1 h, unloads 1 h
    assert deliveries(records_of(vary(edit))) == [(104.0, 40.0)]


def test_a_scripted_incident_counts_and_has_its_routes_effects(vary):
    def edit(d):
        d["routes"][0]["on_incident"] = [{"route": ROUTE, "close": True, "for": "1d"}]
        _inject(d, 5, "29h", incident=ROUTE)

    result = run(vary(edit), keep_records=True)
    assert result.metrics.values["incidents"] == 1.0 and result.metrics.values[f"incidents.{ROUTE}"] == 1.0
    assert [(r.t, r.asset, r.request, r.route) for r in result.records if type(r) is records.Incident] == [(29.0, None, None, ROUTE)]
    assert deliveries(result.records)[0] == (64.0, 40.0)  # closed 29-53 h: loaded at 30, flying at 53


def test_a_raised_risk_makes_incidents_where_there_were_none(vary):
    recs = records_of(vary(lambda d: _inject(d, 5, "1h", effects=[{"route": ROUTE, "risk": 1.0, "for": "2d"}])))
    assert [(r.t, r.route) for r in recs if type(r) is records.Incident] == [(40.0, ROUTE), (40.0, ROUTE)]


@pytest.mark.parametrize(
    ("effect", "message"),
    [
        ({"route": ROUTE}, "an effect on a route needs close or risk"),
        ({"asset": "c17", "staff": 2}, "staff does not apply to a asset"),
        ({"location": "islamabad", "stock": 5, "for": "1d"}, "a change of stock is for good"),
        ({"route": "nowhere", "close": True}, "names route 'nowhere', which does not exist"),
        ({"asset": "c17", "out": 3}, "asset c17 has 2 unit(s), not 3"),
        ({"actor": "nac", "route": ROUTE, "close": True}, "give exactly one of route, asset, location, request, actor"),
    ],
)
def test_an_effect_that_cannot_happen_is_a_located_error(vary, effect, message):
    with pytest.raises(ScenarioError) as info:
        vary(lambda d: _inject(d, 5, "1h", effects=[effect]))
    assert message in str(info.value)
