"""Force generation and escorts: assets made available by events, and escort units that sail to meet their convoys.

**Activation.** An asset with ``activation`` is not available until its
``after`` trigger fires (a request approved, a decision option taken, a fact
known) and its ``lead_time`` (activation and transit to theatre, drawn from
the asset's own activation stream) has passed; and never before its
``available_from``. So when the Council decides, and how, moves when the
ships arrive. Recorded: ``asset_activated`` when the trigger fires, and
``asset_ready`` when the asset is available.

**Escorts.** An escort pool's units come on station at the pool's base when
it is ready. A loaded lift unit about to sail a leg with a risk, for a request
that names escorts:

1. joins a convoy forming at the leg's start if it has room (an escort unit
   takes at most its pool's ``convoy`` lift units);
2. else calls the free escort unit that is nearest (in expected hours), which
   sails from wherever it is to the leg's start at its own speed; the convoy
   sails when it arrives, with whoever joined meanwhile;
3. else waits for an escort unit to come free (``escort_policy: wait``) or
   sails alone (``sail``).

A convoy keeps together: every member takes the leg's travel time drawn by the
first. The escort stays with it to the leg's end and is free there. If no lift
unit is then waiting for that pool, it sails back to its base (recorded as a
dispatch to the base) and takes no convoy until it is there; otherwise it
stays to be called from where it is, so the next convoy may first have to
wait for it to come back.

**Endurance.** An escort unit stays on station for its pool's ``endurance``.
Then, once its convoy (if any) has arrived, it leaves: for good, or for
``replenish`` hours, after which it is back on station at its base.

Escort transits take the route network's usual paths and do not wait for
closed routes: a warship is not held by what closes a route to merchant
shipping.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from coopsim.engine.log.records import AssetActivated, AssetReady, EscortDispatched, EscortWithdrawn
from coopsim.engine.scenario.routing import Leg, find_path, leg_hours_mean
from coopsim.engine.sim.signals import PoolActivated
from coopsim.engine.sim.world import EscortUnit, Pool, World


@dataclass(eq=False)
class Convoy:
    """Lift units sailing one leg together under one escort unit."""

    pool: Pool
    unit: EscortUnit
    limit: int
    sailed: simpy.Event
    hours: float
    members: int = 1
    arrived: int = 0


def start(w: World) -> None:
    """Start activations, readiness records and each escort unit's time on station."""
    for pool in w.pools.values():
        spec = pool.spec
        if spec.activation is not None:
            w.env.process(_activate(w, pool))
        if spec.activation is not None or spec.available_from > 0:
            w.env.process(_announce(w, pool))
        for unit in pool.escorts:
            w.env.process(_on_station(w, pool, unit))


def _activate(w: World, pool: Pool) -> Generator[Any, Any, None]:
    spec = pool.spec
    yield from w.after(spec.activation.after)
    lead = spec.activation.lead_time.sample(w.streams(f"activation:{spec.id}"))
    pool.ready_at = w.env.now + lead
    w.emit(AssetActivated, spec.owner, spec.id, spec.activation.after.describe(), lead, max(pool.ready_at, spec.available_from))
    w.signal(PoolActivated(spec.id))


def _announce(w: World, pool: Pool) -> Generator[Any, Any, None]:
    yield from w.until_ready(pool)
    w.emit(AssetReady, pool.spec.owner, pool.spec.id)


def _on_station(w: World, pool: Pool, unit: EscortUnit) -> Generator[Any, Any, None]:
    spec, env = pool.spec, w.env
    yield from w.until_ready(pool)
    while True:
        unit.on_station, unit.at = True, spec.base
        w.escort_freed()
        if spec.endurance is None:
            return
        yield env.timeout(spec.endurance)
        unit.due = True
        while unit.busy:  # it sees its convoy to the leg's end first
            yield w.escorts_changed()
        unit.on_station, unit.due = False, False
        back = env.now + spec.replenish if spec.replenish is not None else None
        w.emit(EscortWithdrawn, spec.owner, spec.id, unit.name, back)
        if spec.replenish is None:
            return
        yield env.timeout(spec.replenish)


def escort(w: World, shipment: Any, leg: Leg, hours: float) -> Generator[Any, Any, Convoy | None]:
    """A convoy for a loaded unit about to sail ``leg`` (taking ``hours``), or None when it sails alone."""
    env = w.env
    key = (leg.route.key, leg.origin)
    while True:
        r = shipment.request  # as patched: a decision may change the escorts or the policy
        convoy = w.forming.get(key)
        if convoy is not None and convoy.pool.spec.id in r.escorts and convoy.members < convoy.limit:
            convoy.members += 1
            yield convoy.sailed
            return convoy
        found = _nearest(w, r.escorts, leg.origin)
        if found is not None:
            pool, unit, legs = found
            unit.busy = True
            convoy = Convoy(pool, unit, pool.spec.convoy or 1, env.event(), hours)
            w.forming[key] = convoy
            transit = sum(_hours(leg, pool) for leg in legs)
            if transit > 0:
                w.emit(EscortDispatched, pool.spec.owner, pool.spec.id, unit.name, unit.at, leg.origin, transit)
            yield env.timeout(transit)  # even at once: lift units arriving this same hour still join
            unit.at = leg.origin
            if w.forming.get(key) is convoy:  # a full convoy may have been followed by another forming here
                del w.forming[key]
            convoy.sailed.succeed()
            return convoy
        if r.escort_policy == "sail":
            return None
        waiting = [p for p in r.escorts if p in w.pools]
        for p in waiting:
            w.awaiting_escort[p] = w.awaiting_escort.get(p, 0) + 1
        try:
            yield w.escorts_changed() | w.next_patch()
        finally:
            for p in waiting:
                w.awaiting_escort[p] -= 1


def arrived(w: World, convoy: Convoy, where: str) -> None:
    """A member reached the leg's end; when all have, the escort is free there."""
    convoy.arrived += 1
    if convoy.arrived == convoy.members:
        unit, pool = convoy.unit, convoy.pool
        unit.at = where
        if where != pool.spec.base and not w.awaiting_escort.get(pool.spec.id) and not unit.due:
            w.env.process(_home(w, pool, unit))
            return
        unit.busy = False
        w.escort_freed()


def _home(w: World, pool: Pool, unit: EscortUnit) -> Generator[Any, Any, None]:
    """An escort unit with no convoy waiting sails back to its base, and is free there."""
    try:
        legs = find_path(w.scenario, pool.spec, unit.at, pool.spec.base)
    except LookupError:  # no way home: it waits where it is
        legs = None
    if legs:
        transit = sum(_hours(leg, pool) for leg in legs)
        w.emit(EscortDispatched, pool.spec.owner, pool.spec.id, unit.name, unit.at, pool.spec.base, transit)
        yield w.env.timeout(transit)
        unit.at = pool.spec.base
    unit.busy = False
    w.escort_freed()


def _nearest(w: World, pool_ids: tuple[str, ...], origin: str) -> tuple[Pool, EscortUnit, tuple[Leg, ...]] | None:
    """The free escort unit of ``pool_ids`` that can reach ``origin`` soonest, with its path there."""
    best = None
    for pool_id in pool_ids:
        pool = w.pools[pool_id]
        if not w.ready(pool):
            continue
        for unit in pool.escorts:
            if not unit.free:
                continue
            try:
                legs = find_path(w.scenario, pool.spec, unit.at, origin) if unit.at != origin else ()
                expected = sum(leg_hours_mean(leg.route, pool.spec) for leg in legs)
            except LookupError:
                continue  # it cannot get there from where it is
            if best is None or expected < best[0]:
                best = (expected, pool, unit, legs)
    return None if best is None else best[1:]


def _hours(leg: Leg, pool: Pool) -> float:
    route = leg.route
    return route.time.sample(pool.rng) if route.time is not None else route.distance_km / pool.spec.speed_kmh
