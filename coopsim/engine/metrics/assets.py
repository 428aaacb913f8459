"""Asset metrics: when each pool became available, how busy lift pools were, and how long loads waited for escorts.

``asset_utilisation`` is the share of a lift pool's available unit-hours spent
on trips, counted from when the pool was actually ready.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from coopsim.engine.log.records import AssetReady, EscortJoined, TripEnded, TripStarted
from coopsim.engine.metrics.family import Family, family, mean
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import Role, Scenario


@family(
    asset_utilisation=MetricSpec("assets", "higher", "share", "busy unit-hours over available unit-hours (lift pools)"),
    asset_ready=MetricSpec(
        "assets",
        "lower",
        "h",
        "hours from the start until an asset was available (after its activation and lead time, or its available_from)",
        event=True,
    ),
    escort_wait=MetricSpec("routes", "lower", "h", "mean hours a loaded unit waited at a leg's start for its escort"),
)
class Assets(Family):
    reads = (TripStarted, TripEnded, AssetReady, EscortJoined)
    detail = "assets"

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.busy: dict[str, float] = defaultdict(float)
        self.trips_open: dict[str, tuple[str, float]] = {}
        # an asset that waits for nothing is available from the start; the others when their asset_ready record says
        self.ready: dict[str, float] = {a.id: 0.0 for a in scenario.assets if a.activation is None and a.available_from <= 0}
        self.waits: dict[str, list[float]] = defaultdict(list)

    def take(self, r: TripStarted | TripEnded | AssetReady | EscortJoined) -> None:
        kind = type(r)
        if kind is TripStarted:
            self.trips_open[r.trip] = (r.asset, r.t)
        elif kind is TripEnded:
            self.trips_open.pop(r.trip, None)
            self.busy[r.asset] += r.busy
        elif kind is AssetReady:
            self.ready.setdefault(r.asset, r.t)
        else:
            self.waits[r.route].append(r.waited)

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        for asset, started in self.trips_open.values():
            self.busy[asset] += end - started
        rows, busy_total, available_total = {}, 0.0, 0.0
        for a in s.assets:
            ready = self.ready.get(a.id)
            values[f"asset_ready.{a.id}"] = ready
            if a.role is not Role.lift:
                rows[a.id] = {"ready": ready}
                continue
            available = a.count * max(0.0, end - ready) if ready is not None else 0.0
            busy = self.busy.get(a.id, 0.0)
            values[f"asset_utilisation.{a.id}"] = busy / available if available else None
            busy_total += busy
            available_total += available
            rows[a.id] = {"ready": ready, "busy_unit_hours": busy, "available_unit_hours": available}
        values["asset_utilisation"] = busy_total / available_total if available_total else None
        waiting = [a for a in s.assets if a.activation is not None or a.available_from > 0]
        readies = [self.ready.get(a.id) for a in waiting]
        values["asset_ready"] = None if not waiting or None in readies else max(readies)
        for route in s.routes:
            values[f"escort_wait.{route.key}"] = mean(self.waits.get(route.key, []))
        values["escort_wait"] = mean([w for ws in self.waits.values() for w in ws])
        detail[self.detail] = rows
