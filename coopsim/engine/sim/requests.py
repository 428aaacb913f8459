"""Requests: the RFA lifecycle, from submission to hand-back.

A request for assistance moves through the states practitioners know:

1. **submitted** by the requester and sent to the receiving actor;
2. **validated** there. Under the Oslo Guidelines, military and civil-defence
   assets are a last resort, so an RFA that asks for military assets without
   last-resort evidence is **returned**: the requester takes the ``rework``
   time to gather the evidence and resubmits;
3. **forwarded** to the approver when that is another actor;
4. **approved** or **declined** after the approver's deliberation time;
5. **tasked** to the owner of the assets (a tasking message when the owner is
   not the approver);
6. **in progress** from the first trip, and **completed** when the last tonne
   is delivered (an RFI is completed when the requester learns the fact);
7. **handed back** when the requester has the completion report.

A request is **aborted** when a message in its chain cannot be delivered, or
the fact an RFI asks for is not releasable. Every step's time is in the log,
so reports can say which step took the hours.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from coopsim.engine.log.records import FactWithheld
from coopsim.engine.scenario.model import Request
from coopsim.engine.scenario.model import RequestState as S
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


def _needs_last_resort(w: World, r: Request) -> bool:
    assets = w.scenario.by_id["assets"]
    return r.kind == "rfa" and any(assets[a].military for a in (*r.assets, *r.escorts))


def _lifecycle(w: World, request_id: str) -> Generator[Any, Any, None]:
    env = w.env
    r = w.request(request_id)
    about = f"request:{r.id}"
    announce(w, r.id, r.from_, note=f"to {r.to}")
    has_evidence = r.last_resort is not None
    while True:
        if (yield from deliver(w, r.from_, r.to, about, r.marking, r.id)) is None:
            _state(w, r, r.from_, S.aborted, note=f"could not reach {r.to}")
            return
        r = w.request(request_id)
        if has_evidence or not _needs_last_resort(w, r):
            break
        _state(w, r, r.to, S.returned, note="military assets asked for without last-resort evidence")
        if (yield from deliver(w, r.to, r.from_, about, r.marking, r.id)) is None:
            _state(w, r, r.to, S.aborted, note=f"could not return it to {r.from_}")
            return
        began = env.now
        yield env.timeout(r.rework.sample(w.streams(f"request:{r.id}")))
        r = w.request(request_id)  # a decision may have changed it during the rework
        has_evidence = True
        _state(w, r, r.from_, S.submitted, env.now - began, "resubmitted with last-resort evidence")
    _state(w, r, r.to, S.validated)
    approver = r.approver_id
    if approver != r.to:
        _state(w, r, r.to, S.forwarded, note=f"to {approver}")
        if (yield from deliver(w, r.to, approver, about, r.marking, r.id)) is None:
            _state(w, r, r.to, S.aborted, note=f"could not reach {approver}")
            return
    staffed = w.actors[approver]
    began = env.now
    yield env.timeout(staffed.spec.approval.sample(staffed.rng))
    r = w.request(request_id)
    if w.streams(f"request:{r.id}").random() >= r.approve_probability:
        _state(w, r, approver, S.declined, env.now - began)
        yield from deliver(w, approver, r.from_, about, r.marking, r.id)
        return
    _state(w, r, approver, S.approved, env.now - began)
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
