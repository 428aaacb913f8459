"""Incident metrics: incidents in transit (piracy, IEDs) per route; and the decisions taken, for the reports."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from coopsim.engine.log.records import DecisionTaken, Incident
from coopsim.engine.metrics.family import Family, family
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import Scenario


@family(incidents=MetricSpec("routes", "lower", "count", "incidents in transit (piracy, IED)"))
class Incidents(Family):
    reads = (Incident,)

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.incidents: dict[str, int] = defaultdict(int)

    def take(self, r: Incident) -> None:
        self.incidents[r.route] += 1

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        for r in s.routes:
            values[f"incidents.{r.key}"] = float(self.incidents.get(r.key, 0))
        values["incidents"] = float(sum(self.incidents.values()))


@family()
class Decisions(Family):
    """No metric of its own: the decisions taken, in order, for the manifest and the AAR."""

    reads = (DecisionTaken,)
    detail = "decisions"

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.decisions: list[dict[str, Any]] = []

    def take(self, r: DecisionTaken) -> None:
        self.decisions.append({"t": r.t, "decision": r.decision, "option": r.option, "by": r.by})

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        detail[self.detail] = self.decisions
