"""Metrics: measures of performance and effectiveness, computed as records stream by.

:class:`Measurer` is a sink. It keeps running totals (bounded by the size of
the scenario, never by the length of the run) and, when the run ends,
:meth:`Measurer.finish` returns :class:`Metrics`:

* ``values``: a flat mapping from metric name (see
  :mod:`coopsim.engine.scenario.metric_names`) to a number, or None where the run
  produced nothing to measure (a request never completed). Aggregates come
  without a subject (``rfa_cycle_time``), details with one
  (``rfa_cycle_time.un_airlift``);
* ``objectives``: each objective's value and HSEEP rating, P (performed
  without challenges), S (with some), M (with major challenges) or U (unable
  to be performed, which includes an unmeasured metric);
* ``detail``: per-request, per-site, per-fact and per-channel tables for
  reports.

The RFA cycle time is split into parts that add up to it exactly: time on
channels (transit), waiting for staff (queue), being handled (processing),
gathering last-resort evidence (rework), approval, and transport (tasking to
last delivery).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coopsim.engine.log.records import Record
from coopsim.engine.scenario.metric_names import better
from coopsim.engine.scenario.model import Objective, Scenario

PARTS = ("transit", "queue", "processing", "rework", "approval", "transport")


@dataclass(frozen=True, slots=True)
class ObjectiveRating:
    objective: str
    name: str
    metric: str
    target: float
    value: float | None
    rating: str


@dataclass(frozen=True, slots=True)
class Metrics:
    values: dict[str, float | None]
    objectives: tuple[ObjectiveRating, ...]
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "objectives": [
                {"id": o.objective, "name": o.name, "metric": o.metric, "target": o.target, "value": o.value, "rating": o.rating}
                for o in self.objectives
            ],
            "detail": self.detail,
        }


def rate(objective: Objective, value: float | None) -> str:
    """The HSEEP rating of ``value`` against the objective's thresholds."""
    if value is None:
        return "U"
    th = objective.thresholds
    lower = better(objective.metric) == "lower"
    for rating, limit in (("P", th.P), ("S", th.S), ("M", th.M)):
        if (value <= limit) if lower else (value >= limit):
            return rating
    return "U"


@dataclass
class _Request:
    submitted: float | None = None
    tasked: float | None = None
    completed: float | None = None
    state: str = ""
    parts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))


@dataclass
class _Site:
    demand: float = 0.0
    delivered: float = 0.0
    first_delivery: float | None = None
    since: float = 0.0
    area: float = 0.0  # tonne-hours of outstanding demand

    def advance(self, t: float) -> None:
        self.area += max(0.0, self.demand - self.delivered) * (t - self.since)
        self.since = t


class Measurer:
    """A sink that accumulates the metrics of one run."""

    def __init__(self, scenario: Scenario, current: Callable[[], Scenario] | None = None):
        # ``scenario`` is the run's scenario as it started; ``current`` gives it as
        # decision patches have left it (a request's quantity is read when it is submitted).
        self.scenario = scenario
        self.current = current or (lambda: scenario)
        self.requests: dict[str, _Request] = defaultdict(_Request)
        self.sites: dict[str, _Site] = defaultdict(_Site)
        # fact -> actor -> [sum of latencies, editions learned]
        self.learned: dict[str, dict[str, list[float]]] = defaultdict(dict)
        self.sent: dict[str, int] = defaultdict(int)
        self.lost: dict[str, int] = defaultdict(int)
        self.failed: dict[str, int] = defaultdict(int)
        self.withheld: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.busy: dict[str, float] = defaultdict(float)
        self.trips_open: dict[str, tuple[str, float]] = {}
        self.acks: dict[int, list[float]] = defaultdict(list)
        self.incidents: dict[str, int] = defaultdict(int)
        self.decisions: list[dict[str, Any]] = []
        self._dispatch = {
            "message_sent": self._sent,
            "message_lost": self._lost,
            "message_failed": self._failed,
            "message_delivered": self._delivered,
            "message_handled": self._handled,
            "fact_learned": self._learned,
            "fact_withheld": self._withheld,
            "request_state": self._request,
            "trip_started": self._trip_started,
            "trip_ended": self._trip_ended,
            "delivery": self._delivery,
            "inject_acknowledged": self._ack,
            "incident": self._incident,
            "decision_taken": self._decision,
        }

    def __call__(self, record: Record) -> None:
        handler = self._dispatch.get(record.kind)
        if handler is not None:
            handler(record)

    def _open(self, request: str | None) -> _Request | None:
        # Only steps before completion count towards the cycle (the hand-back comes after).
        if request is None:
            return None
        state = self.requests[request]
        return state if state.completed is None else None

    def _sent(self, r) -> None:
        self.sent[r.channel] += 1

    def _lost(self, r) -> None:
        self.lost[r.channel] += 1

    def _failed(self, r) -> None:
        self.failed[r.channel or "(no channel)"] += 1

    def _delivered(self, r) -> None:
        state = self._open(r.request)
        if state:
            state.parts["transit"] += r.transit

    def _handled(self, r) -> None:
        state = self._open(r.request)
        if state:
            state.parts["queue"] += r.wait
            state.parts["processing"] += r.service

    def _learned(self, r) -> None:
        totals = self.learned[r.fact].setdefault(r.actor, [0.0, 0])
        totals[0] += r.latency
        totals[1] += 1

    def _withheld(self, r) -> None:
        # Keyed by (fact, from, to) so a long run keeps one entry per pair, not per attempt.
        entry = self.withheld.setdefault((r.fact, r.actor, r.to), {"first": r.t, "fact": r.fact, "from": r.actor, "to": r.to, "count": 0})
        entry["count"] += 1
        entry["reason"] = r.reason

    def _request(self, r) -> None:
        state = self.requests[r.request]
        state.state = r.state
        if r.state == "submitted":
            if state.submitted is None:
                state.submitted = r.t
                spec = self.current().by_id["requests"][r.request]
                if spec.site is not None and spec.quantity > 0:
                    site = self.sites[spec.site]
                    site.advance(r.t)
                    site.demand += spec.quantity
            else:
                state.parts["rework"] += r.took
        elif r.state == "approved":
            state.parts["approval"] += r.took
        elif r.state == "tasked":
            state.tasked = r.t
        elif r.state == "completed":
            state.parts["transport"] = r.t - (state.tasked if state.tasked is not None else r.t)
            state.completed = r.t

    def _trip_started(self, r) -> None:
        self.trips_open[r.trip] = (r.asset, r.t)

    def _trip_ended(self, r) -> None:
        self.trips_open.pop(r.trip, None)
        self.busy[r.asset] += r.busy

    def _delivery(self, r) -> None:
        site = self.sites[r.site]
        site.advance(r.t)
        site.delivered += r.quantity
        if site.first_delivery is None:
            site.first_delivery = r.t

    def _ack(self, r) -> None:
        self.acks[r.inject].append(r.latency)

    def _incident(self, r) -> None:
        self.incidents[r.route] += 1

    def _decision(self, r) -> None:
        self.decisions.append({"t": r.t, "decision": r.decision, "option": r.option, "by": r.by})

    # -- the end of the run -----------------------------------------------------------------
    def finish(self, end: float) -> Metrics:
        """The run's metrics, with ``end`` the simulated time the run stopped at."""
        s = self.current()
        first_available = {a.id: a.available_from for a in self.scenario.assets}
        values: dict[str, float | None] = {}
        detail: dict[str, Any] = {}

        req_detail = {}
        completed = []
        for spec in s.requests:
            st = self.requests.get(spec.id)
            cycle = None
            if st and st.submitted is not None and st.completed is not None:
                cycle = st.completed - st.submitted
                completed.append(st)
            values[f"rfa_cycle_time.{spec.id}"] = cycle
            for part in PARTS:
                values[f"rfa_{part}.{spec.id}"] = st.parts[part] if cycle is not None else None
            req_detail[spec.id] = {
                "kind": spec.kind,
                "state": st.state if st else "not submitted",
                "submitted": st.submitted if st else None,
                "completed": st.completed if st else None,
                "cycle_time": cycle,
                "parts": dict(st.parts) if st and cycle is not None else None,
            }
        values["rfa_cycle_time"] = _mean([st.completed - st.submitted for st in completed])
        for part in PARTS:
            values[f"rfa_{part}"] = _mean([st.parts[part] for st in completed])
        submitted = [st for st in self.requests.values() if st.submitted is not None]
        values["request_completion"] = len(completed) / len(submitted) if submitted else None
        detail["requests"] = req_detail

        fact_detail = {}
        all_latencies, intended_total, intended_known = [], 0, 0
        for fact in s.facts:
            learned = {actor: total / n for actor, (total, n) in self.learned.get(fact.id, {}).items()}
            intended = [a for a in fact.distribution if a != fact.origin]
            lat = [learned[a] for a in intended if a in learned]
            all_latencies += lat
            intended_total += len(intended)
            intended_known += len(lat)
            values[f"info_latency.{fact.id}"] = _mean(lat)
            values[f"cop_coverage.{fact.id}"] = len(lat) / len(intended) if intended else None
            for actor in s.actors:
                values[f"info_latency.{fact.id}.{actor.id}"] = learned.get(actor.id)
            fact_detail[fact.id] = {"learned": dict(learned), "intended": intended}
        values["info_latency"] = _mean(all_latencies)
        values["cop_coverage"] = intended_known / intended_total if intended_total else None
        detail["facts"] = fact_detail

        site_detail = {}
        for loc in s.locations:
            site = self.sites.get(loc.id)
            if site is None:
                values[f"time_to_first_delivery.{loc.id}"] = None
                values[f"fill_rate.{loc.id}"] = None
                values[f"unmet_demand.{loc.id}"] = None
                continue
            site.advance(end)
            fill = site.delivered / site.demand if site.demand else None
            values[f"time_to_first_delivery.{loc.id}"] = site.first_delivery
            values[f"fill_rate.{loc.id}"] = fill
            values[f"unmet_demand.{loc.id}"] = site.area
            site_detail[loc.id] = {
                "demand": site.demand,
                "delivered": site.delivered,
                "first_delivery": site.first_delivery,
                "unmet_tonne_hours": site.area,
            }
        with_demand = [v for v in site_detail.values() if v["demand"] > 0]
        values["time_to_first_delivery"] = _mean([v["first_delivery"] for v in with_demand if v["first_delivery"] is not None])
        demand = sum(v["demand"] for v in with_demand)
        values["fill_rate"] = sum(v["delivered"] for v in with_demand) / demand if demand else None
        values["unmet_demand"] = sum(v["unmet_tonne_hours"] for v in with_demand) if with_demand else None
        detail["sites"] = site_detail

        for asset, started in self.trips_open.values():
            self.busy[asset] += end - started
        asset_detail, busy_total, avail_total = {}, 0.0, 0.0
        for a in s.assets:
            # from the earliest time the asset was available: a patch may have changed it mid-run
            available = a.count * max(0.0, end - min(a.available_from, first_available.get(a.id, a.available_from)))
            busy = self.busy.get(a.id, 0.0)
            values[f"asset_utilisation.{a.id}"] = busy / available if available else None
            busy_total += busy
            avail_total += available
            asset_detail[a.id] = {"busy_unit_hours": busy, "available_unit_hours": available}
        values["asset_utilisation"] = busy_total / avail_total if avail_total else None
        detail["assets"] = asset_detail

        for inj in s.injects:
            values[f"inject_response_latency.{inj.seq}"] = _mean(self.acks.get(inj.seq, []))
        values["inject_response_latency"] = _mean([x for v in self.acks.values() for x in v])

        for c in s.channels:
            values[f"messages_sent.{c.id}"] = float(self.sent.get(c.id, 0))
            values[f"messages_lost.{c.id}"] = float(self.lost.get(c.id, 0))
        values["messages_sent"] = float(sum(self.sent.values()))
        values["messages_lost"] = float(sum(self.lost.values()))
        values["messages_withheld"] = float(sum(e["count"] for e in self.withheld.values()))
        detail["channels"] = {
            ch: {"sent": self.sent.get(ch, 0), "lost": self.lost.get(ch, 0), "failed": self.failed.get(ch, 0)}
            for ch in sorted(set(self.sent) | set(self.failed))
        }
        detail["withheld"] = list(self.withheld.values())
        for r in s.routes:
            values[f"incidents.{r.key}"] = float(self.incidents.get(r.key, 0))
        values["incidents"] = float(sum(self.incidents.values()))
        detail["decisions"] = self.decisions

        ratings = tuple(
            ObjectiveRating(o.id, o.name, o.metric, o.target, values.get(o.metric), rate(o, values.get(o.metric))) for o in s.objectives
        )
        return Metrics(values, ratings, detail)


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None
