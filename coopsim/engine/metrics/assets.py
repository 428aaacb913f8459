"""Asset metrics: the share of each pool's available unit-hours spent on trips."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from coopsim.engine.log.records import TripEnded, TripStarted
from coopsim.engine.metrics.family import Family, family
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import Scenario


@family(asset_utilisation=MetricSpec("assets", "higher", "share", "busy unit-hours over available unit-hours"))
class Assets(Family):
    reads = (TripStarted, TripEnded)
    detail = "assets"

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.busy: dict[str, float] = defaultdict(float)
        self.trips_open: dict[str, tuple[str, float]] = {}

    def take(self, r: TripStarted | TripEnded) -> None:
        if type(r) is TripStarted:
            self.trips_open[r.trip] = (r.asset, r.t)
        else:
            self.trips_open.pop(r.trip, None)
            self.busy[r.asset] += r.busy

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        first_available = {a.id: a.available_from for a in self.scenario.assets}
        for asset, started in self.trips_open.values():
            self.busy[asset] += end - started
        rows, busy_total, available_total = {}, 0.0, 0.0
        for a in s.assets:
            # from the earliest time the asset was available: a patch may have changed it mid-run
            available = a.count * max(0.0, end - min(a.available_from, first_available.get(a.id, a.available_from)))
            busy = self.busy.get(a.id, 0.0)
            values[f"asset_utilisation.{a.id}"] = busy / available if available else None
            busy_total += busy
            available_total += available
            rows[a.id] = {"busy_unit_hours": busy, "available_unit_hours": available}
        values["asset_utilisation"] = busy_total / available_total if available_total else None
        detail[self.detail] = rows
