"""Causal attribution: walk the critical path back from a measured event, and name what it waited on.

A lesson is only as good as its cause. For a time the exercise measured (the
first delivery at a site, a request's completion), :func:`critical_path`
walks the event log backwards from that event, asking at each step what it
waited on:

* a delivery waited on its trip: transport (loading, sailing, unloading), an
  escort (one that was busy elsewhere, or not yet generated), and before
  that, on the trip's start;
* a trip's start waited on the request being tasked, on its lift pool
  becoming available (not yet generated, or busy with earlier trips), or on
  a fact its planner needed;
* a request's tasking waited on its cycle: time on channels, staff queues,
  staff handling, approval, rework for last-resort evidence;
* its submission waited on whatever submitted it: an inject, which waited on
  its trigger (a time in the MSEL, another request's state, a fact reaching
  someone, a decision), and so on, recursively.

Each :class:`Step` carries hours and a **cause class**. Beside the path the
walk records **blocked alternatives**: another inject that would have set the
same thing going, but whose trigger fact was withheld from the actor who had
to know it (with the reason, which names the agreements in force). When such
an alternative was blocked, the path as it ran is not the whole story: the
withheld fact is the binding cause, and the hours it cost are estimated as
the time between the refusal and the start that actually happened.

Everything here is read from a :class:`~coopsim.engine.log.rundir.RunData`:
the records a report already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coopsim.engine.log.records import (
    AssetActivated,
    AssetReady,
    DecisionTaken,
    Delivery,
    EscortJoined,
    Incident,
    InjectReleased,
    RequestStateChanged,
    TripEnded,
    TripStarted,
)

if TYPE_CHECKING:
    from coopsim.engine.scenario.names import Names
from coopsim.engine.log.rundir import RunData
from coopsim.engine.scenario.names import Names

ACTIONABLE = frozenset({"withheld", "information", "approval", "transit", "queue", "processing", "rework", "escort_not_ready"} | {
    "escort_busy", "lift_not_ready", "lift_busy", "transport", "decision",
})  # fmt: skip
"""Cause classes an organisation can act on; a time in the MSEL (``scheduled``) is the exercise's design, not a finding."""

_EPS = 1e-6
_DEPTH = 12


@dataclass(frozen=True, slots=True)
class Step:
    """One stretch of the critical path: ``hours`` spent on ``cause``, in words, and who could act on it."""

    cause: str
    hours: float
    text: str
    actor: str | None = None
    subject: str | None = None  # the request, asset, fact or inject it concerns


@dataclass(frozen=True, slots=True)
class Blocked:
    """An earlier start that was blocked: ``fact`` was withheld from ``to`` by ``by`` at ``t``, for ``reason``."""

    fact: str
    by: str
    to: str
    t: float
    reason: str
    cost: float  # hours between the refusal and the start that actually happened
    instead: str  # what would have started it


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """What a measured event waited on, latest first."""

    event: str
    t: float
    steps: tuple[Step, ...]
    blocked: tuple[Blocked, ...]

    def hours(self, cause: str) -> float:
        return sum(s.hours for s in self.steps if s.cause == cause)

    def binding(self, shortfall: float = 0.0) -> Step | Blocked | None:
        """The binding cause of missing a target by ``shortfall`` hours.

        A blocked alternative's withheld fact comes first. Else the largest step
        anyone in the exercise controls, if all such steps together could have
        made up the shortfall; if they could not, the target was out of reach
        whatever the players did, and the largest uncontrolled step (the MSEL's
        timing, or time the log does not explain) is the finding.
        """
        if self.blocked:
            return max(self.blocked, key=lambda b: b.cost)
        controlled = sum(s.hours for s in self.steps if s.cause in ACTIONABLE)
        if controlled + _EPS >= shortfall and self.largest_actionable is not None:
            return self.largest_actionable
        return max((s for s in self.steps if s.hours > _EPS and s.cause not in ACTIONABLE), key=lambda s: s.hours, default=None)

    @property
    def largest_actionable(self) -> Step | None:
        return max((s for s in self.steps if s.cause in ACTIONABLE and s.hours > _EPS), key=lambda s: s.hours, default=None)


class _Walk:
    def __init__(self, run: RunData):
        self.run = run
        self.s = run.scenario
        self.n = n = Names(run.scenario)
        self.asset, self.place, self.actor, self.request_name = n.asset, n.place, n.actor, n.request
        recs = run.records
        self.trips = {r.trip: r for r in recs.of(TripStarted)}
        self.joined = recs.of(EscortJoined)
        self.ready = {r.asset: r for r in recs.of(AssetReady)}
        self.activated = {r.asset: r for r in recs.of(AssetActivated)}
        self.ended = recs.of(TripEnded)
        self.releases = recs.of(InjectReleased)
        self.states = recs.of(RequestStateChanged)
        self.decisions = {r.decision: r for r in recs.of(DecisionTaken)}
        self.incidents = recs.of(Incident)
        self.steps: list[Step] = []
        self.blocked: list[Blocked] = []

    # -- deliveries and trips ------------------------------------------------------------------
    def delivery(self, d: Delivery) -> None:
        trip = self.trips.get(d.trip)
        if trip is None:
            return
        waits = [j for j in self.joined if j.trip == d.trip and j.t <= d.t + _EPS]
        escort_hours = sum(j.waited for j in waits)
        self.steps.append(
            Step(
                "transport",
                d.t - trip.t - escort_hours,
                f"{self.asset(trip.asset)} loaded, travelled and unloaded {d.quantity:,.0f} t"
                f" ({self.place(trip.origin)} to {self.place(d.site)})",
                trip.actor,
                trip.asset,
            )
        )
        for j in waits:
            self._escort_wait(j)
        lost = [i for i in self.incidents if i.request == d.request and i.t <= d.t]
        for i in lost:
            self.steps.append(
                Step(
                    "incident",
                    0.0,
                    f"an incident on the {self.n.route(i.route)} route at {i.t:.1f} h cost {i.lost:,.0f} t",
                    i.actor,
                    i.route,
                )
            )
        self.trip_start(trip, 0)

    def _escort_wait(self, j: EscortJoined) -> None:
        called = j.t - j.waited
        ready = self.ready.get(j.escort)
        if ready is not None and ready.t > called + _EPS:
            act = self.activated.get(j.escort)
            how = f" (activated {act.cause} at {act.t:.1f} h, lead time {act.lead_time:.1f} h)" if act else ""
            self.steps.append(
                Step(
                    "escort_not_ready",
                    min(ready.t, j.t) - called,
                    f"waited for {self.asset(j.escort)}, not yet generated{how}",
                    ready.actor,
                    j.escort,
                )
            )
            if j.t > ready.t:
                self.steps.append(
                    Step(
                        "escort_busy",
                        j.t - ready.t,
                        f"waited for a unit of {self.asset(j.escort)} to reach the {self.n.route(j.route)} route",
                        ready.actor,
                        j.escort,
                    )
                )
            return
        self.steps.append(
            Step(
                "escort_busy",
                j.waited,
                f"waited {j.waited:.1f} h for a unit of {self.asset(j.escort)} to reach the {self.n.route(j.route)} route",
                None,
                j.escort,
            )
        )

    def trip_start(self, trip: TripStarted, depth: int) -> None:
        track = self.run.requests.get(trip.request)
        tasked = track.tasked if track is not None else None
        if tasked is None:
            return
        gap = trip.t - tasked
        if gap > _EPS:
            ready = self.ready.get(trip.asset)
            busy = [e for e in self.ended if e.asset == trip.asset and abs(e.t - trip.t) <= _EPS]
            if ready is not None and abs(ready.t - trip.t) <= _EPS:
                act = self.activated.get(trip.asset)
                how = f", activated {act.cause} at {act.t:.1f} h with a lead time of {act.lead_time:.1f} h" if act else ""
                self.steps.append(
                    Step("lift_not_ready", gap, f"{self.asset(trip.asset)} was not yet available{how}", ready.actor, trip.asset)
                )
            elif busy:
                self.steps.append(
                    Step("lift_busy", gap, f"every unit of {self.asset(trip.asset)} was busy on earlier trips", trip.actor, trip.asset)
                )
            else:
                self.steps.append(
                    Step("waiting", gap, f"{self.asset(trip.asset)} waited to start (stock at the pickup, or a fact its planner needed)")
                )
        self.request(trip.request, depth + 1)

    # -- requests --------------------------------------------------------------------------------
    def request(self, rid: str, depth: int) -> None:
        """The cycle of request ``rid`` up to its tasking, then what submitted it."""
        track = self.run.requests.get(rid)
        if track is None or track.submitted is None or depth > _DEPTH:
            return
        spec = self.s.by_id["requests"].get(rid)
        names = {
            "transit": "time on channels",
            "queue": "waiting for a free staff officer",
            "processing": "staff handling",
            "approval": "approval",
            "rework": "rework for missing last-resort evidence",
        }
        approver = spec.approver_id if spec is not None else None
        for part, hours in track.parts.items():
            key = part.value
            if key in names and hours > _EPS:
                who = approver if key == "approval" else (spec.from_ if key == "rework" and spec is not None else None)
                self.steps.append(Step(key, hours, f"{names[key]} for the request {self.request_name(rid)}", who, rid))
        self.submitted(rid, track.submitted, depth)

    def submitted(self, rid: str, t: float, depth: int) -> None:
        spec = self.s.by_id["requests"].get(rid)
        injects = [i for i in self.s.injects if i.request == rid]
        fired = [r for r in self.releases if r.t <= t + _EPS and any(i.seq == r.inject for i in injects)]
        if fired:
            self.inject(fired[-1].inject, fired[-1].t, depth)
        elif spec is not None and spec.at is not None:
            self.steps.append(
                Step("scheduled", spec.at, f"the request {self.request_name(rid)} was scheduled for {spec.at:.1f} h", None, rid)
            )
        # earlier starts that were blocked: other injects for the request waiting on a fact someone withheld
        for i in injects:
            trig = i.trigger
            if trig is None or trig.fact is None or any(r.inject == i.seq for r in self.releases if r.t <= t + _EPS):
                continue
            self._blocked(trig.fact, trig.known_by, trig.delay, t, f"inject {i.seq} ({_short(i.description)})")
        if spec is not None and spec.requires:
            self._blocked(spec.requires, spec.from_, 0.0, t, f"the request {self.request_name(rid)}'s own requirement")

    def _blocked(self, fact: str, to: str, delay: float, t: float, instead: str) -> None:
        refused = sorted((x.first for (f, _, who), x in self.run.records.refusals.items() if f == fact and who == to), key=lambda r: r.t)
        arrived = self.run.records.arrivals.get((fact, to))
        if refused and (arrived is None or arrived.first.t > refused[0].t):
            first = refused[0]
            cost = t - (first.t + delay)
            if cost > _EPS:
                self.blocked.append(Blocked(fact, first.actor, to, first.t, first.reason, cost, instead))

    # -- injects and triggers ---------------------------------------------------------------------
    def inject(self, seq: int, t: float, depth: int) -> None:
        if depth > _DEPTH:
            return
        spec = next((i for i in self.s.injects if i.seq == seq), None)
        if spec is None:
            return
        if spec.trigger is None:
            at = spec.time if spec.time is not None else t
            self.steps.append(Step("scheduled", at, f"inject {seq} was scheduled in the MSEL for {at:.1f} h", None, str(seq)))
            return
        self.trigger(spec.trigger, t, depth, f"inject {seq}")

    def trigger(self, trig: Any, t: float, depth: int, what: str) -> None:
        """``what`` fired at ``t`` on ``trig``: the delay, then what the trigger waited on."""
        if trig.delay > _EPS:
            self.steps.append(Step("scheduled", trig.delay, f"{what} follows its trigger by {trig.delay:.1f} h", None, what))
        if trig.at is not None:
            self.steps.append(Step("scheduled", trig.at, f"{what} was scheduled for {trig.at:.1f} h", None, what))
        elif trig.request is not None:
            self.request_state(trig.request, trig.state.value, t - trig.delay, depth + 1)
        elif trig.fact is not None:
            self.fact(trig.fact, trig.known_by, depth + 1)
        elif trig.inject is not None:
            fired = [r for r in self.releases if r.inject == trig.inject]
            if fired:
                self.inject(trig.inject, fired[0].t, depth + 1)
        elif trig.decision is not None and trig.decision in self.decisions:
            self.decision(trig.decision, depth + 1)

    def decision(self, point_id: str, depth: int) -> None:
        d = self.decisions.get(point_id)
        point = self.s.by_id["decision_points"].get(point_id)
        if d is None or point is None or depth > _DEPTH:
            return
        self.steps.append(
            Step("decision", 0.0, f"{self.n.decision(d.decision)}: {self.n.option(d.decision, d.option)} ({d.by})", d.actor, d.decision)
        )
        self.trigger(point.trigger, d.t, depth, f"decision {point_id}")

    def request_state(self, rid: str, state: str, t: float, depth: int) -> None:
        """Request ``rid`` reached ``state`` at about ``t``: its cycle up to then."""
        if state in ("submitted", "validated", "forwarded"):
            track = self.run.requests.get(rid)
            if track is not None and track.submitted is not None:
                self.submitted(rid, track.submitted, depth)
            return
        self.request(rid, depth)

    def fact(self, fact: str, actor: str | None, depth: int) -> None:
        arrived = self.run.records.arrivals.get((fact, actor)) if actor else None
        if arrived is None:
            return
        first = arrived.first
        if first.via.startswith("inject:"):  # handed in by an inject: its delivery, then whatever released it
            seq = int(first.via.partition(":")[2])
            fired = next((r for r in self.releases if r.inject == seq), None)
            if fired is not None:
                if first.t - fired.t > _EPS:
                    text = f"inject {seq} took {first.t - fired.t:.1f} h to reach {self.actor(actor)}"
                    self.steps.append(Step("information", first.t - fired.t, text, None, fact))
                self.inject(seq, fired.t, depth + 1)
            return
        source = self.run.records.arrivals.get((fact, first.source)) if first.source != actor else None
        if source is not None and source.first.t <= first.t + _EPS:  # relayed: this hop, then how the source had it
            hop = first.t - source.first.t
            if hop > _EPS:
                text = (
                    f"“{self.n.fact(fact)}” took {hop:.1f} h from {self.actor(first.source)} to {self.actor(actor)},"
                    f" via {self.n.channel(first.via)}"
                )
                self.steps.append(Step("information", hop, text, first.source, fact))
            self.fact(fact, first.source, depth + 1)
            return
        if first.latency > _EPS:
            text = f"“{self.n.fact(fact)}” reached {self.actor(actor)} {first.latency:.1f} h after issue, via {self.n.channel(first.via)}"
            self.steps.append(Step("information", first.latency, text, first.source, fact))
        issued = first.t - first.latency
        issuing = {i.seq for i in self.s.injects if i.fact == fact}
        releases = [r for r in self.releases if abs(r.t - issued) <= 1.0 and r.inject in issuing]
        sharing = [
            p.id
            for p in self.s.decision_points
            for o in p.options
            if o.action is not None and o.action.share_fact is not None and o.action.share_fact.fact == fact
        ]
        decided = [d for d in self.decisions.values() if d.decision in sharing and abs(d.t - issued) <= 1.0]
        if releases:
            self.inject(releases[0].inject, releases[0].t, depth + 1)
        elif decided:
            self.decision(decided[0].decision, depth + 1)
        else:
            spec = self.s.by_id["facts"].get(fact)
            if spec is not None and spec.at is not None:
                self.steps.append(Step("scheduled", spec.at, f"“{self.n.fact(fact)}” is first issued at {spec.at:.1f} h", None, fact))


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57].rstrip() + "..."


def critical_path(run: RunData, metric: str) -> CriticalPath | None:
    """The critical path behind a time-valued metric of ``run``, or None if the metric names no event the walk can start from.

    Handles ``time_to_first_delivery.SITE`` (from the first delivery there) and
    ``rfa_cycle_time.REQ`` / ``request_cycle_time.REQ`` (from the request's
    completion: its last delivery, or its tasking when it moves no cargo).
    """
    base, _, subject = metric.partition(".")
    walk = _Walk(run)
    if base == "time_to_first_delivery" and subject:
        first = next((d for d in run.records.of(Delivery) if d.site == subject), None)
        if first is None:
            return None
        walk.delivery(first)
        return _closed(walk, f"first delivery at {walk.place(subject)}", first.t)
    if base in ("rfa_cycle_time", "request_cycle_time") and subject:
        track = run.requests.get(subject)
        if track is None or track.completed is None:
            return None
        last = [d for d in run.records.of(Delivery) if d.request == subject and d.t <= track.completed + _EPS]
        if last:
            walk.delivery(last[-1])
        else:
            walk.request(subject, 0)
        return _closed(walk, f"completion of the request {walk.request_name(subject)}", track.completed)
    return None


def _closed(walk: _Walk, event: str, t: float) -> CriticalPath:
    """The path, with what the walk could not trace stated as such rather than left out."""
    traced = sum(s.hours for s in walk.steps)
    steps = list(walk.steps)
    if t - traced > max(1.0, 0.05 * t):
        steps.append(Step("untraced", t - traced, "time the event log does not tie to any step above"))
    return CriticalPath(event, t, tuple(steps), tuple(walk.blocked))
