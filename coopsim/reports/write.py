"""Writing a report directory: ``report.json`` and ``report.md``, atomically.

The directory is staged beside its destination and renamed into place when
every file is written, with the same rules as a run directory (see
:mod:`coopsim.engine.outputs`): a directory that is not an earlier report is
never replaced.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from coopsim.engine.outputs import check_out_dir, publish, staging_dir

from .aar import build_aar
from .markdown import render_markdown
from .rundir import read_run

FORMATS = ("md", "json")


def write_report(run_dir: str | Path, out: str | Path | None = None, formats: tuple[str, ...] = FORMATS) -> Path:
    """Write the after-action report of the run in ``run_dir``; returns the report directory.

    Raises:
        RunDirError: the run directory is missing a file or is damaged.
        OutputDirError: ``out`` holds something that is not a report.
        ValueError: an unknown format.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {', '.join(unknown)} (expected some of {', '.join(FORMATS)})")
    run = read_run(run_dir)
    final = Path(out) if out is not None else Path(run_dir) / "report"
    check_out_dir(final, marker="report.json")
    doc = build_aar(run)
    staging = staging_dir(final)
    try:
        (staging / "report.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if "md" in formats:
            (staging / "report.md").write_text(render_markdown(doc), encoding="utf-8")
        publish(staging, final)
    finally:
        if staging.exists():  # only when publishing never happened
            shutil.rmtree(staging, ignore_errors=True)
    return final
