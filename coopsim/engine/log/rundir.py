"""A finished run as the reports see it: the files the engine wrote, read back, checked, and typed.

Reports never run the model. They read a run directory, meaning the
``manifest.json``, ``metrics.json``, ``events.jsonl`` and ``scenario.yaml``
that :func:`coopsim.engine.run` wrote. A missing or damaged file gets a
:class:`RunDirError` that names the file, never a traceback.

The event log is read in one streaming pass into :class:`RunRecords`. It keeps
whole the records a report shows one by one (request states, deliveries,
trips, incidents, decisions, injects, and every message about a request), and
folds the rest as it goes: messages per channel, each fact's first and slowest
arrival at each actor, each refusal to release a fact once with its count.
So a report on a run of a million message records holds a few numbers per
channel, fact and actor, not a million records. The same pass fills the
:class:`~coopsim.engine.log.lifecycle.RequestTracks` the metrics use.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coopsim import __version__
from coopsim.engine.log.lifecycle import RequestTracks
from coopsim.engine.log.outputs import DamagedFile, file_sha256, read_json
from coopsim.engine.log.records import FactLearned, FactWithheld, MessageLost, MessageSent, Record
from coopsim.engine.log.results import Metrics
from coopsim.engine.log.sinks import LogError, read_records
from coopsim.engine.scenario.files import decode, read_input
from coopsim.engine.scenario.load import loads_scenario
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.scenario.problems import ScenarioError

FILES = ("manifest.json", "metrics.json", "events.jsonl", "scenario.yaml")
R = TypeVar("R", bound=Record)


class RunDirError(Exception):
    """A run directory cannot be reported on; the message names the file."""


class _Checked(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=True, strict=True)


class _ScenarioStamp(_Checked):
    name: str
    sha256: str
    resolved_sha256: str


class OutcomeData(_Checked):
    status: str
    reason: str
    end_time: float


class Manifest(_Checked):
    """``manifest.json``: where the run came from and how it ended, checked before anything uses it."""

    coopsim_version: str
    scenario: _ScenarioStamp
    variant: str
    overrides: list[str]
    seed: int
    records: int = Field(ge=0)
    outcome: OutcomeData
    sha256: dict[str, str] = {}
    decisions: list[dict[str, Any]] = []


class _Rating(_Checked):
    id: str
    name: str
    metric: str
    target: float
    value: float | None
    rating: Literal["P", "S", "M", "U"]


class _Metrics(_Checked):
    values: dict[str, float | None]
    objectives: list[_Rating]
    detail: dict[str, Any] = {}


class DecisionData(_Checked):
    option: str
    by: str
    rationale: str


class ObservationData(_Checked):
    text: str
    objective: str | None
    by: str
    t: float | None


class ResponseData(_Checked):
    inject: int
    text: str
    seat: str | None
    by: str
    t: float | None


class ReleaseData(_Checked):
    inject: int
    t: float
    step: int | None = None


class DifferenceData(_Checked):
    mean: float
    low: float
    high: float
    includes_zero: bool


class CounterfactualData(_Checked):
    decision: str
    chosen: str
    alternative: str
    objective: str
    metric: str
    replications: int
    chosen_mean: float | None
    alternative_mean: float | None
    difference: DifferenceData | None
    p_improvement: float | None


class SessionData(_Checked):
    """A played session's ``session.json``: seats, decisions, observations, responses, releases and counterfactuals."""

    seats: list[str] = []
    decisions: dict[str, DecisionData] = {}
    observations: list[ObservationData] = []
    responses: list[ResponseData] = []
    releases: list[ReleaseData] = []
    counterfactuals: list[CounterfactualData] = []


@dataclass(slots=True)
class ChannelFlow:
    """Messages sent over one channel or liaison post, and transmissions lost."""

    sent: int = 0
    lost: int = 0


@dataclass(slots=True)
class Arrivals:
    """How one fact reached one actor: the first edition's arrival, the slowest, and the routes it came by."""

    first: FactLearned
    slowest: FactLearned
    editions: int = 1
    via: Counter = field(default_factory=Counter)


@dataclass(slots=True)
class Refusals:
    """A fact one actor would not pass to another: the first refusal, and how many there were."""

    first: FactWithheld
    count: int = 1


class RunRecords:
    """A run's records, grouped by class, as reports need them, from one streaming pass in bounded memory."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.channels: dict[str, ChannelFlow] = {}
        self.arrivals: dict[tuple[str, str], Arrivals] = {}
        self.refusals: dict[tuple[str, str, str], Refusals] = {}
        self._kept: dict[type[Record], list[Record]] = {}

    def __call__(self, r: Record) -> None:
        kind = type(r)
        self.counts[r.kind] += 1
        if kind is MessageSent:
            self.channels.setdefault(r.channel, ChannelFlow()).sent += 1
        elif kind is MessageLost:
            self.channels.setdefault(r.channel, ChannelFlow()).lost += 1
            return
        elif kind is FactLearned:
            seen = self.arrivals.get((r.fact, r.actor))
            if seen is None:
                seen = self.arrivals[(r.fact, r.actor)] = Arrivals(r, r, 0)
            seen.editions += 1
            seen.via[r.via] += 1
            if r.latency > seen.slowest.latency:
                seen.slowest = r
            return
        elif kind is FactWithheld:
            refused = self.refusals.get((r.fact, r.actor, r.to))
            if refused is None:
                self.refusals[(r.fact, r.actor, r.to)] = Refusals(r)
            else:
                refused.count += 1
            return
        if getattr(r, "request", "") is None:
            return  # a message about no request (a fact being shared): counted above, not kept
        self._kept.setdefault(kind, []).append(r)

    def of(self, *classes: type[R]) -> list[R]:
        """The kept records of these classes, in the order they happened."""
        if len(classes) == 1:
            return list(self._kept.get(classes[0], ()))  # type: ignore[arg-type]
        return list(heapq.merge(*(self._kept.get(c, ()) for c in classes), key=lambda r: r.seq))  # type: ignore[arg-type]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class RunData:
    """Everything one run produced, typed: what reports are drawn from."""

    directory: Path
    manifest: Manifest
    metrics: Metrics
    scenario: Scenario
    records: RunRecords
    requests: RequestTracks
    session: SessionData | None = None  # a tabletop session's decisions, observations and counterfactuals, if played

    @property
    def end(self) -> float:
        """When the run stopped, in hours."""
        return self.manifest.outcome.end_time


def read_run(directory: str | Path) -> RunData:
    """Read and check a run directory, streaming its event log once.

    Every file the manifest has a sha256 for must still have it, so a report
    is never drawn from a file that was damaged or edited after the run.

    Raises:
        RunDirError: the directory or one of its files is missing or damaged.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise RunDirError(f"{directory}: no such run directory (expected the --out directory of `coopsim run`)")
    for name in FILES:
        if not (directory / name).is_file():
            raise RunDirError(f"{directory / name}: missing (a run directory holds {', '.join(FILES)})")
    manifest = _checked(directory / "manifest.json", Manifest)
    for name, expected in manifest.sha256.items():
        path = directory / name
        if name in FILES and file_sha256(path) != expected:
            raise RunDirError(f"{path}: has changed since the run wrote it (its sha256 is not the one manifest.json recorded)")
    metrics = Metrics.from_dict(_checked(directory / "metrics.json", _Metrics).model_dump())
    try:
        raw = read_input(directory / "scenario.yaml", "the scenario the run wrote")
        scenario = loads_scenario(decode(raw, str(directory / "scenario.yaml"), "UTF-8 YAML"), source=str(directory / "scenario.yaml"))
    except ScenarioError as exc:
        raise RunDirError(str(exc.problems[0])) from None
    try:
        records, tracks = _stream(read_records(directory / "events.jsonl"))
    except LogError as exc:
        raise RunDirError(str(exc)) from None
    if records.total != manifest.records:
        raise RunDirError(
            f"{directory / 'events.jsonl'}: holds {records.total:,} records but the manifest says {manifest.records:,} (truncated?)"
        )
    session = _checked(directory / "session.json", SessionData) if (directory / "session.json").is_file() else None
    return RunData(directory, manifest, metrics, scenario, records, tracks, session)


def _stream(records: Iterable[Record]) -> tuple[RunRecords, RequestTracks]:
    kept, tracks = RunRecords(), RequestTracks()
    for r in records:
        kept(r)
        tracks(r)
    return kept, tracks


def in_progress(directory: Path, scenario: Scenario, records: Iterable[Record], metrics: Metrics, t: float) -> RunData:
    """A run still in play (a tabletop session), as far as time ``t``, so its charts can be drawn so far."""
    kept, tracks = _stream(records)
    stamp = _ScenarioStamp(name=scenario.scenario.name, sha256=scenario.sha256, resolved_sha256="")
    manifest = Manifest(
        coopsim_version=__version__,
        scenario=stamp,
        variant=scenario.variant or "baseline",
        overrides=list(scenario.overrides),
        seed=0,
        records=kept.total,
        outcome=OutcomeData(status="in play", reason="", end_time=t),
    )
    return RunData(directory, manifest, metrics, scenario, kept, tracks)


M = TypeVar("M", bound=BaseModel)


def _checked(path: Path, model: type[M]) -> M:
    """A JSON file the run wrote, read safely and checked, strictly, against the types coopsim writes."""
    try:
        data = read_json(path)
    except DamagedFile as exc:
        raise RunDirError(str(exc)) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "the document"
        raise RunDirError(f"{path}: {where}: {err['msg'].lower()} (expected the file as coopsim wrote it)") from None
