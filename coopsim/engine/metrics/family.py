"""Metric families: one accumulator per family of metrics, registered with the metric catalogue.

A family declares the metrics it produces (their
:class:`~coopsim.engine.scenario.metric_names.MetricSpec`, which the
catalogue takes, so a scenario may name them in an objective) and the record
classes it reads. While a run streams records past, the
:class:`~coopsim.engine.metrics.measurer.Measurer` hands each record to the
families that read its class; at the end each family writes its values (and
its detail table for reports). Adding a metric touches one module: its
family.

Families keep running totals bounded by the size of the scenario, never by
the length of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from coopsim.engine.log.records import Record
from coopsim.engine.scenario.metric_names import MetricSpec, register
from coopsim.engine.scenario.model import Scenario


class Family:
    """An accumulator for one family of metrics.

    Subclasses set ``reads`` (the record classes they take) and implement
    :meth:`take` and :meth:`finish`.
    """

    reads: ClassVar[tuple[type[Record], ...]] = ()
    detail: ClassVar[str | None] = None
    """The key of this family's table in ``Metrics.detail``, if it has one."""

    def __init__(self, scenario: Scenario, current: Callable[[], Scenario]):
        # ``scenario`` is the run's scenario as it started; ``current`` gives it as decision patches have left it.
        self.scenario = scenario
        self.current = current

    def take(self, record: Record) -> None:
        """Take one record of a class in ``reads``."""

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        """Write this family's metrics into ``values`` (and its table into ``detail``) for a run that ended at ``end``."""


FAMILIES: list[type[Family]] = []
"""Every family, in the order its metrics appear in ``metrics.json`` and in the catalogue."""


def family(**metrics: MetricSpec):
    """Register a family class and the metrics it produces (base name -> spec) with the catalogue."""

    def wrap(cls: type[Family]) -> type[Family]:
        for name, spec in metrics.items():
            register(name, spec)
        FAMILIES.append(cls)
        return cls

    return wrap


def mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None
