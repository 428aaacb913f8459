"""Logistics: asset pools carry a request's cargo to its site, trip by trip.

When a request is tasked, each of its asset pools dispatches units while cargo
remains unclaimed. A trip commits one unit: it travels empty from its base to
the pickup point, waits for stock there (unless the pickup is an unlimited
supply depot), loads, travels the quickest route of its mode to the site,
unloads into the site's stock, and returns to base, where the unit is free
again.

A loaded leg on a route with a ``risk`` may meet an incident (piracy, an
IED). An escort unit from the request's escort pools (see
:mod:`coopsim.engine.sim.forces`: convoys, escort transits, endurance) cuts
that risk to the route's ``escorted_risk``; under ``escort_policy: wait`` a
trip waits for an escort, under ``sail`` it sails alone when none is free.
A pool that waits for an activation dispatches nothing until it is ready. An incident
loses the load, which is put back to be carried again, and holds the unit for
the route's ``incident_delay``.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from coopsim.engine.log.records import Delivery, EscortJoined, Incident, RiskAssessed, TripEnded, TripStarted
from coopsim.engine.scenario.model import Request, RequestState
from coopsim.engine.scenario.routing import Leg
from coopsim.engine.sim import effects, forces
from coopsim.engine.sim.lifecycle import move
from coopsim.engine.sim.signals import FactKnown
from coopsim.engine.sim.world import Pool, World

EPSILON = 1e-9


@dataclass
class Shipment:
    """The cargo of one request: how much is unclaimed by a trip, and how much delivered."""

    world: World
    request_id: str
    unclaimed: float
    done: simpy.Event
    target: float = 0.0
    """Tonnes to deliver in all: the request's quantity, changed by any effect on its cargo."""
    delivered: float = 0.0
    owner: str = ""
    pools: list[Pool] = field(default_factory=list)
    _more: simpy.Event | None = None

    @property
    def request(self) -> Request:
        # Read afresh on every use, so a decision's patch (say, to the escort policy) applies to trips still to come.
        return self.world.request(self.request_id)

    def more_work(self) -> simpy.Event:
        """An event that fires when lost cargo is put back to be carried again."""
        if self._more is None:
            self._more = self.world.env.event()
        return self._more

    def put_back(self, load: float) -> None:
        self.unclaimed += load
        if self._more is not None:
            self._more.succeed()
            self._more = None

    def add(self, tonnes: float) -> None:
        """More (or less) cargo to carry: an effect on the demand at the request's site."""
        self.target = max(0.0, self.target + tonnes)
        if tonnes > 0:
            self.put_back(tonnes)
        else:
            self.unclaimed = max(0.0, self.unclaimed + tonnes)
            self.finish_if_done()

    def finish_if_done(self) -> None:
        if self.delivered >= self.target - EPSILON and not self.done.triggered:
            self.done.succeed()


def fulfil(w: World, request: Request, owner: str) -> Generator[Any, Any, None]:
    """Carry all of ``request``'s cargo; returns when the last tonne is delivered."""
    tonnes = max(0.0, request.quantity + w.extra_cargo.pop(request.id, 0.0))
    shipment = Shipment(w, request.id, tonnes, w.env.event(), tonnes, owner=owner, pools=[w.pools[a] for a in request.assets])
    w.shipments[request.id] = shipment
    shipment.finish_if_done()
    for pool in shipment.pools:
        w.env.process(_dispatch(w, shipment, pool))
    yield shipment.done
    del w.shipments[request.id]


def _dispatch(w: World, shipment: Shipment, pool: Pool) -> Generator[Any, Any, None]:
    """Commit ``pool``'s units to trips until the shipment is done; idle while no cargo is unclaimed."""
    env = w.env
    yield from w.until_ready(pool)
    while not shipment.done.triggered:
        if shipment.unclaimed <= EPSILON:
            yield shipment.more_work() | shipment.done
            continue
        unit = pool.units.request()
        yield unit
        if shipment.unclaimed <= EPSILON:
            pool.units.release(unit)
            continue
        load = min(pool.spec.capacity, shipment.unclaimed)
        shipment.unclaimed -= load
        env.process(_trip(w, shipment, pool, unit, load))


def _trip(w: World, shipment: Shipment, pool: Pool, unit: simpy.Resource, load: float) -> Generator[Any, Any, None]:
    env = w.env
    spec, r = pool.spec, shipment.request
    trip = w.next_id("trip")
    started = env.now
    pickup = r.pickup or spec.base
    if r.trips_require is not None and r.trips_require not in w.knowledge[spec.owner]:
        yield w.when(FactKnown(r.trips_require, spec.owner))  # the unit stays at base until its owner knows what it needs
        r = shipment.request
    w.emit(TripStarted, spec.owner, spec.id, trip, r.id, load, pickup, r.site)
    if w.request_states[r.id] is RequestState.tasked:  # the first trip puts the request in progress
        move(w, r.id, shipment.owner, RequestState.in_progress, 0.0, f"first trip by {spec.id}")
    yield from _travel(w, pool, w.path(pool, spec.base, pickup))
    stock = w.stocks.get(pickup)
    if stock is not None:
        yield stock.get(load)
    yield env.timeout(spec.load_time.sample(pool.rng))
    incident = yield from _travel(w, pool, w.path(pool, pickup, r.site), shipment, trip, load)
    if incident is None:
        yield env.timeout(spec.unload_time.sample(pool.rng))
        if r.site in w.stocks:
            yield w.stocks[r.site].put(load)
        shipment.delivered += load
        w.emit(Delivery, spec.owner, spec.id, trip, r.id, r.site, load, shipment.delivered)
        shipment.finish_if_done()
        where = r.site
    else:
        shipment.put_back(load)
        yield env.timeout(incident.route.incident_delay)
        where = incident.origin
    yield from _travel(w, pool, w.path(pool, where, spec.base))
    pool.units.release(unit)
    w.emit(TripEnded, spec.owner, spec.id, trip, env.now - started)


def _travel(
    w: World, pool: Pool, legs: tuple[Leg, ...], shipment: Shipment | None = None, trip: str = "", load: float = 0.0
) -> Generator[Any, Any, Leg | None]:
    """Travel ``legs``; with a ``shipment`` the unit is loaded and risks incidents. Returns the leg of an incident."""
    env = w.env
    for leg in legs:
        route = leg.route
        intel = route.intel if shipment is not None else None
        if intel is not None and intel.without == "wait" and w.risk_now.get(route.key, route.risk) > 0:
            yield from _await_intel(w, pool.spec.owner, intel)
        while route.key in w.closed:  # closed by an effect: wait at the leg's start until it reopens
            yield w.reopened(route.key)
        rng = w.streams(f"route:{route.key}")
        hours = route.time.sample(rng) if route.time is not None else route.distance_km / pool.spec.speed_kmh
        risk = w.risk_now.get(route.key, route.risk) if shipment is not None else 0.0
        convoy = None
        if risk > 0 and shipment.request.escorts:
            called = env.now
            convoy = yield from forces.escort(w, shipment, leg, hours)
            if convoy is not None:
                hours = convoy.hours  # a convoy keeps together
                w.emit(
                    EscortJoined, pool.spec.owner, pool.spec.id, trip, convoy.pool.spec.id, route.key, convoy.unit.name, env.now - called
                )
                risk = route.escorted_risk
        if convoy is None and risk > 0 and intel is not None:  # under escort the escort's picture counts, not the planner's
            risk = _assess(w, pool, route, trip, risk)
        yield env.timeout(hours)
        if convoy is not None:
            forces.arrived(w, convoy, leg.destination)
        if risk > 0 and rng.random() < risk:
            w.emit(Incident, pool.spec.owner, pool.spec.id, trip, shipment.request.id, route.key, convoy is not None, load)
            for effect in route.on_incident:
                effects.start(w, effect, f"incident:{route.key}")
            return leg
    return None


def _await_intel(w: World, planner: str, intel: Any) -> Generator[Any, Any, None]:
    """Hold a loaded unit at the leg's start until ``planner`` holds a fresh edition of the intel fact (or ``wait_at_most`` runs out)."""
    env = w.env
    timer = None if intel.wait_at_most is None else env.timeout(intel.wait_at_most)  # one timer: no drift from sums of floats
    while not w.fresh(intel.fact, planner, intel.fresh):
        if timer is not None and timer.processed:
            return
        arrival = w.next_learned(intel.fact, planner)
        yield arrival if timer is None else arrival | timer


def _assess(w: World, pool: Pool, route: Any, trip: str, risk: float) -> float:
    """The risk of a loaded leg as its planner's security information leaves it, recorded with its basis."""
    intel, planner = route.intel, pool.spec.owner
    fresh = w.fresh(intel.fact, planner, intel.fresh)
    assessed = risk * intel.risk_factor if fresh else risk
    basis = f"fresh {intel.fact}" if fresh else f"no {intel.fact} issued in the last {intel.fresh:g}h"
    w.emit(RiskAssessed, planner, pool.spec.id, trip, route.key, assessed, basis)
    return assessed
