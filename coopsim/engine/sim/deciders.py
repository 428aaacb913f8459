"""Deciders: who chooses at a decision point.

The engine asks its decider whenever a decision point triggers, passing the
point and a read-only :class:`Situation`. Any object with a ``decide`` method
will do, which is the seam for the interactive (tabletop) and policy deciders.
Two come with the engine:

* :class:`DefaultDecider` takes each point's ``default`` option;
* :class:`ScriptedDecider` takes choices from a mapping, as written in the
  ``decisions:`` section of a session or decisions file::

      decisions:
        dp_escort: sail                  # short form: the option id
        dp_airlift:
          option: approve
          by: NATO seat
          rationale: UN request meets the last-resort test

The tabletop :class:`~coopsim.engine.table.Table` is a third: it takes a
recorded choice where its session has one and asks the players otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from coopsim.engine.scenario.durations import Duration
from coopsim.engine.scenario.load import validation_problems
from coopsim.engine.scenario.model import DecisionPoint, Scenario
from coopsim.engine.scenario.problems import Problem, ScenarioError
from coopsim.engine.scenario.source import Document


@dataclass(frozen=True, slots=True)
class Situation:
    """What a decider may look at.

    Attributes:
        t: the scenario clock, hours since start.
        owner: the actor that owns the decision point.
        knowledge: per actor, per fact: (time known, from whom, edition).
        requests: each submitted request's lifecycle state.
        assets: per asset pool: (units busy, units in all).
        closed: options the owner may not take now, each with why (an option that requires a fact the owner does not know).
    """

    t: float
    owner: str
    knowledge: Mapping[str, Mapping[str, tuple[float, str, int]]]
    requests: Mapping[str, str]
    assets: Mapping[str, tuple[int, int]]
    closed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def knows(self, fact: str) -> bool:
        """Whether the point's owner knows ``fact``."""
        return fact in self.knowledge.get(self.owner, {})


@dataclass(frozen=True, slots=True)
class Decision:
    """A choice at a decision point, with who made it and why."""

    option: str
    by: str = "default"
    rationale: str = ""


class Decider(Protocol):
    def decide(self, point: DecisionPoint, situation: Situation) -> Decision: ...


class DefaultDecider:
    """Follows each decision point's ``policy`` where it has one, and otherwise takes its default option.

    A policy is rules over the owner's knowledge and the situation, tried in
    order: the first whose condition holds (and whose option is open) chooses.
    When none does, the default option is taken, or the first open option if
    the default is closed.
    """

    def decide(self, point: DecisionPoint, situation: Situation) -> Decision:
        for rule in point.policy:
            if rule.choose not in situation.closed and holds(rule.if_, situation):
                return Decision(rule.choose, "policy", f"policy: {describe(rule.if_)}")
        return fallback(point, situation)


def holds(condition: Any, situation: Situation) -> bool:
    """Whether a policy condition holds in ``situation``."""
    if condition.knows is not None:
        return situation.knows(condition.knows)
    if condition.not_knows is not None:
        return not situation.knows(condition.not_knows)
    return situation.requests.get(condition.request) == condition.state


def describe(condition: Any) -> str:
    if condition.knows is not None:
        return f"the owner knows {condition.knows}"
    if condition.not_knows is not None:
        return f"the owner does not know {condition.not_knows}"
    return f"request {condition.request} is {condition.state.value.replace('_', ' ')}"


def fallback(point: DecisionPoint, situation: Situation) -> Decision:
    """The default option, or the first open option when the default is closed."""
    if point.default not in situation.closed:
        return Decision(point.default, "default", "the scenario's default option")
    first = next(o.id for o in point.options if o.id not in situation.closed)
    return Decision(first, "default", f"the default is closed ({situation.closed[point.default]}): the first open option")


def _short_form(value: Any) -> Any:
    return {"option": value} if isinstance(value, str) else value


class Choice(BaseModel):
    """A scripted or recorded choice: the option, who chose it and why (and, when recorded, when)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    option: str
    by: str = "script"
    rationale: str = ""
    t: Duration | None = None


Choices = dict[str, Annotated[Choice, BeforeValidator(_short_form)]]
"""Choices by decision point id; ``dp: surge`` is short for ``dp: {option: surge}``."""


class ScriptedDecider:
    """Takes choices from a script; points the script does not name take their default.

    A decisions file is a tabletop session document (see
    :mod:`coopsim.engine.tabletop.session`), read with ``Session.from_file(path).decider``.
    """

    def __init__(self, choices: Mapping[str, Any], source: Document | None = None):
        data = {"decisions": dict(choices)}
        try:
            self.choices: dict[str, Choice] = _Script.model_validate(data).decisions
        except ValidationError as exc:
            raise ScenarioError(validation_problems(source or Document("<decisions>", data), exc, _Script)) from None
        self.source = source

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
                        doc.position(("decisions", point_id, "option")),
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


class _Script(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    decisions: Choices
