"""The measurer: a sink that hands each record to the metric families that read it, and rates the objectives.

Each family of metrics (requests, information, deliveries, assets, injects,
messages, incidents; see :mod:`coopsim.engine.metrics.family`) keeps its own
running totals. :meth:`Measurer.finish` returns :class:`Metrics`:

* ``values``: a flat mapping from metric name (see
  :mod:`coopsim.engine.scenario.metric_names`) to a number, or None where the
  run produced nothing to measure (a request never completed). Aggregates come
  without a subject (``rfa_cycle_time``), details with one
  (``rfa_cycle_time.un_airlift``);
* ``objectives``: each objective's value and HSEEP rating, P (performed
  without challenges), S (with some), M (with major challenges) or U (unable
  to be performed, which includes an unmeasured metric);
* ``detail``: per-request, per-site, per-fact and per-channel tables for
  reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coopsim.engine.log.records import Record
from coopsim.engine.log.results import Metrics, ObjectiveRating

# the families register their metrics with the catalogue as they are imported
from coopsim.engine.metrics import assets, deliveries, incidents, information, injects, messages, requests  # noqa: F401
from coopsim.engine.metrics.family import FAMILIES, Family
from coopsim.engine.scenario.metric_names import better
from coopsim.engine.scenario.model import Objective, Scenario


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


class Measurer:
    """A sink that accumulates the metrics of one run, family by family."""

    def __init__(self, scenario: Scenario, current: Callable[[], Scenario] | None = None):
        # ``scenario`` is the run's scenario as it started; ``current`` gives it as
        # decision patches have left it (a request's quantity is read when it is submitted).
        self.current = current or (lambda: scenario)
        self.families: list[Family] = [cls(scenario, self.current) for cls in FAMILIES]
        self._readers: dict[type[Record], list[Callable[[Record], None]]] = {}
        for f in self.families:
            for cls in f.reads:
                self._readers.setdefault(cls, []).append(f.take)

    def __call__(self, record: Record) -> None:
        for take in self._readers.get(type(record), ()):
            take(record)

    def family(self, cls: type[Family]) -> Family:
        """This run's accumulator of family ``cls``."""
        return next(f for f in self.families if type(f) is cls)

    def finish(self, end: float) -> Metrics:
        """The run's metrics, with ``end`` the simulated time the run stopped at."""
        s = self.current()
        values: dict[str, float | None] = {}
        detail: dict[str, Any] = {}
        for f in self.families:
            f.finish(end, s, values, detail)
        ratings = tuple(
            ObjectiveRating(o.id, o.name, o.metric, o.target, values.get(o.metric), rate(o, values.get(o.metric))) for o in s.objectives
        )
        return Metrics(values, ratings, detail)
