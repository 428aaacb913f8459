"""Request metrics: cycle times and their parts, and the share of requests completed.

``request_cycle_time`` is submission to completion for any request (an RFA,
an RFI or a supply demand); ``rfa_cycle_time`` and its parts
(``rfa_transit``, ``rfa_queue``, ``rfa_processing``, ``rfa_rework``,
``rfa_approval``, ``rfa_transport``, defined once in
:mod:`coopsim.engine.log.lifecycle`) are for requests for assistance only, as
their names say. Each is the mean over the requests that completed, and each
also exists per request (``rfa_cycle_time.un_airlift``).
"""

from __future__ import annotations

from typing import Any

from coopsim.engine.log.lifecycle import Part, RequestTracks
from coopsim.engine.log.records import MessageDelivered, MessageHandled, RequestOpened, RequestStateChanged
from coopsim.engine.metrics.family import Family, family, mean
from coopsim.engine.scenario.metric_names import MetricSpec
from coopsim.engine.scenario.model import Scenario

_PART_TEXT = {
    Part.transit: "part of the cycle spent on channels",
    Part.queue: "part of the cycle spent waiting for a free staff officer",
    Part.processing: "part of the cycle spent being handled by staff",
    Part.rework: "part of the cycle spent gathering missing last-resort evidence",
    Part.approval: "part of the cycle spent in the approver's deliberation",
    Part.transport: "part of the cycle from tasking to the last delivery",
}


@family(
    rfa_cycle_time=MetricSpec("requests", "lower", "h", "submission to completion of a request for assistance", kinds=("rfa",), event=True),
    **{f"rfa_{p.value}": MetricSpec("requests", "lower", "h", text, kinds=("rfa",)) for p, text in _PART_TEXT.items()},
    request_cycle_time=MetricSpec(
        "requests", "lower", "h", "submission to completion of any request (RFA, RFI or supply demand)", event=True
    ),
    request_completion=MetricSpec(None, "higher", "share", "share of submitted requests completed"),
)
class Requests(Family):
    reads = (RequestStateChanged, MessageDelivered, MessageHandled, RequestOpened)
    detail = "requests"

    def __init__(self, scenario, current):
        super().__init__(scenario, current)
        self.tracks = RequestTracks()
        self.arrived_kinds: dict[str, str] = {}

    def take(self, r) -> None:
        if type(r) is RequestOpened:
            self.arrived_kinds[r.request] = r.request_kind
        else:
            self.tracks(r)

    def finish(self, end: float, s: Scenario, values: dict[str, float | None], detail: dict[str, Any]) -> None:
        rows = {}
        for spec in s.requests:
            track = self.tracks.get(spec.id)
            cycle = track.cycle_time if track else None
            values[f"request_cycle_time.{spec.id}"] = cycle
            if spec.kind == "rfa":
                values[f"rfa_cycle_time.{spec.id}"] = cycle
                for part in Part:
                    values[f"rfa_{part.value}.{spec.id}"] = track.parts[part] if cycle is not None else None
            rows[spec.id] = {
                "kind": spec.kind,
                "state": track.state.value if track and track.state else "not submitted",
                "submitted": track.submitted if track else None,
                "completed": track.completed if track else None,
                "cycle_time": cycle,
                "parts": {p.value: h for p, h in track.parts.items()} if track and cycle is not None else None,
            }
        kinds = {r.id: r.kind for r in s.requests} | self.arrived_kinds
        done = [t for t in self.tracks.values() if t.cycle_time is not None]
        rfas = [t for t in done if kinds.get(t.request) == "rfa"]
        values["rfa_cycle_time"] = mean([t.cycle_time for t in rfas])
        for part in Part:
            values[f"rfa_{part.value}"] = mean([t.parts[part] for t in rfas])
        values["request_cycle_time"] = mean([t.cycle_time for t in done])
        submitted = [t for t in self.tracks.values() if t.submitted is not None]
        values["request_completion"] = len(done) / len(submitted) if submitted else None
        detail[self.detail] = rows
