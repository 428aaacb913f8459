"""Deciders: who chooses at a decision point.

The engine asks its decider whenever a decision point triggers, passing the
point and a read-only :class:`Situation`. Any object with a ``decide`` method
will do, which is the seam for the interactive (tabletop) and policy deciders.
Two come with the engine:

* :class:`DefaultDecider` takes each point's ``default`` option;
* :class:`ScriptedDecider` takes choices from a mapping or a decisions file::

      decisions:
        dp_escort: sail                  # short form: the option id
        dp_airlift:
          option: approve
          by: NATO seat
          rationale: UN request meets the last-resort test
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from .document import Document, Problem, ScenarioError, parse_yaml
from .schema import DecisionPoint, Scenario


@dataclass(frozen=True, slots=True)
class Situation:
    """What a decider may look at.

    Attributes:
        t: the scenario clock, hours since start.
        owner: the actor that owns the decision point.
        knowledge: per actor, per fact: (time known, from whom, edition).
        requests: each submitted request's lifecycle state.
        assets: per asset pool: (units busy, units in all).
    """

    t: float
    owner: str
    knowledge: Mapping[str, Mapping[str, tuple[float, str, int]]]
    requests: Mapping[str, str]
    assets: Mapping[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Decision:
    """A choice at a decision point, with who made it and why."""

    option: str
    by: str = "default"
    rationale: str = ""


class Decider(Protocol):
    def decide(self, point: DecisionPoint, situation: Situation) -> Decision: ...


class DefaultDecider:
    """Takes every decision point's default option."""

    def decide(self, point: DecisionPoint, situation: Situation) -> Decision:
        return Decision(point.default, "default", "the scenario's default option")


class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    option: str
    by: str = "script"
    rationale: str = ""


class _Script(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    decisions: dict[str, str | _Choice]


class ScriptedDecider:
    """Takes choices from a script; points the script does not name take their default."""

    def __init__(self, choices: Mapping[str, Any], source: Document | None = None):
        try:
            script = _Script.model_validate({"decisions": dict(choices)})
        except ValidationError as exc:
            doc = source or Document("<decisions>", {"decisions": dict(choices)})
            raise ScenarioError(
                [
                    Problem(
                        doc.position(tuple(p for p in e["loc"] if p not in ("str", "_Choice"))),
                        e["msg"],
                        "an option id, or {option, by, rationale}",
                    )
                    for e in exc.errors(include_url=False)
                ]
            ) from None
        self.choices = {k: v if isinstance(v, _Choice) else _Choice(option=v) for k, v in script.decisions.items()}
        self.source = source

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedDecider:
        """Read a decisions file (``decisions:`` mapping point ids to choices)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            from .document import Position

            raise ScenarioError(
                [Problem(Position(str(path), 1, 1), f"cannot read the file: {exc.strerror}", "a decisions YAML file")]
            ) from None
        doc = parse_yaml(text, str(path))
        data = doc.data if isinstance(doc.data, dict) else {}
        if not set(data) <= {"decisions", "observations"} or not isinstance(data.get("decisions"), dict):
            raise ScenarioError(
                [
                    Problem(
                        doc.position(()),
                        "a decisions file has a decisions: section (and, in a session, observations:)",
                        "decisions: {point_id: option_id, ...}",
                    )
                ]
            )
        return cls(data["decisions"], doc)

    def check(self, scenario: Scenario) -> None:
        """Raise ScenarioError if the script names points or options the scenario lacks."""
        doc = self.source or Document("<decisions>", {})
        points = scenario.by_id["decision_points"]
        problems = []
        for point_id, choice in self.choices.items():
            if point_id not in points:
                problems.append(
                    Problem(
                        doc.position(("decisions", point_id), key=True),
                        f"no decision point {point_id!r} in the scenario",
                        "one of: " + (", ".join(points) or "none"),
                    )
                )
                continue
            options = [o.id for o in points[point_id].options]
            if choice.option not in options:
                problems.append(
                    Problem(
                        doc.position(("decisions", point_id)),
                        f"{point_id} has no option {choice.option!r}",
                        "one of: " + ", ".join(options),
                    )
                )
        if problems:
            raise ScenarioError(problems)

    def decide(self, point: DecisionPoint, situation: Situation) -> Decision:
        choice = self.choices.get(point.id)
        if choice is None:
            return DefaultDecider().decide(point, situation)
        return Decision(choice.option, choice.by, choice.rationale)
