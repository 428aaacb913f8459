"""Information metrics: how long facts took to reach the actors meant to have them, and how many did.

``info_latency`` is the time from a fact's origin (its issue, for an edition
of a recurring fact) to an actor knowing it, averaged over editions;
``cop_coverage`` is the share of a fact's intended recipients that know it at
the end, the common operating picture.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from coopsim.engine.log.records import FactLearned
from coopsim.engine.metrics.family import Family, family, mean
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import Scenario


@family(
    info_latency=MetricSpec("facts", "lower", "h", "time from a fact's origin to an actor knowing it", event=True),
    cop_coverage=MetricSpec("facts", "higher", "share", "share of intended recipients that know a fact at the end"),
)
class Information(Family):
    reads = (FactLearned,)
    detail = "facts"

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.learned: dict[str, dict[str, list[float]]] = defaultdict(dict)  # fact -> actor -> [sum of latencies, editions]

    def take(self, r: FactLearned) -> None:
        totals = self.learned[r.fact].setdefault(r.actor, [0.0, 0])
        totals[0] += r.latency
        totals[1] += 1

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        rows = {}
        every, intended_total, intended_known = [], 0, 0
        for fact in s.facts:
            learned = {actor: total / n for actor, (total, n) in self.learned.get(fact.id, {}).items()}
            intended = [a for a in fact.distribution if a != fact.origin]
            latencies = [learned[a] for a in intended if a in learned]
            every += latencies
            intended_total += len(intended)
            intended_known += len(latencies)
            values[f"info_latency.{fact.id}"] = mean(latencies)
            values[f"cop_coverage.{fact.id}"] = len(latencies) / len(intended) if intended else None
            for actor in s.actors:
                values[f"info_latency.{fact.id}.{actor.id}"] = learned.get(actor.id)
            rows[fact.id] = {"learned": dict(learned), "intended": intended}
        values["info_latency"] = mean(every)
        values["cop_coverage"] = intended_known / intended_total if intended_total else None
        detail[self.detail] = rows
