"""The after-action report and the comparison report in Markdown, for pasting into a wiki.

Views of the report mappings (:func:`coopsim.reports.aar.build_aar`,
:func:`coopsim.reports.comparison.build_comparison`), rendered through Jinja2
templates as the HTML is, so every format says the same thing.
All scenario text goes through :func:`esc`, which makes it inert: it is shown
as written and can never become a link, an image, raw HTML or other markup.
"""

from __future__ import annotations

import re
from typing import Any

from .summary import calendar, hours_text

SECTIONS = (
    "1. Exercise overview",
    "2. Executive summary",
    "3. Objectives and ratings",
    "4. Strengths and areas for improvement (ODCR)",
    "5. Timeline and expected actions: the MSEL as planned and as run",
    "6. Decisions",
    "7. Improvement plan",
    "8. Appendices",
)


_MARKUP = str.maketrans({c: "\\" + c for c in "\\`*[]~|$"})
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # inside a word (un_ocha) it never makes emphasis
_BLOCK = re.compile(r"^(\s*)(?:([-+=#])(?=[\s#=-]|$)|(\d+)([.)])(?=\s|$))")
_SCHEME = re.compile(r"\b(javascript|vbscript|data|file)(\s*):", re.IGNORECASE)


def esc(value: Any) -> str:
    """Scenario text made inert for Markdown, and for the HTML a wiki makes of it.

    Text is shown as written, never read as markup: ``<``, ``>`` and ``&``
    become entities (a wiki would pass raw HTML through); the characters that
    make links, images, emphasis, code, tables and maths are escaped with a
    backslash; a leading ``#``, ``-``, ``>`` or ``1.`` cannot start a heading,
    list or quote; and a ``javascript:`` (or ``data:``, ``vbscript:``,
    ``file:``) scheme loses its colon to an entity, so no renderer can turn it
    into a live link.
    """
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_MARKUP)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}&#58;", text)
    return _BLOCK.sub(lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"), text)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _diff(d: dict[str, Any] | None) -> str:
    if d is None:
        return "not measured"
    text = f"{d['mean']:+,.2f} ({d['low']:+,.2f} to {d['high']:+,.2f})"
    return text + (", no clear difference" if d["includes_zero"] else "")


class Raw(str):
    """Text that goes into Markdown as it is (a chart's file name), not escaped."""


def _finalize(value: Any) -> str:
    return value if isinstance(value, Raw) else esc(value)


def render_md_template(name: str, **context: Any) -> str:
    """Render one of the package's Markdown templates; every value is escaped for Markdown unless marked ``raw``."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("coopsim.reports", "templates"),
        autoescape=False,
        finalize=_finalize,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(raw=Raw, g=lambda v: f"{v:g}", num=_num, diff=_diff)
    env.globals.update(hours=hours_text, sections=SECTIONS)
    return env.get_template(name).render(**context)


def render_markdown(doc: dict[str, Any], charts: list[tuple[str, str, str]] = ()) -> str:
    """The report as one Markdown document; ``charts`` are (file, title, caption) of PNGs beside it."""
    names = {o["id"]: o["name"] for o in doc["objectives"]}
    when = calendar(doc["overview"]["start"], doc["overview"].get("timezone"))
    decision_names = {d["decision"]: d["name"] for d in doc["decisions"]}
    return render_md_template(
        "aar.md.j2",
        doc=doc,
        ov=doc["overview"],
        app=doc["appendices"],
        names=names,
        decision_names=decision_names,
        charts=list(charts),
        when=when,
    )


def render_comparison_markdown(doc: dict[str, Any], charts: list[Any]) -> str:
    """The comparison report as one Markdown document, charts as PNGs in ``charts/`` beside it."""
    return render_md_template("comparison.md.j2", doc=doc, charts=charts)
