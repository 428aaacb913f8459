"""Delivery metrics: when each site first received relief, how much of its demand was met, and how long demand waited.

A site's demand is the quantity of every request to it, counted from the
request's first submission (with the quantity the request has then, after
any decision's patch). ``unmet_demand`` integrates the outstanding tonnes over
time, in tonne-hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from coopsim.engine.log.records import Delivery, EffectStarted, RequestOpened, RequestStateChanged
from coopsim.engine.metrics.family import Family, family, mean
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import RequestState, Scenario


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


@family(
    time_to_first_delivery=MetricSpec("locations", "lower", "h", "hours from the start to a site's first delivery", event=True),
    fill_rate=MetricSpec("locations", "higher", "share", "delivered over demanded tonnes at a site"),
    unmet_demand=MetricSpec("locations", "lower", "t·h", "tonne-hours of demand waiting to be delivered"),
)
class Deliveries(Family):
    reads = (RequestStateChanged, Delivery, EffectStarted, RequestOpened)
    detail = "sites"

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.sites: dict[str, _Site] = defaultdict(_Site)
        self.demanded: set[str] = set()
        self.pending: dict[str, float] = {}  # cargo an effect added to a request not yet submitted
        self.arrived: dict[str, tuple[str | None, float]] = {}  # site and tonnes of requests an arrival stream brought

    def take(self, r: RequestStateChanged | Delivery | EffectStarted | RequestOpened) -> None:
        if type(r) is RequestOpened:
            self.arrived[r.request] = (r.site, r.quantity)
            return
        if type(r) is EffectStarted:
            if r.target.startswith("request:") and r.amount is not None:
                request = r.target.removeprefix("request:")
                if request in self.demanded:
                    self._demand(request, r.t, r.amount)
                else:
                    self.pending[request] = self.pending.get(request, 0.0) + r.amount
            return
        if type(r) is Delivery:
            site = self.sites[r.site]
            site.advance(r.t)
            site.delivered += r.quantity
            if site.first_delivery is None:
                site.first_delivery = r.t
        elif r.state is RequestState.submitted and r.request not in self.demanded:
            self.demanded.add(r.request)
            _, quantity = self._site_of(r.request)
            self._demand(r.request, r.t, quantity + self.pending.pop(r.request, 0.0))

    def _site_of(self, request: str) -> tuple[str | None, float]:
        """A request's site and tonnes: as the scenario stands now, or as its arrival stream made it."""
        if request in self.arrived:
            return self.arrived[request]
        spec = self.current().by_id["requests"][request]
        return spec.site, spec.quantity

    def _demand(self, request: str, t: float, tonnes: float) -> None:
        """The demand at a request's site changes by ``tonnes`` at ``t`` (its quantity, or an effect on its cargo)."""
        site_id, quantity = self._site_of(request)
        if site_id is not None and (quantity > 0 or tonnes):
            site = self.sites[site_id]
            site.advance(t)
            site.demand = max(0.0, site.demand + tonnes)

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        rows = {}
        for loc in s.locations:
            site = self.sites.get(loc.id)
            if site is None:
                values[f"time_to_first_delivery.{loc.id}"] = None
                values[f"fill_rate.{loc.id}"] = None
                values[f"unmet_demand.{loc.id}"] = None
                continue
            site.advance(end)
            values[f"time_to_first_delivery.{loc.id}"] = site.first_delivery
            values[f"fill_rate.{loc.id}"] = site.delivered / site.demand if site.demand else None
            values[f"unmet_demand.{loc.id}"] = site.area
            rows[loc.id] = {
                "demand": site.demand,
                "delivered": site.delivered,
                "first_delivery": site.first_delivery,
                "unmet_tonne_hours": site.area,
            }
        with_demand = [v for v in rows.values() if v["demand"] > 0]
        values["time_to_first_delivery"] = mean([v["first_delivery"] for v in with_demand if v["first_delivery"] is not None])
        demand = sum(v["demand"] for v in with_demand)
        values["fill_rate"] = sum(v["delivered"] for v in with_demand) / demand if demand else None
        values["unmet_demand"] = sum(v["unmet_tonne_hours"] for v in with_demand) if with_demand else None
        detail[self.detail] = rows
