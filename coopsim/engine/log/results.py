"""What a run measured: its metric values, its objectives' ratings, and the detail tables, as typed data.

The measurer (:mod:`coopsim.engine.metrics`) makes a :class:`Metrics` as a run
ends; ``metrics.json`` holds it, and :func:`coopsim.engine.log.rundir.read_run`
reads it back as the same type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ObjectiveRating:
    """An objective's measured value and its HSEEP rating: P, S, M or U."""

    objective: str
    name: str
    metric: str
    target: float
    value: float | None
    rating: str


@dataclass(frozen=True, slots=True)
class Metrics:
    """A run's metric values by name, its objectives' ratings, and detail tables for reports."""

    values: dict[str, float | None]
    objectives: tuple[ObjectiveRating, ...]
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "objectives": [
                {"id": o.objective, "name": o.name, "metric": o.metric, "target": o.target, "value": o.value, "rating": o.rating}
                for o in self.objectives
            ],
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metrics:
        """The metrics as ``metrics.json`` holds them (already checked for types)."""
        ratings = tuple(ObjectiveRating(o["id"], o["name"], o["metric"], o["target"], o["value"], o["rating"]) for o in data["objectives"])
        return cls(dict(data["values"]), ratings, dict(data.get("detail", {})))
