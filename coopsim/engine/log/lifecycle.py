"""The request lifecycle: its states, the moves between them, and the spans that metrics, charts and lessons measure.

A request for assistance (or for information, or a supply demand) moves
through the :class:`~coopsim.engine.scenario.model.RequestState` states.
:data:`MOVES` says which state may follow which; the simulation changes a
request's state in one place (:func:`coopsim.engine.sim.lifecycle.move`),
which refuses any other move.

Two ways of cutting a request's time come from its records, each defined once
here and used by the metrics, the charts and the lessons alike:

* **Parts** (:class:`Part`) add up to the cycle time, submission to
  completion, by *activity*: time on channels (transit), waiting for a free
  staff officer (queue), being handled (processing), gathering last-resort
  evidence (rework), the approver's deliberation (approval), and tasking to
  the last delivery (transport).
* **Phases** (:class:`Phase`) follow *who holds* the request: from one state
  change to the next, the phase the state starts. The phase from forwarding
  to the decision is "awaiting decision", which holds the messages to the
  approver as well as the deliberation, so it is never called "approval".

:class:`RequestTrack` folds one request's records into both, and
:class:`RequestTracks` keeps one per request; both hold a few numbers per
request, never a record per message, so a run of any length is measured in
bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from coopsim.engine.log.records import MessageDelivered, MessageHandled, Record, RequestStateChanged
from coopsim.engine.scenario.model import RequestState

S = RequestState

MOVES: dict[RequestState | None, frozenset[RequestState]] = {
    None: frozenset({S.submitted}),
    S.submitted: frozenset({S.validated, S.returned, S.declined, S.aborted}),
    S.returned: frozenset({S.submitted, S.aborted}),
    S.validated: frozenset({S.forwarded, S.approved, S.declined, S.deferred, S.aborted}),
    S.forwarded: frozenset({S.approved, S.declined, S.deferred, S.aborted}),
    S.deferred: frozenset({S.approved, S.declined, S.deferred}),
    S.approved: frozenset({S.tasked, S.aborted}),
    S.tasked: frozenset({S.in_progress, S.completed, S.aborted}),
    S.in_progress: frozenset({S.completed}),
    S.completed: frozenset({S.handed_back}),
    S.declined: frozenset({S.submitted}),
    S.aborted: frozenset(),
    S.handed_back: frozenset(),
}
"""The states that may follow each state (``None``: not yet submitted).

Aborted and handed back are final; a declined request is final unless its
requester revises and resubmits it.
"""


class Part(StrEnum):
    """A part of the cycle time, by activity; the parts of a completed request add up to its cycle time."""

    transit = "transit"
    """On channels: the transit of every message about the request, resends included."""
    queue = "queue"
    """Waiting for a free staff officer to handle one of its messages."""
    processing = "processing"
    """Staff handling its messages."""
    rework = "rework"
    """The requester gathering last-resort evidence after the request was returned."""
    approval = "approval"
    """The approver's deliberation, from the request in hand to the decision: every round, deferrals and silence included."""
    transport = "transport"
    """From tasking to the last delivery (an RFI: to the answer)."""


class Phase(StrEnum):
    """Who holds the request: the span from one state change to the next, named for the state it starts from."""

    validation = "validation"
    forwarding = "forwarding"
    awaiting_decision = "awaiting decision"
    tasking = "tasking"
    transport = "transport"
    hand_back = "hand-back"


PHASE_AFTER: dict[RequestState, Phase] = {
    S.submitted: Phase.validation,
    S.returned: Phase.validation,
    S.validated: Phase.forwarding,
    S.forwarded: Phase.awaiting_decision,
    S.deferred: Phase.awaiting_decision,
    S.approved: Phase.tasking,
    S.tasked: Phase.transport,
    S.in_progress: Phase.transport,
    S.completed: Phase.hand_back,
}
"""The phase a request is in after entering a state; a state not here ends the phases (the request is over)."""


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    """A span of one phase: from ``start`` to ``end`` hours, with ``actor`` holding the request."""

    start: float
    end: float
    phase: Phase
    actor: str


@dataclass(slots=True)
class RequestTrack:
    """One request's life as its records tell it: state changes, and the hours of each part of its cycle."""

    request: str
    changes: list[tuple[float, RequestState, str]] = field(default_factory=list)
    parts: dict[Part, float] = field(default_factory=lambda: dict.fromkeys(Part, 0.0))
    submitted: float | None = None
    tasked: float | None = None
    completed: float | None = None

    @property
    def state(self) -> RequestState | None:
        return self.changes[-1][1] if self.changes else None

    @property
    def cycle_time(self) -> float | None:
        """Submission to completion, if it completed."""
        return None if self.submitted is None or self.completed is None else self.completed - self.submitted

    @property
    def open(self) -> bool:
        """Still before completion: only steps before it count towards the cycle (the hand-back comes after)."""
        return self.completed is None

    def moved(self, r: RequestStateChanged) -> None:
        """Take a state change."""
        state = RequestState(r.state)
        self.changes.append((r.t, state, r.actor))
        if state is S.submitted:
            if self.submitted is None:
                self.submitted = r.t
            else:
                self.parts[Part.rework] += r.took
        elif state in (S.approved, S.declined, S.deferred):
            self.parts[Part.approval] += r.took  # every round of deliberation, deferrals included
        elif state is S.tasked:
            self.tasked = r.t
        elif state is S.completed:
            self.parts[Part.transport] = r.t - (self.tasked if self.tasked is not None else r.t)
            self.completed = r.t

    def phases(self, end: float) -> list[PhaseSpan]:
        """The phases in order, the last one running to ``end`` if the request was still held then."""
        spans = []
        for (t0, state, actor), nxt in zip(self.changes, [*self.changes[1:], None], strict=True):
            phase = PHASE_AFTER.get(state)
            t1 = end if nxt is None else nxt[0]
            if phase is not None and t1 > t0:
                spans.append(PhaseSpan(t0, t1, phase, actor))
        return spans

    def reached(self, state: RequestState) -> float | None:
        """When the request first entered ``state``, if it did."""
        return next((t for t, s, _ in self.changes if s is state), None)


class RequestTracks(dict[str, RequestTrack]):
    """A :class:`RequestTrack` per request, fed the records as they stream past (a sink)."""

    def __missing__(self, request: str) -> RequestTrack:
        track = self[request] = RequestTrack(request)
        return track

    def __call__(self, record: Record) -> None:
        """Take a record: a request's state change, or a message about a request."""
        if type(record) is RequestStateChanged:
            self[record.request].moved(record)
        elif type(record) is MessageDelivered and record.request is not None:
            track = self[record.request]
            if track.open:
                track.parts[Part.transit] += record.transit
        elif type(record) is MessageHandled and record.request is not None:
            track = self[record.request]
            if track.open:
                track.parts[Part.queue] += record.wait
                track.parts[Part.processing] += record.service
