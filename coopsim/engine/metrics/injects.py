"""Inject metrics: how long recipients took to acknowledge each MSEL inject."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from coopsim.engine.log.records import InjectAcknowledged
from coopsim.engine.metrics.family import Family, family, mean
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import Scenario


@family(inject_response_latency=MetricSpec("injects", "lower", "h", "release of an inject to its acknowledgement", event=True))
class Injects(Family):
    reads = (InjectAcknowledged,)

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.acks: dict[int, list[float]] = defaultdict(list)

    def take(self, r: InjectAcknowledged) -> None:
        self.acks[r.inject].append(r.latency)

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        for inj in s.injects:
            values[f"inject_response_latency.{inj.seq}"] = mean(self.acks.get(inj.seq, []))
        values["inject_response_latency"] = mean([x for v in self.acks.values() for x in v])
