"""Effects: what an event does to the world, for a period or for good.

An inject's ``effects`` (a snowfall closing a road, a hijacking taking a ship
out, a surge cell staffing a headquarters) and a route's ``on_incident``
effects (an IED strike closing the road for a day) change the world's
runtime state. Nothing in the scenario is edited:

* a **closed route** carries nothing. A trip about to travel it waits at the
  leg's start until it reopens, and new paths avoid it where another way
  exists;
* a route's **risk** is replaced while the effect lasts;
* **assets out of service**: their units are taken as they come free and held
  (an escort unit with a convoy sees it to the leg's end first);
* **staff on duty**: officers are taken off duty (held) or put back. Each
  actor's staff resource is sized for the most officers any effect puts on
  duty;
* **stock** is added to or taken from a location, for good;
* a request's **cargo** grows or shrinks, for good: the demand at its site
  changes.

Each effect is recorded when it starts (:class:`EffectStarted`) and, if it
has a period, when it ends (:class:`EffectEnded`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from coopsim.engine.log.records import EffectEnded, EffectStarted, Incident
from coopsim.engine.scenario.model import Effect, Route
from coopsim.engine.sim.world import EscortUnit, World

CONTROL = "SIMCELL"


def start(w: World, effect: Effect, cause: str) -> None:
    """Start ``effect`` now; ``cause`` says what brought it (``inject:4``, ``incident:route``)."""
    w.env.process(_run(w, effect, cause))


def incident(w: World, route: Route, actor: str, cause: str) -> None:
    """A scripted incident on ``route`` (an inject's ``incident``): counted like any other, with the route's effects."""
    w.emit(Incident, actor, None, None, None, route.key, False, 0.0)
    for effect in route.on_incident:
        start(w, effect, cause)


def _run(w: World, e: Effect, cause: str) -> Generator[Any, Any, None]:
    env = w.env
    kind, ident = e.target
    until = env.now + e.for_ if e.for_ is not None else None
    amount = next((v for v in (e.risk, e.out, e.stock, e.quantity, e.staff) if v is not None), None)
    undo = _apply(w, e, kind, ident)
    w.emit(EffectStarted, CONTROL, f"{kind}:{ident}", e.describe(), cause, until, None if amount is None else float(amount))
    if e.for_ is None or undo is None:
        return
    yield env.timeout(e.for_)
    undo()
    w.emit(EffectEnded, CONTROL, f"{kind}:{ident}", e.describe())


def _apply(w: World, e: Effect, kind: str, ident: str):
    """Make the change now; returns how to undo it (None for a change for good)."""
    if kind == "route":
        key = w.scenario.by_id["routes"][ident].key if ident in w.scenario.by_id["routes"] else ident
        if e.risk is not None:
            before = w.risk_now.get(key)
            w.risk_now[key] = e.risk
            return lambda: w.risk_now.pop(key, None) if before is None else w.risk_now.__setitem__(key, before)
        if e.close:
            w.close_route(key)
            return lambda: w.reopen_route(key)
        w.reopen_route(key)
        return None
    if kind == "asset":
        pool = w.pools[ident]
        if pool.escorts:
            return _hold_escorts(w, pool.escorts, e.out or pool.spec.count)
        return _hold(w, pool.units, e.out or pool.spec.count)
    if kind == "actor":
        before = w.on_duty(ident)
        w.set_staff(ident, e.staff)
        return lambda: w.set_staff(ident, before)
    if kind == "location":
        stock = w.stocks.get(ident)
        if stock is not None and e.stock > 0:
            stock.put(e.stock)
        elif stock is not None and e.stock < 0:
            taken = min(stock.level, -e.stock)
            if taken > 0:
                stock.get(taken)
        return None
    w.more_cargo(ident, e.quantity)  # a request
    return None


def _hold(w: World, resource: simpy.Resource, n: int):
    """Take ``n`` units of ``resource`` as they come free and keep them until undone."""
    held: list[Any] = []
    for _ in range(n):
        req = resource.request()
        held.append(req)

    def undo() -> None:
        for req in held:
            if req.triggered:
                resource.release(req)
            else:
                req.cancel()

    return undo


def _hold_escorts(w: World, units: list[EscortUnit], n: int):
    """Take ``n`` escort units out of service (free ones first; one with a convoy sees it to the leg's end) until undone."""
    held = sorted((u for u in units if not u.held), key=lambda u: u.busy)[:n]
    for unit in held:
        unit.held = True

    def undo() -> None:
        for unit in held:
            unit.held = False
        w.escort_freed()

    return undo
