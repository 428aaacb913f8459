"""A finished run as the reports see it: the files the engine wrote, read back and checked.

Reports never run the model. They read a run directory, meaning the
``manifest.json``, ``metrics.json``, ``events.jsonl`` and ``scenario.yaml``
that :func:`coopsim.engine.run` wrote. A missing or damaged file gets a
:class:`RunDirError` that names the file, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopsim.engine import Scenario, ScenarioError, loads_scenario
from coopsim.engine.records import Record
from coopsim.engine.sinks import LogError, read_records

FILES = ("manifest.json", "metrics.json", "events.jsonl", "scenario.yaml")


class RunDirError(Exception):
    """A run directory cannot be reported on; the message names the file."""


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

    Raises:
        RunDirError: the directory or one of its files is missing or damaged.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise RunDirError(f"{directory}: no such run directory (expected the --out directory of `coopsim run`)")
    for name in FILES:
        if not (directory / name).is_file():
            raise RunDirError(f"{directory / name}: missing (a run directory holds {', '.join(FILES)})")
    manifest = _json(directory / "manifest.json")
    metrics = _json(directory / "metrics.json")
    try:
        scenario = loads_scenario((directory / "scenario.yaml").read_text(encoding="utf-8"), source=str(directory / "scenario.yaml"))
    except ScenarioError as exc:
        raise RunDirError(str(exc.problems[0])) from None
    try:
        records = tuple(read_records(directory / "events.jsonl"))
    except LogError as exc:
        raise RunDirError(str(exc)) from None
    if len(records) != manifest.get("records"):
        raise RunDirError(
            f"{directory / 'events.jsonl'}: holds {len(records):,} records but the manifest says {manifest.get('records')} (truncated?)"
        )
    session = _json(directory / "session.json") if (directory / "session.json").is_file() else None
    return RunData(directory, manifest, metrics, scenario, records, session)


def in_progress(directory: Path, scenario: Scenario, records: tuple[Record, ...], metrics: dict[str, Any], t: float) -> RunData:
    """A run still in play (a tabletop session), as far as time ``t``, so its charts can be drawn so far."""
    manifest = {"scenario": {"name": scenario.scenario.name}, "outcome": {"status": "in play", "reason": "", "end_time": t}}
    return RunData(directory, manifest, metrics, scenario, records)


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: not a JSON object")
    return data
