"""Signals: the named moments the simulation announces, which triggers and waiting processes wait for.

A signal is a small frozen value, never a string built on the fly, so a
misspelt signal is a type error rather than a wait that never ends. Signals
are given with :meth:`~coopsim.engine.sim.world.World.signal` and waited for
with :meth:`~coopsim.engine.sim.world.World.when`; one given before anyone
waits is remembered.
"""

from __future__ import annotations

from dataclasses import dataclass

from coopsim.engine.scenario.model import RequestState, Trigger


@dataclass(frozen=True, slots=True)
class RequestReached:
    """A request entered ``state``."""

    request: str
    state: RequestState


@dataclass(frozen=True, slots=True)
class InjectOut:
    """An inject was released, by its time, its trigger, a decision or the facilitator."""

    seq: int


@dataclass(frozen=True, slots=True)
class ReleaseOrdered:
    """A contingency inject was ordered out (the signal its waiting process waits for)."""

    seq: int


@dataclass(frozen=True, slots=True)
class FactKnown:
    """``actor`` came to know ``fact``."""

    fact: str
    actor: str


@dataclass(frozen=True, slots=True)
class DecisionMade:
    """A decision point was decided; with ``option``, decided that way."""

    point: str
    option: str | None = None


@dataclass(frozen=True, slots=True)
class PoolActivated:
    """An asset pool that waits for an event was activated: its lead time has begun."""

    asset: str


Signal = RequestReached | InjectOut | ReleaseOrdered | FactKnown | DecisionMade | PoolActivated


def of_trigger(trigger: Trigger) -> Signal | None:
    """The signal a trigger waits for; None for a trigger at a time."""
    if trigger.request is not None:
        return RequestReached(trigger.request, trigger.state)
    if trigger.inject is not None:
        return InjectOut(trigger.inject)
    if trigger.fact is not None:
        return FactKnown(trigger.fact, trigger.known_by)
    if trigger.decision is not None:
        return DecisionMade(trigger.decision, trigger.option)
    return None
