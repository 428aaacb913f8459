"""The after-action report in Markdown, for pasting into a wiki.

A view of the report mapping built by :func:`coopsim.reports.aar.build_aar`.
All scenario text goes through :func:`esc`, which makes it inert: it is shown
as written and can never become a link, an image, raw HTML or other markup.
"""

from __future__ import annotations

import re
from typing import Any

from .summary import hours_text

SECTIONS = (
    "1. Exercise overview",
    "2. Executive summary",
    "3. Objectives and ratings",
    "4. Strengths and areas for improvement (ODCR)",
    "5. Timeline: MSEL as planned and as run",
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


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(doc: dict[str, Any], charts: list[tuple[str, str, str]] = ()) -> str:
    """The report as one Markdown document; ``charts`` are (file, title, caption) of PNGs beside it."""
    ov = doc["overview"]
    out = [f"# After-action report: {esc(ov['name'])}", ""]
    out += [f"## {SECTIONS[0]}", "", esc(ov["description"]), ""]
    out += [f"- **Scenario start:** {esc(ov['start'])}", f"- **Duration:** {ov['duration_days']:g} days"]
    for family, names in ov["organisations"].items():
        out.append(f"- **{esc(family)}:** {esc(', '.join(names))}")
    out.append("")
    out += ["**Objectives**", ""] + [
        f"- {esc(o['name'])}" + (f": {esc(o['description'])}" if o["description"] else "") for o in ov["objectives"]
    ]
    out += (
        ["", "**Sources**", ""] + [f"- {esc(s['title'])}" + (f" — {esc(s['url'])}" if s.get("url") else "") for s in ov["sources"]] + [""]
    )
    out += [f"## {SECTIONS[1]}", "", " ".join(esc(s) for s in doc["executive_summary"]), ""]
    out += [f"## {SECTIONS[2]}", ""]
    out += _table(
        ["Objective", "Metric", "Target", "Achieved", "Rating"],
        [[o["name"], o["metric"], o["target_text"], o["achieved"], o["rating"]] for o in doc["objectives"]],
    )
    out += [f"## {SECTIONS[3]}", ""]
    names = {o["id"]: o["name"] for o in doc["objectives"]}
    for x in doc["lessons"]:
        label = "Strength" if x["kind"] == "strength" else "Area for improvement"
        out += [f"### {esc(names.get(x['objective'], x['objective']))} — {label}", ""]
        for part in ("observation", "discussion", "conclusion", "recommendation"):
            out.append(f"- **{part.capitalize()}:** {esc(x[part])}")
        out += [f"- **Responsible:** {esc(x['responsible'])} ({esc(x['capability'])})", ""]
    for file, title, caption in charts:
        out += [f"![{esc(title)}]({file})", "", f"*{esc(title)}.* {esc(caption)}", ""]
    out += [f"## {SECTIONS[4]}", ""]
    observed = {True: "yes", False: "no", None: "for the players"}
    out += _table(
        ["Seq", "Planned", "Released", "Acknowledged", "Expected action", "Observed"],
        [
            [
                t["seq"],
                hours_text(t["planned"]) if t["planned"] is not None else (t["trigger"] or "contingency"),
                hours_text(t["released"]) + (f" ({t['released_by']})" if t["released_by"] else ""),
                hours_text(t["acknowledged"]),
                t["expected_action"],
                observed[t["observed"]],
            ]
            for t in doc["timeline"]
        ],
    )
    out += [f"## {SECTIONS[5]}", ""]
    if doc["decisions"]:
        out += _table(
            ["Time", "Decision point", "Owner", "Option", "Taken by", "Rationale"],
            [[hours_text(d["t"]), d["name"], d["owner"], d["option"], d["by"], d["rationale"]] for d in doc["decisions"]],
        )
    else:
        out += ["No decision point was reached.", ""]
    if doc["observations"]:
        out += ["### Facilitator observations", ""]
        out += [
            f"- {esc(o['text'])} — *{esc(o['by'])}*"
            + (f", at {hours_text(o['t'])}" if o["t"] is not None else "")
            + (f" (objective {esc(o['objective'])})" if o["objective"] else "")
            for o in doc["observations"]
        ]
        out.append("")
    if doc["counterfactuals"]:
        out += ["### Counterfactuals: what the other options would have changed", ""]
        out += _table(
            ["Decision", "Chosen", "Alternative", "Metric", "Chosen mean", "Alternative mean", "Difference (95% CI)"],
            [
                [
                    c["decision"],
                    c["chosen"],
                    c["alternative"],
                    c["metric"],
                    _num(c["chosen_mean"]),
                    _num(c["alternative_mean"]),
                    _diff(c["difference"]),
                ]
                for c in doc["counterfactuals"]
            ],
        )
    out += [f"## {SECTIONS[6]}", ""]
    out += _table(
        ["Issue", "Corrective action", "Capability", "Responsible", "Start", "Completion"],
        [
            [p["issue"], p["corrective_action"], p["capability"], p["responsible"], p["start"], p["completion"]]
            for p in doc["improvement_plan"]
        ],
    )
    app = doc["appendices"]
    out += [f"## {SECTIONS[7]}", "", "### A. Master Scenario Events List", ""]
    out += _table(
        ["Seq", "Time", "Type", "From", "To", "Description", "Expected action", "Objective"],
        [
            [
                m["seq"],
                hours_text(m["time"]) if m["time"] is not None else ("trigger" if m["trigger"] else "contingency"),
                m["type"],
                m["from"],
                ", ".join(m["to"]),
                m["description"],
                m["expected_action"],
                m["objective"] or "",
            ]
            for m in app["msel"]
        ],
    )
    out += ["### B. Event log summary", ""] + _table(["Record kind", "Count"], [[k, v] for k, v in app["event_summary"].items()])
    out += ["### C. Model assumptions", ""] + [f"- {esc(a)}" for a in app["assumptions"]] + [""]
    out += ["### D. Provenance", ""] + [f"- **{esc(k)}:** {esc(v)}" for k, v in app["provenance"].items()] + [""]
    return "\n".join(out)
