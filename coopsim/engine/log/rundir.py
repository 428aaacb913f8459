"""A finished run as the reports see it: the files the engine wrote, read back and checked.

Reports never run the model. They read a run directory, meaning the
``manifest.json``, ``metrics.json``, ``events.jsonl`` and ``scenario.yaml``
that :func:`coopsim.engine.run` wrote. A missing or damaged file gets a
:class:`RunDirError` that names the file, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coopsim.engine.log.outputs import DamagedFile, file_sha256, read_json
from coopsim.engine.log.records import Record
from coopsim.engine.log.sinks import LogError, read_records
from coopsim.engine.scenario.files import decode, read_input
from coopsim.engine.scenario.load import loads_scenario
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.scenario.problems import ScenarioError

FILES = ("manifest.json", "metrics.json", "events.jsonl", "scenario.yaml")


class RunDirError(Exception):
    """A run directory cannot be reported on; the message names the file."""


class _Checked(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=True, strict=True)


class _ScenarioStamp(_Checked):
    name: str
    sha256: str
    resolved_sha256: str


class _Outcome(_Checked):
    status: str
    reason: str
    end_time: float


class _Manifest(_Checked):
    """What the reports read of ``manifest.json``, checked before anything uses it."""

    coopsim_version: str
    scenario: _ScenarioStamp
    variant: str
    overrides: list[str]
    seed: int
    records: int = Field(ge=0)
    outcome: _Outcome
    sha256: dict[str, str] = {}


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


class _Decision(_Checked):
    option: str
    by: str
    rationale: str


class _Observation(_Checked):
    text: str
    objective: str | None
    by: str
    t: float | None


class _Release(_Checked):
    inject: int
    t: float
    step: int | None = None


class _Difference(_Checked):
    mean: float
    low: float
    high: float
    includes_zero: bool


class _Counterfactual(_Checked):
    decision: str
    chosen: str
    alternative: str
    objective: str
    metric: str
    replications: int
    chosen_mean: float | None
    alternative_mean: float | None
    difference: _Difference | None
    p_improvement: float | None


class _Session(_Checked):
    """A played session's ``session.json``: decisions, observations, releases and counterfactuals."""

    decisions: dict[str, _Decision] = {}
    observations: list[_Observation] = []
    releases: list[_Release] = []
    counterfactuals: list[_Counterfactual] = []


@dataclass(frozen=True, slots=True)
class RunData:
    """Everything one run produced."""

    directory: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    scenario: Scenario
    records: tuple[Record, ...]
    session: dict[str, Any] | None = None  # a tabletop session's observations and counterfactuals, if played


def read_run(directory: str | Path) -> RunData:
    """Read and check a run directory.

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
    manifest = _checked(directory / "manifest.json", _Manifest)
    for name, expected in manifest.get("sha256", {}).items():
        path = directory / name
        if name in FILES and file_sha256(path) != expected:
            raise RunDirError(f"{path}: has changed since the run wrote it (its sha256 is not the one manifest.json recorded)")
    metrics = _checked(directory / "metrics.json", _Metrics)
    try:
        raw = read_input(directory / "scenario.yaml", "the scenario the run wrote")
        scenario = loads_scenario(decode(raw, str(directory / "scenario.yaml"), "UTF-8 YAML"), source=str(directory / "scenario.yaml"))
    except ScenarioError as exc:
        raise RunDirError(str(exc.problems[0])) from None
    try:
        records = tuple(read_records(directory / "events.jsonl"))
    except LogError as exc:
        raise RunDirError(str(exc)) from None
    if len(records) != manifest["records"]:
        raise RunDirError(
            f"{directory / 'events.jsonl'}: holds {len(records):,} records but the manifest says {manifest['records']:,} (truncated?)"
        )
    session = _checked(directory / "session.json", _Session) if (directory / "session.json").is_file() else None
    return RunData(directory, manifest, metrics, scenario, records, session)


def in_progress(directory: Path, scenario: Scenario, records: tuple[Record, ...], metrics: dict[str, Any], t: float) -> RunData:
    """A run still in play (a tabletop session), as far as time ``t``, so its charts can be drawn so far."""
    manifest = {"scenario": {"name": scenario.scenario.name}, "outcome": {"status": "in play", "reason": "", "end_time": t}}
    return RunData(directory, manifest, metrics, scenario, records)


def _checked(path: Path, model: type[BaseModel]) -> dict[str, Any]:
    """A JSON file the run wrote, read safely and checked against what the reports need of it."""
    try:
        data = read_json(path)
    except DamagedFile as exc:
        raise RunDirError(str(exc)) from None
    try:
        model.model_validate(data)  # strict: what passes is already of the right types, so the data is kept as written
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "the document"
        raise RunDirError(f"{path}: {field}: {err['msg'].lower()} (expected the file as coopsim wrote it)") from None
    return data
