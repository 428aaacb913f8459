"""The metric catalogue: names an objective may measure, and what each means.

A metric name is a base name, optionally followed by the id of what it is
about: ``rfa_cycle_time`` is the mean over the requests for assistance, and
``rfa_cycle_time.un_airlift`` is one request's. ``info_latency`` takes a fact
and, optionally, an actor: ``info_latency.quake_assessment.nato_eadrcc``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """What a base metric measures.

    Attributes:
        subject: the scenario section its ids come from (None: no subject).
        better: ``"lower"`` or ``"higher"``: which way a value improves.
        unit: for display.
        description: one line for reports and ``--help``.
        kinds: the kinds of request a per-request metric is for (empty: any).
        event: a time to an event; a run in which the event never happens is
            censored at the run's end, not a missing value.
    """

    subject: str | None
    better: str
    unit: str
    description: str
    kinds: tuple[str, ...] = ()
    event: bool = False


METRICS: dict[str, MetricSpec] = {}
"""Every base metric, registered by its family in :mod:`coopsim.engine.metrics` (importing the engine registers them all)."""


def register(name: str, spec: MetricSpec) -> None:
    """Add a base metric to the catalogue; a family does this for each metric it produces."""
    if name in METRICS and METRICS[name] != spec:
        raise ValueError(f"metric {name} is registered twice, differently")
    METRICS[name] = spec


def split_metric(name: str) -> tuple[str, tuple[str, ...]]:
    """Split ``"info_latency.f.a"`` into ``("info_latency", ("f", "a"))``."""
    base, *subject = name.split(".")
    return base, tuple(subject)


def better(name: str) -> str:
    """Which way the metric ``name`` improves: ``"lower"`` or ``"higher"``."""
    return METRICS[split_metric(name)[0]].better
