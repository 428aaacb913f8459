"""The exercise: injects released from the MSEL, and decision points put to the decider.

An inject is released at its ``time``, when its ``trigger`` fires, or (a
contingency inject) when a decision option or the facilitator releases it.
Each recipient's staff acknowledges it after queueing and processing; if the
inject carries a fact the recipient then knows it, and if it carries a request
the requester submits it.

A decision point waits for its trigger, asks the decider, records the choice,
then applies the option: a patch retunes the rest of the run, an action
releases an inject, submits a request or shares a fact.

Triggers wait on signals (:mod:`coopsim.engine.sim.signals`) rather than polling.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from coopsim.engine.log.records import AuthorityGranted, DecisionTaken, InjectAcknowledged, InjectReleased
from coopsim.engine.scenario.model import Authority, Inject
from coopsim.engine.sim import arrivals, effects, forces
from coopsim.engine.sim.deciders import Decision, fallback
from coopsim.engine.sim.messaging import staff_time
from coopsim.engine.sim.requests import submit
from coopsim.engine.sim.sharing import learn, share
from coopsim.engine.sim.signals import DecisionMade, InjectOut, ReleaseOrdered
from coopsim.engine.sim.world import World


def start(w: World) -> None:
    """Start every scheduled process: timed facts and requests, injects, decision points."""
    env = w.env
    s = w.scenario
    for fact in s.facts:
        if fact.at is not None:
            env.process(_fact_at(w, fact.id, fact.at))
    for r in s.requests:
        if r.at is not None:
            env.process(_request_at(w, r.id, r.at))
    for inj in s.injects:
        env.process(_inject(w, inj.seq))
    for i in range(len(s.decision_points)):
        env.process(_decision(w, i))
    for authority in s.authorities:
        env.process(_authority(w, authority))
    arrivals.start(w)
    forces.start(w)


def _authority(w: World, authority: Authority) -> Generator[Any, Any, None]:
    """A standing authority comes into force at the start, or when its ``after`` trigger fires."""
    if authority.after is not None:
        yield from w.after(authority.after)
    w.authorities_in_force.add(authority.id)
    w.emit(AuthorityGranted, authority.holder, authority.id, authority.operation, authority.holder)


def _fact_at(w: World, fact_id: str, t: float) -> Generator[Any, Any, None]:
    yield from w.until(t)
    edition = 0
    while True:
        fact = w.scenario.by_id["facts"][fact_id]
        learn(w, fact.origin, fact, fact.origin, "origin", edition)
        if fact.every is None:
            return
        yield w.env.timeout(fact.every)
        edition += 1


def _request_at(w: World, request_id: str, t: float) -> Generator[Any, Any, None]:
    yield from w.until(t)
    submit(w, request_id)


def _inject(w: World, seq: int) -> Generator[Any, Any, None]:
    inj = w.inject(seq)
    if inj.time is not None:
        yield from w.until(inj.time)
    elif inj.trigger is not None:
        yield from w.after(inj.trigger)
    else:
        yield w.when(ReleaseOrdered(seq))
    release(w, seq)


def release_at(w: World, seq: int, t: float) -> Generator[Any, Any, None]:
    """Release inject ``seq`` at time ``t``: a facilitator releasing a contingency inject."""
    yield from w.until(t)
    release(w, seq)


def release(w: World, seq: int) -> None:
    """Release inject ``seq`` now (once only)."""
    if seq in w.released:
        return
    w.released.add(seq)
    inj = w.inject(seq)
    w.emit(InjectReleased, inj.from_, seq, inj.to, inj.contingency)
    w.signal(InjectOut(seq))
    w.signal(ReleaseOrdered(seq))
    for effect in inj.effects:
        effects.start(w, effect, f"inject:{seq}")
    if inj.incident is not None:
        effects.incident(w, w.scenario.by_id["routes"][inj.incident], inj.from_, f"inject:{seq}")
    for actor in inj.to:
        w.env.process(_acknowledge(w, inj, actor))


def _acknowledge(w: World, inj: Inject, actor: str) -> Generator[Any, Any, None]:
    wait, service = yield from staff_time(w, actor)
    w.emit(InjectAcknowledged, actor, inj.seq, wait, service, wait + service)
    if inj.fact is not None:
        learn(w, actor, w.scenario.by_id["facts"][inj.fact], inj.from_, f"inject:{inj.seq}")
    if inj.request is not None:
        request = w.request(inj.request)
        if actor == request.from_ or request.from_ not in inj.to:
            submit(w, inj.request)


def _decision(w: World, index: int) -> Generator[Any, Any, None]:
    point = w.scenario.decision_points[index]
    yield from w.after(point.trigger)
    point = w.scenario.decision_points[index]
    situation = w.situation(point.owner, point)
    decision = w.decider.decide(point, situation)
    options = [o.id for o in point.options]
    if decision.option not in options:
        raise ValueError(f"decider chose {decision.option!r} at {point.id}; expected one of {', '.join(options)}")
    if decision.option in situation.closed:  # an option that needs a fact the owner lacks cannot be taken
        taken = fallback(point, situation)
        decision = Decision(taken.option, decision.by, f"{situation.closed[decision.option]}; {taken.rationale}")
    w.emit(DecisionTaken, point.owner, point.id, decision.option, decision.by, decision.rationale)
    j = options.index(decision.option)
    option = point.options[j]
    if option.patch is not None:
        w.apply_patch(option.patch, ("decision_points", index, "options", j, "patch"))
    action = option.action
    if action is not None:
        if action.release_inject is not None:
            release(w, action.release_inject)
        if action.submit_request is not None:
            submit(w, action.submit_request)
        if action.share_fact is not None:
            fact = w.scenario.by_id["facts"][action.share_fact.fact]
            for recipient in action.share_fact.to:
                w.env.process(share(w, point.owner, recipient, fact))
    w.signal(DecisionMade(point.id))
    w.signal(DecisionMade(point.id, decision.option))
