"""Tabletop sessions: the decisions players took and what the facilitator observed.

A session is one YAML document, the same format whether a facilitator wrote
it ahead as a script for a rehearsal or it was recorded at the table::

    decisions:
      dp_escort_policy: {option: wait_for_nato, by: WFP seat, rationale: "..."}
    observations:
      - {objective: obj_escort_plan, text: "WFP learned of the escorts from the press", by: facilitator, t: 2d}

:func:`play` runs a scenario with a session's decisions, keeps the session
and its observations in the run directory, and adds the **counterfactuals**:
for every decision taken, the same scenario re-run with each alternative
option over seeded replications (common random numbers), so the report can
show how the objectives' metrics would have moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .deciders import ScriptedDecider
from .document import Position, Problem, ScenarioError, parse_yaml
from .durations import Duration
from .experiment import counterfactuals
from .outputs import write_json
from .run import RunResult, run
from .schema import Scenario


class Observation(BaseModel):
    """A facilitator's note, tagged to an objective; it goes into the AAR."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    objective: str | None = None
    by: str = "facilitator"
    t: Duration | None = None


@dataclass(frozen=True)
class Session:
    decider: ScriptedDecider
    observations: tuple[Observation, ...]

    @classmethod
    def from_file(cls, path: str | Path) -> Session:
        """Read a session (or decisions script) file; problems are ScenarioErrors with file:line:col."""
        decider = ScriptedDecider.from_file(path)
        doc = decider.source or parse_yaml(Path(path).read_text(encoding="utf-8"), str(path))
        raw = doc.data.get("observations") or []
        observations, problems = [], []
        for i, item in enumerate(raw if isinstance(raw, list) else [raw]):
            try:
                observations.append(Observation.model_validate(item))
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                where = ("observations", i, *err["loc"])
                problems.append(Problem(doc.position(where), f"observations.{i}: {err['msg']}", "{text, objective, by, t}"))
        if problems:
            raise ScenarioError(problems)
        return cls(decider, tuple(observations))

    def check(self, scenario: Scenario) -> None:
        """Raise ScenarioError for decisions or observations that name what the scenario lacks."""
        self.decider.check(scenario)
        objectives = scenario.by_id["objectives"]
        bad = [o for o in self.observations if o.objective is not None and o.objective not in objectives]
        if bad:
            source = self.decider.source
            raise ScenarioError(
                [
                    Problem(
                        source.position(("observations",)) if source else Position("<session>", 1, 1),
                        f"observation names objective {o.objective!r}, which does not exist",
                        "one of: " + ", ".join(objectives),
                    )
                    for o in bad
                ]
            )


def play(scenario: Scenario, session: Session, out: str | Path, replications: int = 20, workers: int | None = None) -> RunResult:
    """Run ``scenario`` with the session's decisions; keep observations and counterfactuals beside the run."""
    session.check(scenario)
    result = run(scenario, decider=session.decider, out=out)
    taken = {d["decision"]: d["option"] for d in result.metrics.detail["decisions"]}
    analysis: list[dict[str, Any]] = []
    if replications > 0 and taken:
        for point_id, comparison in counterfactuals(
            scenario, taken, replications, workers=workers, base_seed=result.manifest["seed"]
        ).items():
            for option in comparison.variants[1:]:
                for objective in scenario.objectives:
                    p = comparison.paired(option, objective.metric)
                    analysis.append(
                        {
                            "decision": point_id,
                            "chosen": taken[point_id],
                            "alternative": option,
                            "objective": objective.id,
                            "metric": objective.metric,
                            "replications": replications,
                            "chosen_mean": p.baseline_mean if p else None,
                            "alternative_mean": p.variant_mean if p else None,
                            "difference": None
                            if p is None
                            else {
                                "mean": p.difference.mean,
                                "low": p.difference.low,
                                "high": p.difference.high,
                                "includes_zero": p.difference.includes_zero,
                            },
                            "p_improvement": p.p_improvement if p else None,
                        }
                    )
    out = Path(out)
    write_json(
        out / "session.json",
        {
            "decisions": {k: {"option": c.option, "by": c.by, "rationale": c.rationale} for k, c in session.decider.choices.items()},
            "observations": [o.model_dump() for o in session.observations],
            "counterfactuals": analysis,
        },
    )
    return result
