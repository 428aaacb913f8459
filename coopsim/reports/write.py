"""Writing a report directory: ``report.html``, ``report.md`` (with ``charts/``) and ``report.json``, atomically.

The directory is staged beside its destination and renamed into place when
every file is written, with the same rules as a run directory (see
:mod:`coopsim.engine.log.outputs`): a directory that is not an earlier report is
never replaced.
"""

from __future__ import annotations

import json
from pathlib import Path

from coopsim.engine import RunDirError, read_run, staged

from .aar import build_aar
from .charts import draw_all
from .html import render_html
from .markdown import render_markdown
from .whatif import from_experiment

FORMATS = ("html", "md", "json", "pdf")
DEFAULT_FORMATS = ("html", "md", "json")
"""PDF is asked for by name: it needs the pdf extra."""
REPORT = "report"
"""The kind of output a report directory is: a new report replaces an earlier one, never anything else."""


def _write_charts(staging: Path, charts) -> None:
    (staging / "charts").mkdir()
    for c in charts:
        (staging / "charts" / f"{c.name}.png").write_bytes(c.png)


def write_report(
    run_dir: str | Path, out: str | Path | None = None, formats: tuple[str, ...] = DEFAULT_FORMATS, what_if: str | Path | None = None
) -> Path:
    """Write the after-action report of the run in ``run_dir``; returns the report directory.

    Raises:
        RunDirError: the run directory is missing a file or is damaged.
        OutputDirError: ``out`` holds something that is not a report.
        ValueError: an unknown format.
        ArchiveError: ``what_if`` is not an experiment of this run's scenario (see :mod:`coopsim.reports.whatif`).
        PdfUnavailable: PDF was asked for, and WeasyPrint or Pango is not installed (checked before anything is written).
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {', '.join(unknown)} (expected some of {', '.join(FORMATS)})")
    if "pdf" in formats:
        from .pdf import require

        require()  # before anything is read or written
    run = read_run(run_dir)
    quantified = from_experiment(run, what_if) if what_if is not None else None
    final = Path(out) if out is not None else Path(run_dir) / "report"
    try:
        doc = build_aar(run, quantified)
        charts = draw_all(run) if {"html", "md", "pdf"} & set(formats) else []
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError) as exc:
        # read_run checked every file; what is left is files that disagree with each other
        raise RunDirError(
            f"{run_dir}: its files do not agree with each other ({type(exc).__name__}: {exc}) "
            "(expected a run directory as coopsim wrote it; if it is one, please report this as a coopsim bug)"
        ) from None
    doc["charts"] = [{"file": f"charts/{c.name}.png", "title": c.title, "caption": c.caption} for c in charts]
    with staged(final, REPORT) as staging:
        if "json" in formats:
            (staging / "report.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if "md" in formats:
            _write_charts(staging, charts)
            listing = [(c["file"], c["title"], c["caption"]) for c in doc["charts"]]
            (staging / "report.md").write_text(render_markdown(doc, listing), encoding="utf-8")
        html = render_html(doc, charts) if {"html", "pdf"} & set(formats) else ""
        if "html" in formats:
            (staging / "report.html").write_text(html, encoding="utf-8")
        if "pdf" in formats:
            from .pdf import write_pdf

            write_pdf(html, staging / "report.pdf")
    return final


def write_comparison_report(scenario, result, out: str | Path, formats: tuple[str, ...] = DEFAULT_FORMATS) -> Path:
    """Write the comparison report of an experiment into ``out``; returns it.

    Raises:
        OutputDirError: ``out`` holds something that is not a report.
    """
    from .comparison import build_comparison
    from .comparison_charts import draw_comparison
    from .html import render_template
    from .markdown import render_comparison_markdown

    final = Path(out)
    doc = build_comparison(scenario, result)
    charts = draw_comparison(scenario, result, doc) if {"html", "md"} & set(formats) else []
    with staged(final, REPORT) as staging:
        if "json" in formats:
            (staging / "comparison.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if "md" in formats:
            _write_charts(staging, charts)
            (staging / "comparison.md").write_text(render_comparison_markdown(doc, charts), encoding="utf-8")
        if "html" in formats:
            (staging / "comparison.html").write_text(render_template("comparison.html.j2", doc=doc, charts=charts), encoding="utf-8")
    return final
