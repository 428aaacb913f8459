"""Message metrics: messages sent, lost and given up per channel, and facts withheld between organisations."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from coopsim.engine.log.records import FactWithheld, MessageFailed, MessageLost, MessageSent
from coopsim.engine.metrics.family import Family, family
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import Scenario


@family(
    messages_sent=MetricSpec("channels", "lower", "count", "messages sent"),
    messages_lost=MetricSpec("channels", "lower", "count", "transmissions lost (and resent)"),
    messages_failed=MetricSpec("channels", "lower", "count", "messages given up: lost at every attempt, or no channel cleared"),
    messages_withheld=MetricSpec(None, "lower", "count", "facts not released to an organisation"),
)
class Messages(Family):
    reads = (MessageSent, MessageLost, MessageFailed, FactWithheld)
    detail = "channels"

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.sent: dict[str, int] = defaultdict(int)
        self.lost: dict[str, int] = defaultdict(int)
        self.failed: dict[str, int] = defaultdict(int)
        self.withheld: dict[tuple[str, str, str], dict[str, Any]] = {}

    def take(self, r) -> None:
        kind = type(r)
        if kind is MessageSent:
            self.sent[r.channel] += 1
        elif kind is MessageLost:
            self.lost[r.channel] += 1
        elif kind is MessageFailed:
            self.failed[r.channel or "(no channel)"] += 1
        else:
            # Keyed by (fact, from, to) so a long run keeps one entry per pair, not per attempt.
            entry = self.withheld.setdefault(
                (r.fact, r.actor, r.to), {"first": r.t, "fact": r.fact, "from": r.actor, "to": r.to, "count": 0}
            )
            entry["count"] += 1
            entry["reason"] = r.reason

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        for c in s.channels:
            values[f"messages_sent.{c.id}"] = float(self.sent.get(c.id, 0))
            values[f"messages_lost.{c.id}"] = float(self.lost.get(c.id, 0))
            values[f"messages_failed.{c.id}"] = float(self.failed.get(c.id, 0))
        values["messages_sent"] = float(sum(self.sent.values()))
        values["messages_lost"] = float(sum(self.lost.values()))
        values["messages_failed"] = float(sum(self.failed.values()))
        values["messages_withheld"] = float(sum(e["count"] for e in self.withheld.values()))
        detail[self.detail] = {
            ch: {"sent": self.sent.get(ch, 0), "lost": self.lost.get(ch, 0), "failed": self.failed.get(ch, 0)}
            for ch in sorted(set(self.sent) | set(self.failed))
        }
        detail["withheld"] = list(self.withheld.values())
