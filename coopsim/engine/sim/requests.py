"""Requests: the RFA lifecycle, from submission to hand-back.

A request for assistance moves through the states practitioners know:

1. **submitted** by the requester;
2. the **last-resort test** (Oslo and MCDA Guidelines), only for a
   humanitarian request for military assets. The humanitarian side judges it
   (the request's ``last_resort.judge``, by default the requester). A request
   that makes no last-resort case is **returned** for the ``rework`` time.
   One that could be met by a civilian asset of the scenario before it is
   needed is **declined** there, with the civilian alternative as the reason.
   Military-to-military support (``purpose: military_support``) and requests
   for civilian assets take no test;
3. **validated** by the receiving actor, and **forwarded** to the approver
   when that is another actor. Where a standing authority covers the
   request's operation, the authority's holder approves instead of the
   Council (delegated approval);
4. the approver's **deliberation**: **approved**, **declined** (with its
   stated reason) or **deferred** (back on the table later), by the
   approver's ``council`` chances; under a silence procedure the draft
   decision passes unless an ally breaks silence;
5. **tasked** to the owner of the assets, **in progress** from the first
   trip, and **completed** when the last tonne is delivered (an RFI when the
   requester learns the fact);
6. **handed back** when the requester has the completion report.

A declined request goes back to its requester with the reason, who then
revises and resubmits it, turns to another provider (submits another
request), or abandons it (``if_declined``). A request is **aborted** when a
message in its chain cannot be delivered, or the fact an RFI asks for is not
releasable. Every step's time is in the log, so reports can say which step
took the hours.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

from coopsim.engine.log.records import FactWithheld
from coopsim.engine.scenario.model import Request, Role
from coopsim.engine.scenario.model import RequestState as S
from coopsim.engine.scenario.routing import find_path, leg_hours_mean
from coopsim.engine.sim.lifecycle import announce, move, open_request
from coopsim.engine.sim.logistics import fulfil
from coopsim.engine.sim.messaging import deliver
from coopsim.engine.sim.sharing import learn, releasability
from coopsim.engine.sim.signals import FactKnown
from coopsim.engine.sim.world import World


def submit(w: World, request_id: str) -> None:
    """Start ``request_id``'s lifecycle now, unless it has already been submitted."""
    if open_request(w, request_id):
        w.env.process(_lifecycle(w, request_id))


def _state(w: World, r: Request, actor: str, state: S, took: float = 0.0, note: str = "") -> None:
    move(w, r.id, actor, state, took, note)


# -- the last-resort test -------------------------------------------------------------------------


def takes_last_resort_test(w: World, r: Request) -> bool:
    """Whether the Oslo/MCDA last-resort test applies: a humanitarian request for assistance that asks for military assets."""
    assets = w.scenario.by_id["assets"]
    return r.kind == "rfa" and r.purpose == "humanitarian" and any(assets[a].military for a in (*r.assets, *r.escorts) if a in assets)


def civilian_alternative(w: World, r: Request) -> str | None:
    """A civilian asset that could meet the request before it is needed, in words; None if there is none.

    For cargo: the civilian lift pools that can reach the site, with the
    tonnes their units could deliver from now until ``needed_by`` (or the
    scenario end), round trip after round trip at mean travel, loading and
    unloading times. For an escort: none, for no civilian asset escorts.
    """
    assets = w.scenario.by_id["assets"]
    military_lift = any(assets[a].military and assets[a].role is Role.lift for a in r.assets if a in assets)
    if r.quantity <= 0 or r.site is None or not military_lift:
        return None  # an escort, or another capability with no civilian equivalent in the scenario
    horizon = (r.needed_by if r.needed_by is not None else w.scenario.scenario.duration) - w.env.now
    # the cargo is where the request picks it up: its pickup, or else the base of the military lift it asks for
    pickup = r.pickup or next(assets[a].base for a in r.assets if a in assets and assets[a].role is Role.lift)
    found = []
    for pool in w.scenario.assets:
        if pool.military or pool.role is not Role.lift or pool.capacity is None:
            continue
        try:
            out = sum(leg_hours_mean(leg.route, pool) for leg in find_path(w.scenario, pool, pool.base, pickup))
            loaded = sum(leg_hours_mean(leg.route, pool) for leg in find_path(w.scenario, pool, pickup, r.site))
            back = sum(leg_hours_mean(leg.route, pool) for leg in find_path(w.scenario, pool, r.site, pool.base))
        except LookupError:
            continue
        ready_at = w.pools[pool.id].ready_at
        if ready_at is None:
            continue  # waiting for an activation: not an alternative the judge can count on
        start = max(0.0, max(ready_at, pool.available_from) - w.env.now) + out
        trip = pool.load_time.mean + loaded + pool.unload_time.mean
        cycle = trip + back + out
        if start + trip > horizon:
            continue
        trips = 1 + math.floor((horizon - start - trip) / cycle) if cycle > 0 else 1
        tonnes = pool.count * pool.capacity * trips
        found.append((tonnes, pool.id))
    total = sum(t for t, _ in found)
    if total >= r.quantity:
        names = ", ".join(f"{p} ({t:,.0f} t)" for t, p in sorted(found, reverse=True))
        return f"civilian lift can carry {total:,.0f} t to {r.site} by {horizon + w.env.now:g}h: {names}"
    return None


def _last_resort(w: World, request_id: str) -> Generator[Any, Any, tuple[Request, str] | None]:
    """The humanitarian side's test. Returns (request, the actor it now sits with), or None when the lifecycle ends here."""
    env = w.env
    r = w.request(request_id)
    about = f"request:{r.id}"
    judge = (r.last_resort.judge if r.last_resort else None) or r.from_
    # the judge's staff assess the case: a message to the judge, or the requester's own paperwork when it judges itself
    if (yield from deliver(w, r.from_, judge, about, r.marking, r.id)) is None:
        _state(w, r, r.from_, S.aborted, note=f"could not reach {judge}, who judges the last-resort test")
        return None
    if r.last_resort is None:  # no case made: back to the requester to make it
        _state(w, r, judge, S.returned, note="no last-resort case made for military assets")
        if judge != r.from_ and (yield from deliver(w, judge, r.from_, about, r.marking, r.id)) is None:
            _state(w, r, judge, S.aborted, note=f"could not return it to {r.from_}")
            return None
        began = env.now
        yield env.timeout(r.rework.sample(w.streams(f"request:{r.id}")))
        r = w.request(request_id)  # a decision may have changed it during the rework
        _state(w, r, r.from_, S.submitted, env.now - began, "resubmitted with the last-resort case")
        if (yield from deliver(w, r.from_, judge, about, r.marking, r.id)) is None:
            _state(w, r, r.from_, S.aborted, note=f"could not reach {judge}")
            return None
    r = w.request(request_id)
    alternative = civilian_alternative(w, r)
    if alternative is not None:
        _state(w, r, judge, S.declined, note=f"fails the last-resort test: {alternative}")
        if judge != r.from_:
            yield from deliver(w, judge, r.from_, about, r.marking, r.id)
        return None
    unique = "no civilian asset meets it in time" if r.quantity > 0 and r.site else "no civilian asset has the capability"
    _state(w, r, judge, S.validated, note=f"passes the last-resort test: {unique}")
    return r, judge


# -- approval -------------------------------------------------------------------------------------------


def approver_of(w: World, r: Request) -> tuple[str, str, Any]:
    """Who approves ``r`` now, why, and their deliberation time: a standing authority's holder, or the request's approver."""
    if r.operation is not None:
        for authority in w.scenario.authorities:
            if authority.operation == r.operation and authority.id in w.authorities_in_force:
                holder = w.actors[authority.holder].spec
                return authority.holder, f"delegated approval under {authority.id}", authority.approval or holder.approval
    approver = w.actors[r.approver_id].spec
    return approver.id, "", approver.approval


def _decide(w: World, r: Request, approver: str, deliberation: Any) -> Generator[Any, Any, str]:
    """The approver's deliberation, silence procedure and outcome: ``approved``, ``declined`` or ``deferred``."""
    env = w.env
    staffed = w.actors[approver]
    council = staffed.spec.council
    yield env.timeout(deliberation.sample(staffed.rng))
    if council is None:  # no politics: the request's own chance of approval (always, by default)
        return "approved" if w.streams(f"request:{r.id}").random() < r.approve_probability else "declined"
    draws = w.streams(f"council:{approver}:{r.id}")
    if council.silence is not None:
        yield env.timeout(council.silence.period)
        if draws.random() < council.silence.broken:
            yield env.timeout(council.silence.delay.sample(draws))
    x = draws.random()
    return "approved" if x < council.approve else ("declined" if x < council.approve + council.decline else "deferred")


# -- the lifecycle -----------------------------------------------------------------------------------


def _lifecycle(w: World, request_id: str) -> Generator[Any, Any, None]:
    env = w.env
    r = w.request(request_id)
    about = f"request:{r.id}"
    if r.requires is not None and r.requires not in w.knowledge[r.from_]:
        yield w.when(FactKnown(r.requires, r.from_))  # the requester waits until it knows what the request needs
        r = w.request(request_id)
    announce(w, r.id, r.from_, note=f"to {r.to}")
    revisions = 0
    while True:
        r = w.request(request_id)
        sender = r.from_
        if takes_last_resort_test(w, r):
            passed = yield from _last_resort(w, request_id)
            if passed is None:
                if w.request_states[r.id] is S.declined and (yield from _after_decline(w, request_id, revisions)):
                    revisions += 1
                    continue
                return
            r, sender = passed
        if (yield from deliver(w, sender, r.to, about, r.marking, r.id)) is None:
            _state(w, r, sender, S.aborted, note=f"could not reach {r.to}")
            return
        r = w.request(request_id)
        if w.request_states[r.id] is not S.validated:
            _state(w, r, r.to, S.validated)
        approver, why, deliberation = approver_of(w, r)
        if approver != r.to:
            _state(w, r, r.to, S.forwarded, note=f"to {approver}" + (f" ({why})" if why else ""))
            if (yield from deliver(w, r.to, approver, about, r.marking, r.id)) is None:
                _state(w, r, r.to, S.aborted, note=f"could not reach {approver}")
                return
        began = env.now  # each step's time runs from the end of the one before, so the parts add up
        while True:
            outcome = yield from _decide(w, r, approver, deliberation)
            r = w.request(request_id)
            council = w.actors[approver].spec.council
            if outcome != "deferred":
                break
            _state(w, r, approver, S.deferred, env.now - began, council.defer_reason)
            began = env.now
            yield env.timeout(council.defer_for.sample(w.streams(f"council:{approver}:{r.id}")))
        if outcome == "approved":
            break
        reason = council.decline_reason if council is not None else "declined"
        _state(w, r, approver, S.declined, env.now - began, reason)
        if not (yield from _back_to_requester(w, r, approver)):
            return  # the requester never hears of it: the request stays declined
        if (yield from _after_decline(w, request_id, revisions)):
            revisions += 1
            continue
        return
    _state(w, r, approver, S.approved, env.now - began, why)
    if r.kind == "rfi":
        yield from _answer(w, r, approver)
        return
    owner = w.scenario.by_id["assets"][r.assets[0]].owner if r.assets else approver
    if owner != approver and (yield from deliver(w, approver, owner, about, r.marking, r.id)) is None:
        _state(w, r, approver, S.aborted, note=f"could not task {owner}")
        return
    _state(w, r, owner, S.tasked)
    if r.quantity > 0:
        yield from fulfil(w, r, owner)
    _state(w, r, owner, S.completed)
    if owner != r.from_ and (yield from deliver(w, owner, r.from_, about, r.marking, r.id)) is None:
        return  # the completion report never reached the requester: the request is completed, not handed back
    _state(w, r, r.from_, S.handed_back)


def _back_to_requester(w: World, r: Request, sender: str) -> Generator[Any, Any, bool]:
    """The decision travels back the way the request came (the approver, the receiver, the requester); True if it arrives."""
    about = f"request:{r.id}"
    for a, b in ((sender, r.to), (r.to, r.from_)):
        if a != b and (yield from deliver(w, a, b, about, r.marking, r.id)) is None:
            return False
    return True


def _after_decline(w: World, request_id: str, revisions: int) -> Generator[Any, Any, bool]:
    """The requester's answer to a declined request; True to go round again with a revised request."""
    r = w.request(request_id)
    plan = r.if_declined
    if plan.then == "revise" and revisions < plan.times:
        began = w.env.now
        yield w.env.timeout(plan.after.sample(w.streams(f"request:{r.id}")))
        r = w.request(request_id)
        _state(w, r, r.from_, S.submitted, w.env.now - began, "revised and resubmitted after the decline")
        return True
    if plan.then == "elsewhere":
        submit(w, plan.request)
    return False


def _answer(w: World, r: Request, holder: str) -> Generator[Any, Any, None]:
    """An approved RFI: the holder sends the fact, if it knows it and may release it."""
    fact = w.scenario.by_id["facts"][r.fact]
    # Finding the answer (waiting until the holder knows it) and sending it are the
    # "transport" of an RFI: the holder is tasked first.
    _state(w, r, holder, S.tasked, note="to answer")
    if fact.id not in w.knowledge[holder]:
        yield w.when(FactKnown(fact.id, holder))
    edition = w.knowledge[holder][fact.id][2]
    reason = releasability(w, fact, r.from_)
    if reason is not None:
        w.emit(FactWithheld, holder, fact.id, r.from_, reason)
        _state(w, r, holder, S.aborted, note="the fact asked for is not releasable to the requester")
        return
    route = yield from deliver(w, holder, r.from_, f"fact:{fact.id}", fact.marking)
    if route is None:
        _state(w, r, holder, S.aborted, note=f"could not reach {r.from_}")
        return
    learn(w, r.from_, fact, holder, route, edition)
    _state(w, r, holder, S.completed)
    _state(w, r, r.from_, S.handed_back)
