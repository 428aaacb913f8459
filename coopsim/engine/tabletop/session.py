"""Tabletop sessions: what the players decided and the facilitator did, as one document.

A session is one YAML document, in the same format whether a facilitator
wrote it ahead as a script for a rehearsal or ``coopsim play`` recorded it at
the table::

    seed: 7                              # the run seed (default: the scenario's)
    variant: no_liaison                  # a variant to play (default: the baseline)
    seats: [wfp, nato_maritime]          # the organisations at the table
    decisions:
      dp_escort_policy: {option: wait_for_nato, by: Ana (wfp), rationale: "...", t: 30h}
    observations:
      - {objective: obj_escort_plan, text: "WFP learned of the escorts from the press", by: facilitator, t: 2d}
    responses:                           # players' responses to injects: the AAR's expected-action evidence
      - {inject: 3, seat: wfp, text: "Asked SNMG2 for the convoy schedule", by: Ana, t: 31h}
    releases:                            # contingency injects the facilitator released
      - {inject: 7, t: 36h, step: 1234}
    at: {t: 40h, step: 1500}             # where the session was paused last

**Places.** A recorded release and ``at`` carry a ``step``: the number of
simulation events processed when it happened (see
:class:`~coopsim.engine.run.Simulation`). Replaying the same scenario, seed,
decisions and releases reaches the same state at the same step, so a session
resumes exactly and a recorded session replays to a byte-identical event log.
A hand-written release may give only ``t``: it is planned, scheduled for that
time from the start like a timed inject.
Because step counts belong to the scenario as written, a session that
recorded steps replays only against the same file (its sha256 is kept in
``scenario:``).

:func:`play` runs a scenario with a session, keeps the session beside the
run, and adds the **counterfactuals**: for every decision taken, the same
scenario re-run with each alternative option over seeded replications
(common random numbers), so the report can show how the objectives' metrics
would have moved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from coopsim import __version__
from coopsim.engine.experiments.comparison import counterfactuals
from coopsim.engine.log.outputs import add_output, default_run_dir, json_text
from coopsim.engine.run import RunResult, Simulation, releasing, run
from coopsim.engine.scenario.durations import Duration, duration_text
from coopsim.engine.scenario.files import write_text
from coopsim.engine.scenario.load import load_scenario, validation_problems
from coopsim.engine.scenario.model import Id, Scenario
from coopsim.engine.scenario.problems import Problem, ScenarioError
from coopsim.engine.scenario.source import Document, read_yaml_file
from coopsim.engine.sim.deciders import Choice, Choices, Decision, ScriptedDecider


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Observation(_Model):
    """A facilitator's note, tagged to an objective; it goes into the AAR."""

    text: str
    objective: str | None = None
    by: str = "facilitator"
    t: Duration | None = None


class Response(_Model):
    """A player's response to an inject: what their organisation did about it. It is the expected-action evidence of the AAR."""

    inject: int = Field(ge=1, strict=True)
    text: str = Field(min_length=1, max_length=4000)
    seat: Id | None = Field(None, description="the organisation that responded")
    by: str = "player"
    t: Duration | None = None


class Release(_Model):
    """A contingency inject the facilitator released, and where in the run."""

    inject: int = Field(ge=1, strict=True)
    t: Duration
    step: int | None = Field(None, ge=0, strict=True)


class Place(_Model):
    """Where the session was paused: the clock and the simulation step."""

    t: Duration
    step: int = Field(ge=0, strict=True)


class ScenarioStamp(_Model):
    """Which scenario file a session was recorded against."""

    name: str
    sha256: str


class Session(_Model):
    """A tabletop session document (frozen; each change makes a new one)."""

    scenario: ScenarioStamp | None = None
    coopsim_version: str | None = None
    seed: int | None = Field(None, strict=True)
    variant: Id | None = None
    seats: tuple[Id, ...] = ()
    decisions: Choices = Field(default_factory=dict)
    observations: tuple[Observation, ...] = ()
    responses: tuple[Response, ...] = ()
    releases: tuple[Release, ...] = ()
    at: Place | None = None
    pauses: tuple[Place, ...] = Field((), description="every place the session was paused, for looking back")
    _document: Document | None = PrivateAttr(None)

    # -- reading and writing ---------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path) -> Session:
        """Read a session (or decisions script) file; problems are ScenarioErrors with file:line:col."""
        doc, _ = read_yaml_file(path, "a session or decisions YAML file")
        if not isinstance(doc.data, dict):
            raise ScenarioError([Problem(doc.position(()), "the document is not a mapping", "decisions: {point_id: option_id, ...}")])
        try:
            session = cls.model_validate(doc.data)
        except ValidationError as exc:
            raise ScenarioError(validation_problems(doc, exc, cls)) from None
        session._document = doc
        return session

    def to_yaml(self) -> str:
        """The session as YAML, times as durations that read back exactly."""
        data = self.model_dump(exclude_defaults=True)
        for choice in data.get("decisions", {}).values():
            _times(choice)
        for item in (
            *data.get("observations", ()),
            *data.get("responses", ()),
            *data.get("releases", ()),
            data.get("at"),
            *data.get("pauses", ()),
        ):
            _times(item)
        header = "# coopsim tabletop session: resume with `coopsim play FILE --session THIS`, replay with `--script THIS`\n"
        return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

    def save(self, path: str | Path) -> None:
        """Write the session atomically: a kill at any moment leaves the old or the new file, whole."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, self.to_yaml())

    # -- changes ---------------------------------------------------------------------------
    def with_decision(self, point: str, decision: Decision, t: float) -> Session:
        choice = Choice(option=decision.option, by=decision.by, rationale=decision.rationale, t=duration_text(t))
        return self._copy(decisions={**self.decisions, point: choice})

    def with_observation(self, observation: Observation) -> Session:
        return self._copy(observations=(*self.observations, observation))

    def with_response(self, response: Response) -> Session:
        return self._copy(responses=(*self.responses, response))

    def with_release(self, release: Release) -> Session:
        return self._copy(releases=(*self.releases, release))

    def paused(self, at: Place) -> Session:
        """The session paused at ``at``; the place joins the pauses a facilitator can look back at."""
        if self.pauses and self.pauses[-1] == at:
            return self._copy(at=at)
        return self._copy(at=at, pauses=(*self.pauses, at))

    def branched(self, at: Place) -> Session:
        """A new session that rewinds this one to an earlier pause: what happened before ``at`` is kept, nothing after.

        Decisions, releases, responses and observations made before the pause's time stay; the rest go, so a decision
        taken at or after it is put to its owner again. The pauses after it go too.
        """
        before = [p for p in self.pauses if p.step <= at.step]
        return self._copy(
            decisions={k: c for k, c in self.decisions.items() if c.t is not None and c.t < at.t},
            releases=tuple(r for r in self.releases if (r.step is not None and r.step < at.step) or (r.step is None and r.t < at.t)),
            observations=tuple(o for o in self.observations if o.t is not None and o.t < at.t),
            responses=tuple(r for r in self.responses if r.t is not None and r.t < at.t),
            at=at,
            pauses=tuple(before),
        )

    def configured(self, *, seed: int | None = None, variant: str | None = None, seats: tuple[str, ...] | None = None) -> Session:
        """The session with the run seed, variant or seats set (those given); a recorded session keeps its seed and variant.

        Raises:
            ValueError: the session was recorded with another seed or variant.
        """
        changes: dict[str, Any] = {}
        for name, value in (("seed", seed), ("variant", variant)):
            if value is None or value == getattr(self, name):
                continue
            if self.recorded:
                raise ValueError(f"the session was recorded with {name} {getattr(self, name) or 'baseline'}; resume it without --{name}")
            changes[name] = value
        if seats is not None:
            changes["seats"] = seats
        return self._copy(**changes)

    @property
    def recorded(self) -> bool:
        """Whether the session holds places in a run (so it must replay with the same seed and scenario)."""
        return self.at is not None or any(r.step is not None for r in self.releases)

    def stamped(self, scenario: Scenario, seed: int) -> Session:
        """The session marked with the scenario file, seed and coopsim version it is played with."""
        stamp = ScenarioStamp(name=scenario.scenario.name, sha256=scenario.sha256)
        return self._copy(scenario=stamp, seed=seed, coopsim_version=__version__)

    def _copy(self, **changes: Any) -> Session:
        copy = self.model_copy(update=changes)
        copy._document = self._document
        return copy

    # -- use ---------------------------------------------------------------------------------
    @property
    def release_places(self) -> tuple[tuple[int, float, int | None], ...]:
        return tuple((r.inject, r.t, r.step) for r in self.releases)

    @property
    def decider(self) -> ScriptedDecider:
        return ScriptedDecider(self.decisions, self._document)

    def seed_for(self, scenario: Scenario) -> int:
        return scenario.scenario.seed if self.seed is None else self.seed

    def check(self, scenario: Scenario) -> None:
        """Raise ScenarioError for anything in the session the scenario lacks or cannot replay."""
        self.decider.check(scenario)
        doc = self._document or Document("<session>", {})
        problems = list(self._problems(scenario, doc))
        if problems:
            raise ScenarioError(problems)

    def _problems(self, scenario: Scenario, doc: Document) -> Iterator[Problem]:
        objectives = scenario.by_id["objectives"]
        for i, o in enumerate(self.observations):
            if o.objective is not None and o.objective not in objectives:
                yield Problem(
                    doc.position(("observations", i, "objective")),
                    f"observation names objective {o.objective!r}, which does not exist",
                    "one of: " + ", ".join(objectives),
                )
        actors = scenario.by_id["actors"]
        for i, r in enumerate(self.responses):
            inj = scenario.by_id["injects"].get(r.inject)
            if inj is None:
                yield Problem(
                    doc.position(("responses", i, "inject")),
                    f"response to inject {r.inject}, which is not in the scenario",
                    "an inject's seq",
                )
            elif r.seat is not None and r.seat not in inj.to:
                yield Problem(
                    doc.position(("responses", i, "seat")),
                    f"{r.seat!r} responds to inject {r.inject}, which is not addressed to it",
                    "one of: " + ", ".join(inj.to),
                )
        for i, seat in enumerate(self.seats):
            if seat not in actors:
                yield Problem(doc.position(("seats", i)), f"no actor {seat!r} to seat", "one of: " + ", ".join(actors))
        injects = scenario.by_id["injects"]
        contingency = [str(seq) for seq, inj in injects.items() if inj.contingency]
        last = (0, 0.0)
        seen: set[int] = set()
        for i, r in enumerate(self.releases):
            if r.inject in seen:
                yield Problem(doc.position(("releases", i, "inject")), f"inject {r.inject} is released twice", "each inject released once")
            seen.add(r.inject)
            inj = injects.get(r.inject)
            if inj is None or not inj.contingency:
                why = "is not in the scenario" if inj is None else "is not a contingency inject"
                yield Problem(
                    doc.position(("releases", i, "inject")),
                    f"inject {r.inject} {why}",
                    "a contingency inject: " + (", ".join(contingency) or "the scenario has none"),
                )
            if r.t >= scenario.scenario.duration:
                yield Problem(
                    doc.position(("releases", i, "t")), f"release at {r.t:g}h is not before the scenario end", "a time before the end"
                )
            if r.step is not None:
                if (r.step, r.t) < last:
                    yield Problem(doc.position(("releases", i)), "releases are out of order", "each release after the one before it")
                last = (r.step, r.t)
        if self.at is not None and (self.at.step, self.at.t) < last:
            yield Problem(doc.position(("at",)), "the session is paused before its last release", "at: the place of the last pause")
        if self.recorded and self.scenario is not None and self.scenario.sha256 != scenario.sha256:
            yield Problem(
                doc.position(("scenario", "sha256")),
                f"this session was recorded against another version of the scenario (sha256 {self.scenario.sha256[:12]}, "
                f"now {scenario.sha256[:12]})",
                "the scenario file as it was when the session was recorded",
            )


def _times(item: dict[str, Any] | None) -> None:
    if item is not None and item.get("t") is not None:
        item["t"] = duration_text(item["t"])


# -- replaying a session --------------------------------------------------------------------


def replay(simulation: Simulation, session: Session) -> None:
    """Re-take the session's releases at their places, then go to where it was paused."""
    simulation.replay(session.release_places)
    if session.at is not None:
        simulation.go_to(session.at.step)


def play(
    scenario: Scenario,
    session: Session,
    out: str | Path,
    replications: int = 20,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    replace: bool = False,
) -> RunResult:
    """Run ``scenario`` through the session; keep the session and the counterfactuals beside the run.

    Decision points the session does not name take their default option.
    ``scenario`` should already have the session's variant applied.
    ``progress(done, total)`` follows the counterfactual replications.
    """
    session.check(scenario)
    places = session.release_places
    result = run(scenario, seed=session.seed_for(scenario), decider=session.decider, out=out, drive=releasing(places), replace=replace)
    taken = {d["decision"]: d["option"] for d in result.metrics.detail["decisions"]}
    analysis: list[dict[str, Any]] = []
    if replications > 0 and taken:
        # the other arms follow other paths, so the facilitator's releases are re-taken by time, not by step
        by_time = tuple((seq, t, None) for seq, t, _ in places)
        for point_id, comparison in counterfactuals(
            scenario, taken, replications, workers=workers, base_seed=result.manifest["seed"], releases=by_time, progress=progress
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
    add_output(
        Path(out),
        "session.json",
        json_text(
            {
                "seats": list(session.seats),
                "decisions": {k: {"option": c.option, "by": c.by, "rationale": c.rationale} for k, c in session.decisions.items()},
                "observations": [o.model_dump() for o in session.observations],
                "responses": [r.model_dump() for r in session.responses],
                "releases": [r.model_dump() for r in session.releases],
                "counterfactuals": analysis,
            }
        ),
    )
    return result


# -- opening a session for play ---------------------------------------------------------------


class SessionError(Exception):
    """A session cannot be opened as asked; the message is one line that says what to do instead."""


def open_session(
    file: str,
    *,
    session_file: str | Path | None = None,
    script: str | Path | None = None,
    seats: Sequence[str] | None = None,
    seed: int | None = None,
    variant: str | None = None,
) -> tuple[Scenario, Session, Path]:
    """The scenario, the session and the session file for ``coopsim play``: a new session, a resumed one, or a script.

    Without ``session_file`` a new session is recorded to
    ``runs/NAME-session.yaml``, which must not hold an earlier session (that is
    resumed only when named). A script plays a whole session; seats and a
    session file are for play at the table.

    Raises:
        SessionError: the session cannot be opened as asked.
        ScenarioError: the scenario, the session or the script has problems (file:line:col).
    """
    if script and (session_file or seats):
        raise SessionError("--script plays a whole session without a terminal; --session and --as are for play at the table")
    path = Path(session_file or Path("runs") / f"{Path(file).stem}-session.yaml")
    if script:
        session = Session.from_file(script)
    elif path.exists():
        if session_file is None:
            raise SessionError(
                f"{path} holds an earlier session: resume it with --session {path}, or start another with --session NEW.yaml"
            )
        session = Session.from_file(path)
    else:
        session = Session()
    try:
        session = session.configured(seed=seed, variant=variant, seats=tuple(seats) if seats else None)
    except ValueError as exc:
        raise SessionError(f"{script or path}: {exc}") from None
    scenario = load_scenario(file, variant=session.variant)
    actors = scenario.by_id["actors"]
    unknown = [s for s in session.seats if s not in actors]
    if unknown and seats:
        raise SessionError(f"--as: no organisation {unknown[0]!r} in the scenario (one of: {', '.join(actors)})")
    session.check(scenario)
    return scenario, session, path


def play_dir(name: str, scenario: Scenario, session: Session, *, replace: bool = False) -> Path:
    """The default directory of a played session's run: ``runs/NAME[-VARIANT]-sSEED-play-HASH``, numbered if it exists."""
    shaped = session.model_dump(include={"decisions", "releases"})
    return default_run_dir(name, session.variant, session.seed_for(scenario), settings=shaped, tag="play", replace=replace)
