"""The metric catalogue: names an objective may measure, and what each means.

A metric name is a base name, optionally followed by the id of what it is
about: ``rfa_cycle_time`` is the mean over all requests, and
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
    """

    subject: str | None
    better: str
    unit: str
    description: str


METRICS: dict[str, MetricSpec] = {
    "rfa_cycle_time": MetricSpec("requests", "lower", "h", "submission to completion of a request"),
    "rfa_transit": MetricSpec("requests", "lower", "h", "part of the cycle spent on channels"),
    "rfa_queue": MetricSpec("requests", "lower", "h", "part of the cycle spent waiting for a free staff officer"),
    "rfa_processing": MetricSpec("requests", "lower", "h", "part of the cycle spent being handled by staff"),
    "rfa_rework": MetricSpec("requests", "lower", "h", "part of the cycle spent gathering missing last-resort evidence"),
    "rfa_approval": MetricSpec("requests", "lower", "h", "part of the cycle spent in approval"),
    "rfa_transport": MetricSpec("requests", "lower", "h", "part of the cycle from tasking to the last delivery"),
    "request_completion": MetricSpec(None, "higher", "share", "share of submitted requests completed"),
    "info_latency": MetricSpec("facts", "lower", "h", "time from a fact's origin to an actor knowing it"),
    "cop_coverage": MetricSpec("facts", "higher", "share", "share of intended recipients that know a fact at the end"),
    "time_to_first_delivery": MetricSpec("locations", "lower", "h", "hours from the start to a site's first delivery"),
    "fill_rate": MetricSpec("locations", "higher", "share", "delivered over demanded tonnes at a site"),
    "unmet_demand": MetricSpec("locations", "lower", "t·h", "tonne-hours of demand waiting to be delivered"),
    "asset_utilisation": MetricSpec("assets", "higher", "share", "busy unit-hours over available unit-hours"),
    "inject_response_latency": MetricSpec("injects", "lower", "h", "release of an inject to its acknowledgement"),
    "messages_sent": MetricSpec("channels", "lower", "count", "messages sent"),
    "messages_lost": MetricSpec("channels", "lower", "count", "transmissions lost (and resent)"),
    "messages_withheld": MetricSpec(None, "lower", "count", "facts not released to an organisation"),
    "incidents": MetricSpec("routes", "lower", "count", "incidents in transit (piracy, IED)"),
}


def split_metric(name: str) -> tuple[str, tuple[str, ...]]:
    """Split ``"info_latency.f.a"`` into ``("info_latency", ("f", "a"))``."""
    base, *subject = name.split(".")
    return base, tuple(subject)


def better(name: str) -> str:
    """Which way the metric ``name`` improves: ``"lower"`` or ``"higher"``."""
    return METRICS[split_metric(name)[0]].better
