"""Seats: what each organisation at a tabletop exercise can see of the run.

A player seat is one organisation (an actor). It sees only what has reached
that organisation and may be released to it:

* **facts** it knows, and only those releasable to it now (its own family's,
  public ones, or ones an information-sharing agreement in force covers); a
  fact that reached it some other way but may not be released to it stays
  hidden;
* **injects** released to it, with their MSEL fields;
* **requests** it is party to (requester, addressee or approver), each with
  its lifecycle state;
* **assets** its organisation owns, with the units busy.

The facilitator's seat (``None``) sees everything: every fact with every
organisation that knows it, every inject, request and asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from coopsim.engine.scenario.model import Scenario
from coopsim.engine.sim.sharing import releasability
from coopsim.engine.sim.world import World

FACILITATOR = None
"""The seat that sees everything."""


@dataclass(frozen=True, slots=True)
class Knower:
    """Who knows a fact: since when, from whom, and which edition."""

    actor: str
    since: float
    source: str
    edition: int


@dataclass(frozen=True, slots=True)
class FactSeen:
    fact: str
    description: str
    class_: str
    marking: str
    origin: str
    known_by: tuple[Knower, ...]


@dataclass(frozen=True, slots=True)
class InjectSeen:
    """A released inject with its MSEL fields."""

    seq: int
    released: float
    type: str
    delivery: str
    from_: str
    to: tuple[str, ...]
    description: str
    expected_action: str
    objective: str | None
    contingency: bool


@dataclass(frozen=True, slots=True)
class RequestSeen:
    request: str
    kind: str
    from_: str
    to: str
    approver: str
    state: str
    quantity: float
    site: str | None


@dataclass(frozen=True, slots=True)
class AssetSeen:
    asset: str
    name: str
    owner: str
    kind: str
    busy: int
    units: int


@dataclass(frozen=True, slots=True)
class View:
    """What one seat sees at time ``t``."""

    seat: str | None
    t: float
    facts: tuple[FactSeen, ...]
    injects: tuple[InjectSeen, ...]
    requests: tuple[RequestSeen, ...]
    assets: tuple[AssetSeen, ...]


def view(world: World, released: Mapping[int, float], seat: str | None = FACILITATOR, t: float | None = None) -> View:
    """What ``seat`` (an actor id, or None for the facilitator) sees at ``t`` (default: now).

    ``released`` maps inject seq to release time. ``t`` may be later than the
    world's last event when the facilitator advanced the clock past it.
    """
    s = world.scenario
    t = world.env.now if t is None else t
    return View(
        seat,
        t,
        tuple(_facts(world, s, seat, t)),
        tuple(_injects(s, released, seat)),
        tuple(_requests(world, s, seat)),
        tuple(_assets(world, s, seat)),
    )


def _facts(world: World, s: Scenario, seat: str | None, t: float):
    for fact in s.facts:
        knowers = [
            Knower(actor, *known[fact.id])
            for actor, known in world.knowledge.items()
            if fact.id in known and (seat is FACILITATOR or actor == seat)
        ]
        if not knowers:
            continue
        if seat is not FACILITATOR and releasability(world, fact, seat, t) is not None:
            continue  # it reached this organisation, but it may not be shown there
        knowers.sort(key=lambda k: k.since)
        yield FactSeen(fact.id, fact.description, fact.class_, fact.marking.value, fact.origin, tuple(knowers))


def _injects(s: Scenario, released: Mapping[int, float], seat: str | None):
    injects = s.by_id["injects"]
    for seq, t in sorted(released.items(), key=lambda item: (item[1], item[0])):
        inj = injects[seq]
        if seat is FACILITATOR or seat in inj.to:
            yield InjectSeen(
                seq, t, inj.type, inj.delivery, inj.from_, inj.to, inj.description, inj.expected_action, inj.objective, inj.contingency
            )


def _requests(world: World, s: Scenario, seat: str | None):
    for r in s.requests:
        state = world.request_states.get(r.id)
        approver = r.approver or r.to
        if state is not None and (seat is FACILITATOR or seat in (r.from_, r.to, approver)):
            yield RequestSeen(r.id, r.kind, r.from_, r.to, approver, state, r.quantity, r.site)


def _assets(world: World, s: Scenario, seat: str | None):
    for a in s.assets:
        if seat is FACILITATOR or a.owner == seat:
            pool = world.pools[a.id]
            yield AssetSeen(a.id, a.name, a.owner, a.kind, *pool.usage())
