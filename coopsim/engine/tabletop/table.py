"""The table: a tabletop session in play.

A :class:`Table` holds one :class:`~coopsim.engine.run.Simulation` and
advances it between the facilitator's pauses: to the next inject or decision
(:meth:`Table.go_on`) or to a time (:meth:`Table.advance_to`). The players'
choices reach the engine through its ordinary decider seam: the table *is*
the run's decider. At a decision point it takes the session's recorded
choice if there is one (a resumed or scripted session), and otherwise calls
``ask``, which is the facilitator's console or any callable that returns a
:class:`~coopsim.engine.deciders.Decision`.

Every change to the session (a decision, an observation, a released inject,
a pause) makes a new :class:`~coopsim.engine.session.Session` and hands it
to ``save`` at once, so a session that is quit or killed loses nothing.
Building a table from a saved session replays it: the same scenario, seed,
decisions and releases reach the same state at the same step count, so play
goes on exactly where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from coopsim.engine.log.records import DecisionTaken, InjectReleased, Record
from coopsim.engine.log.sinks import MemorySink
from coopsim.engine.metrics.measurer import Measurer, Metrics
from coopsim.engine.run import Simulation
from coopsim.engine.scenario.durations import duration_text
from coopsim.engine.scenario.model import DecisionPoint, Inject, Scenario
from coopsim.engine.sim.deciders import Decision, DefaultDecider, Situation
from coopsim.engine.sim.world import build
from coopsim.engine.tabletop.seats import FACILITATOR, View, view
from coopsim.engine.tabletop.session import Observation, Place, Release, Response, Session, replay

Ask = Callable[[DecisionPoint, Situation], Decision]
Save = Callable[[Session], None]


class Adjourned(Exception):
    """Raised inside the run when ``ask`` gave up, to end the deciding process.

    The table then stops advancing and raises what ``ask`` raised (the
    facilitator's quit, Ctrl-C, or a bug) to whoever moved it.
    """


class Tabletop:
    """A session in play over ``scenario`` (with the session's variant applied)."""

    def __init__(self, scenario: Scenario, session: Session, ask: Ask | None = None, save: Save | None = None):
        session.check(scenario)
        self.scenario = scenario
        seed = session.seed_for(scenario)
        self.session = session.stamped(scenario, seed)
        self._ask = ask
        self._save = save
        self.records = MemorySink()
        self.released: dict[int, float] = {}
        self._news = False
        self._quit: BaseException | None = None
        self.world = build(scenario, seed, self, [self.records, self._watch])
        self.simulation = Simulation(self.world)
        self.replayed = len(session.decisions), len(session.releases)
        self._moving(lambda: replay(self.simulation, self.session))
        self.clock = max(self.simulation.now, session.at.t if session.at else 0.0)

    # -- the decider seam ------------------------------------------------------------------
    def decide(self, point: DecisionPoint, situation: Situation) -> Decision:
        if self._quit is not None:
            raise Adjourned()  # the facilitator has quit; ask nobody else
        recorded = self.session.decisions.get(point.id)
        if recorded is not None:
            return Decision(recorded.option, recorded.by, recorded.rationale)
        if self._ask is None:
            decision = DefaultDecider().decide(point, situation)
        else:
            try:
                decision = self._ask(point, situation)
            except BaseException as exc:
                # SimPy would carry the exception on as a failed process; stop the advance after this step instead
                self._quit = exc
                raise Adjourned() from exc
        self._change(self.session.with_decision(point.id, decision, self.simulation.now))
        return decision

    # -- the facilitator's moves -------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.simulation.outcome is not None

    @property
    def steps(self) -> int:
        return self.simulation.steps

    def go_on(self) -> None:
        """Advance to the next inject released or decision taken (or the end), then pause."""
        self._news = False
        self._advance(None, lambda: self._news or self._quit is not None)

    def advance_to(self, t: float) -> None:
        """Advance to scenario time ``t`` (decisions on the way are put to the players), then pause."""
        if t < self.clock:
            raise ValueError(f"the clock is at {self.clock:g}h already; give a later time")
        self._advance(t, lambda: self._quit is not None)

    def release(self, seq: int) -> None:
        """Release contingency inject ``seq`` now."""
        if self.finished:
            raise ValueError("the run has ended; there is nothing left to release into")
        if seq not in self.contingencies():
            raise ValueError(f"inject {seq} is not a contingency inject still held back")
        self.simulation.release(seq, self.clock)
        self._change(self.session.with_release(Release(inject=seq, t=duration_text(self.clock), step=self.steps)))

    def observe(self, text: str, objective: str | None = None, by: str = "facilitator") -> Observation:
        """Record a facilitator's observation at the current clock."""
        observation = Observation(text=text, objective=objective, by=by, t=duration_text(self.clock))
        self._change(self.session.with_observation(observation))
        return observation

    def respond(self, seq: int, text: str, seat: str | None = None, by: str = "player") -> Response:
        """Record a player's response to inject ``seq`` at the current clock: the AAR's evidence of the expected action."""
        inject = self.world.scenario.by_id["injects"].get(seq)
        if inject is None or seq not in self.released:
            raise ValueError(f"inject {seq} has not been released; respond to one that has")
        if seat is not None and seat not in inject.to:
            raise ValueError(f"inject {seq} is not addressed to {seat} (it goes to {', '.join(inject.to)})")
        response = Response(inject=seq, text=text, seat=seat, by=by, t=duration_text(self.clock))
        self._change(self.session.with_response(response))
        return response

    # -- what the table shows ------------------------------------------------------------------
    def view(self, seat: str | None = FACILITATOR, t: float | None = None) -> View:
        """What ``seat`` sees, at the clock (or at ``t``: inside a decision, the decision's time)."""
        return view(self.world, self.released, seat, self.clock if t is None else t)

    def contingencies(self) -> dict[int, Inject]:
        """Contingency injects not yet released (nor already released by a trigger or decision); none once the run has ended."""
        if self.finished:
            return {}
        gone = self.world.released | self._held
        return {i.seq: i for i in self.world.scenario.injects if i.contingency and i.seq not in gone}

    def metrics(self) -> Metrics:
        """The metrics so far, as if the run ended now."""
        measurer = Measurer(self.scenario, lambda: self.world.scenario)
        for record in self.records:
            measurer(record)
        return measurer.finish(self.clock)

    # -- inside ------------------------------------------------------------------------------
    @property
    def _held(self) -> set[int]:
        # released or planned by the facilitator, out already or waiting for its time
        return {r.inject for r in self.session.releases}

    def _watch(self, record: Record) -> None:
        if type(record) is InjectReleased:
            self.released[record.inject] = record.t
            self._news = True
        elif type(record) is DecisionTaken:
            self._news = True

    def _advance(self, until: float | None, stop: Callable[[], bool]) -> None:
        self._moving(lambda: self.simulation.advance(until, stop))
        self.clock = self.simulation.end if self.finished else max(self.clock, self.simulation.now, until or 0.0)
        self._change(self.session.paused(Place(t=duration_text(self.clock), step=self.steps)))

    def _moving(self, move: Callable[[], object]) -> None:
        """Run ``move``; if ``ask`` gave up on the way, raise what it raised."""
        try:
            move()
        except Adjourned:
            pass  # the deciding process failed, as it was meant to; the cause is in _quit
        if self._quit is not None:
            raise self._quit

    def _change(self, session: Session) -> None:
        self.session = session
        if self._save is not None:
            self._save(session)
