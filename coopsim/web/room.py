"""The room: one tabletop session served to several screens, and every move on it, one at a time.

A :class:`Room` holds the :class:`~coopsim.engine.Tabletop` and the session
file. Every move (advance, release, decide, respond, observe) takes the room's
lock, so two players submitting at once are serialised, and is checked against
the state it finds: a decision already taken, or an inject no longer waiting,
gets a :class:`Refused` with a sentence for the page, and changes nothing.
Each change is saved to the session file at once (atomically), so a killed
server started again with ``--session`` resumes exactly.

A decision point owned by a seated organisation stops the advance: the table's
decider raises :class:`Awaiting`, the room notes the pending decision, and
rebuilds the table from the saved session by deterministic replay. When the
owner decides, the choice is recorded in the session and the advance goes on
through the decision. Points owned by organisations the model plays are taken
by the model (policy or default) as in a scripted run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from coopsim.engine import (
    METRICS,
    Decision,
    DecisionPoint,
    DefaultDecider,
    Names,
    Place,
    Scenario,
    Session,
    Situation,
    Tabletop,
    View,
    duration_text,
    parse_duration,
    split_metric,
)

MAX_TEXT = 2000
"""The longest rationale, response or observation a form may send."""


class Refused(Exception):
    """A move the room will not make; the message is one sentence for the page."""


class Awaiting(Exception):
    """Raised by the table's decider at a point a seated organisation owns: the advance stops there."""

    def __init__(self, point: DecisionPoint, situation: Situation, steps: int):
        super().__init__(point.id)
        self.point = point
        self.situation = situation
        self.steps = steps  # simulation events processed before the one that reached the point


@dataclass(frozen=True, slots=True)
class Pending:
    """A decision waiting for its owner's seat."""

    point: DecisionPoint
    t: float
    open_options: tuple[str, ...]
    closed: dict[str, str]  # option -> why the owner may not take it now


class Room:
    """A session in play, shared by the facilitator, the seats and the observers."""

    def __init__(self, scenario: Scenario, session: Session, path: str | Path):
        self.scenario = scenario
        self.path = Path(path)
        self.names = Names(scenario)
        self.lock = threading.RLock()
        self._version_lock = threading.Lock()
        self.version = 0
        self.pending: Pending | None = None
        self.report: Path | None = None
        self.closing = False  # set when the server stops: the event streams end
        self.listeners: set = set()  # called with the new version after every change (from whichever thread made it)
        self.table = Tabletop(scenario, session, ask=self._ask, save=self._save)
        self._save(self.table.session)

    # -- state -----------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        return self.table.session

    @property
    def seats(self) -> tuple[str, ...]:
        return self.session.seats

    @property
    def finished(self) -> bool:
        return self.table.finished

    def view(self, seat: str | None) -> View:
        with self.lock:
            return self.table.view(seat)

    def scoreboard(self) -> list[dict]:
        """Each objective's metric and rating as of now."""
        with self.lock:
            metrics = self.table.metrics()
            clock = self.table.clock
        by_id = self.scenario.by_id["objectives"]
        rows = []
        for r in metrics.objectives:
            spec = METRICS[split_metric(r.metric)[0]]
            rating = r.rating
            if r.value is None and spec.event and r.objective in by_id and clock <= by_id[r.objective].thresholds.M:
                rating = "pending"  # the event has not happened yet, but there is still time for it to rate M or better
            rows.append({"name": r.name, "metric": r.metric, "value": r.value, "target": r.target, "rating": rating})
        return rows

    # -- moves -----------------------------------------------------------------------------
    def advance(self, to: str = "") -> None:
        """Advance to the next inject or decision, or to a time (``36h``, ``2d``), then pause."""
        with self.lock:
            self._open()
            if self.pending is not None:
                raise Refused(f"{self.names.actor(self.pending.point.owner)} has a decision to take first: {self.pending.point.name}")
            if to.strip():
                try:
                    t = parse_duration(to.strip())
                except ValueError:
                    raise Refused(f"{to.strip()[:40]!r} is not a time (expected a duration such as 36h or 2d)") from None
                if t <= self.table.clock:
                    raise Refused(f"the clock is already at {self.table.clock:g} h (expected a later time)")
                self._move(lambda: self.table.advance_to(t))
            else:
                self._move(self.table.go_on)

    def release(self, seq: str) -> None:
        with self.lock:
            self._open()
            held = self.table.contingencies()
            if not seq.isdigit() or int(seq) not in held:
                raise Refused(f"inject {seq[:10]!r} is not a contingency inject still held back")
            self.table.release(int(seq))
            self._changed()

    def decide(self, seat: str | None, point_id: str, option: str, rationale: str, by: str) -> None:
        """The owner's choice at the pending decision point (the facilitator may enter it for a seat)."""
        with self.lock:
            self._open()
            pending = self.pending
            if pending is None or pending.point.id != point_id:
                raise Refused("that decision is not waiting any more: it was taken, or the clock has moved on")
            if seat is not None and seat != pending.point.owner:
                raise Refused(f"this decision belongs to {self.names.actor(pending.point.owner)}")
            if option not in pending.open_options:
                raise Refused(f"{option[:40]!r} is not an open option of this decision")
            rationale, by = _text(rationale, "a rationale"), _text(by, "your name")
            decision = Decision(option, by, rationale)
            self.table.session = self.table.session.with_decision(point_id, decision, pending.t)
            self._save(self.table.session)
            self.pending = None
            self._move(self.table.go_on)

    def respond(self, seat: str, seq: str, text: str, by: str) -> None:
        with self.lock:
            text, by = _text(text, "the response"), _text(by, "your name")
            if not seq.isdigit():
                raise Refused("choose an inject to respond to")
            try:
                self.table.respond(int(seq), text, seat=seat, by=by)
            except ValueError as exc:
                raise Refused(str(exc)) from None
            self._changed()

    def observe(self, text: str, objective: str, by: str) -> None:
        with self.lock:
            text, by = _text(text, "the observation"), _text(by, "your name")
            if objective and objective not in self.scenario.by_id["objectives"]:
                raise Refused("choose one of the exercise's objectives, or none")
            self.table.observe(text, objective or None, by)
            self._changed()

    # -- time travel -------------------------------------------------------------------------
    def looking_back(self, k: int) -> Tabletop:
        """The table as it was at the session's pause ``k``, rebuilt by deterministic replay: read-only, the session untouched."""
        with self.lock:
            pauses = self.session.pauses
            if not 0 <= k < len(pauses):
                raise Refused(f"there is no pause {k} (expected one of 0 to {len(pauses) - 1})")
            # the releases after the pause go (the replay must not pass them); every recorded decision stays, so the
            # replay takes each one exactly as it was taken
            then = self.session.branched(pauses[k]).model_copy(update={"decisions": self.session.decisions})
        return Tabletop(self.scenario, then)  # no decider and no saving: it only replays what was recorded

    def branch(self, k: str) -> Path:
        """Rewind to pause ``k`` in a new session file (the original untouched) and play on from there."""
        with self.lock:
            pauses = self.session.pauses
            if not k.isdigit() or int(k) >= len(pauses):
                raise Refused(f"there is no pause {k[:10]!r} to branch from")
            session = self.session.branched(pauses[int(k)])
            n = 1
            while (path := self.path.with_name(f"{self.path.stem.split('-branch-')[0]}-branch-{n}{self.path.suffix}")).exists():
                n += 1
            self.path = path
            self.pending = None
            self.report = None
            self.table = Tabletop(self.scenario, session, ask=self._ask, save=self._save)
            self._save(self.table.session)
            self._changed()
            return path

    def notify(self) -> None:
        """Tell every screen the room has changed (a new version)."""
        self._changed()

    # -- inside ----------------------------------------------------------------------------
    def _open(self) -> None:
        if self.report is not None:
            raise Refused("the exercise has ended and its report is written")
        if self.table.finished:
            raise Refused("the exercise has reached its end")

    def _ask(self, point: DecisionPoint, situation: Situation) -> Decision:
        if point.owner in self.session.seats:
            raise Awaiting(point, situation, self.table.steps)
        return DefaultDecider().decide(point, situation)

    def _move(self, move) -> None:
        try:
            move()
        except Awaiting as waiting:
            point, situation = waiting.point, waiting.situation
            closed = dict(situation.closed)
            self.pending = Pending(point, situation.t, tuple(o.id for o in point.options if o.id not in closed), closed)
            # the table's run stopped inside the decision: rebuild it by replay, paused just before the decision, so
            # every screen shows the moment of the decision (its clock, the inject that raised it)
            at = self.table.session.paused(Place(t=duration_text(situation.t), step=waiting.steps))
            self.table = Tabletop(self.scenario, at, ask=self._ask, save=self._save)
            self._save(self.table.session)
        self._changed()

    def _save(self, session: Session) -> None:
        session.save(self.path)

    def _changed(self) -> None:
        with self._version_lock:  # short, never held across a move: the event loop may call this too
            self.version += 1
            version = self.version
        for listener in list(self.listeners):
            listener(version)


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Refused(f"{what} is required")
    if len(value) > MAX_TEXT:
        raise Refused(f"{what} is too long ({len(value):,} characters; at most {MAX_TEXT:,})")
    return value
