"""Information sharing: releasability, knowledge and how facts spread.

A fact may reach an organisation only if it is releasable to it:

* public facts go to anyone;
* within the originator's own org family (NATO to NATO, UN to UN) any marking
  goes, as far as the channel is cleared;
* across families, an information-sharing agreement in force must cover both
  sides, the fact's information class, and its marking.

When a fact is not releasable it does not move, and a ``fact_withheld`` record
says why. Each actor's knowledge records when it first knew each fact and from
whom. When an actor learns a fact it passes it on:

* the originator sends it to the fact's distribution list;
* a liaison officer posted at (or from) the actor relays it to the other side;
* a notification arrangement has a party notify the other parties after the
  arrangement's lead time.

A recurring fact (a daily SITREP) comes in editions; an actor knows the latest
edition it has received, and each edition spreads like a fact of its own.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from coopsim.engine.log.records import FactLearned, FactWithheld
from coopsim.engine.scenario.model import Agreement, Fact, Marking
from coopsim.engine.sim.messaging import deliver
from coopsim.engine.sim.signals import FactKnown
from coopsim.engine.sim.world import Post, World


def _covers(agreement: Agreement, actor: str, family: str) -> bool:
    return actor in agreement.parties or family in agreement.parties


def releasability(w: World, fact: Fact, recipient: str, at: float | None = None) -> str | None:
    """None if ``fact`` is releasable to ``recipient`` now (or at time ``at``); otherwise the reason it is not."""
    if fact.marking is Marking.public:
        return None
    actors = w.scenario.by_id["actors"]
    origin, target = actors[fact.origin], actors[recipient]
    if origin.family is target.family:
        return None
    now = w.env.now if at is None else at
    other_classes, too_high = [], []
    for ag in w.scenario.agreements:
        if ag.kind != "information_sharing" or not (ag.valid_from <= now and (ag.valid_until is None or now < ag.valid_until)):
            continue
        if not (_covers(ag, origin.id, origin.family.value) and _covers(ag, target.id, target.family.value)):
            continue
        if fact.class_ not in ag.classes:
            other_classes.append(ag.id)
        elif fact.marking.rank > ag.max_marking.rank:
            too_high.append(f"{ag.id} releases up to {ag.max_marking.value}")
        else:
            return None
    sides = f"{origin.family.value} to {target.family.value}"
    if too_high:
        return f"marking {fact.marking.value} is above what may pass from {sides} ({'; '.join(too_high)})"
    if other_classes:
        return f"no agreement in force releases class {fact.class_!r} from {sides} ({', '.join(other_classes)} covers other classes)"
    return f"no information-sharing agreement between {origin.family.value} and {target.family.value} is in force"


def learn(w: World, actor: str, fact: Fact, source: str, via: str, edition: int = 0) -> None:
    """``actor`` learns ``edition`` of ``fact`` now (unless it knows it already) and passes it on."""
    if knows(w, actor, fact, edition):
        return
    now = w.env.now
    w.knowledge[actor][fact.id] = (now, source, edition)
    issued = fact.issued(edition)
    if issued is None:
        issued = w.first_known.setdefault(fact.id, now)
    w.emit(FactLearned, actor, fact.id, source, via, now - issued, edition)
    w.signal(FactKnown(fact.id, actor))
    w.learned(fact.id, actor)
    env = w.env
    if actor == fact.origin:
        for recipient in fact.distribution:
            if recipient != actor:
                env.process(share(w, actor, recipient, fact, edition))
    for post in w.posts.values():
        spec = post.spec
        if spec.relays_facts and actor in (spec.from_, spec.at) and post.present(now):
            other = spec.at if actor == spec.from_ else spec.from_
            env.process(share(w, actor, other, fact, edition, post=post))
    family = w.actors[actor].spec.family.value
    for ag in w.scenario.agreements:
        in_force = ag.valid_from <= now and (ag.valid_until is None or now < ag.valid_until)
        if ag.kind == "notification" and in_force and fact.class_ in ag.classes and _covers(ag, actor, family):
            for other in _notified(w, ag, family):
                env.process(share(w, actor, other, fact, edition, lead=ag))


def knows(w: World, actor: str, fact: Fact, edition: int = 0) -> bool:
    """Whether ``actor`` knows ``edition`` (or a later one) of ``fact``."""
    known = w.knowledge[actor].get(fact.id)
    return known is not None and known[2] >= edition


def _notified(w: World, ag: Agreement, family: str) -> list[str]:
    """The other parties' actors: named actors, or every actor of a named family."""
    out = []
    for a in w.scenario.actors:
        if a.family.value != family and (a.id in ag.parties or a.family.value in ag.parties):
            out.append(a.id)
    return out


def share(
    w: World, sender: str, recipient: str, fact: Fact, edition: int = 0, post: Post | None = None, lead: Agreement | None = None
) -> Generator[Any, Any, None]:
    """Send ``fact`` from ``sender`` to ``recipient`` if it is releasable; the recipient learns it."""
    if lead is not None:
        yield w.env.timeout(lead.lead_time.sample(w.streams(f"agreement:{lead.id}")))
    # One copy in flight is enough: the originator's distribution, a liaison
    # relay and a notification may all want to tell the same actor.
    key = (fact.id, recipient, edition)
    if knows(w, recipient, fact, edition) or key in w.in_flight:
        return
    reason = releasability(w, fact, recipient)
    if reason is not None:
        w.emit(FactWithheld, sender, fact.id, recipient, reason)
        return
    w.in_flight.add(key)
    route = yield from deliver(w, sender, recipient, f"fact:{fact.id}", fact.marking, post=post)
    w.in_flight.discard(key)
    if route is not None:
        learn(w, recipient, fact, sender, route, edition)
