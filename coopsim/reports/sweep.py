"""The sweep report: which parameter moves each objective most, and by how much.

A full-factorial sweep (:func:`coopsim.engine.sweep`) runs every combination
of parameter values with the same seeds. For each objective and each
parameter, the *level mean* is the mean of the objective's metric over every
run at that level of the parameter (all combinations of the other parameters,
all replications), and the *main effect* is the spread between the highest and
lowest level mean, in the metric's unit. Parameters are ranked by it, and a
tornado chart shows the level means of each, widest bar on top.

The statistics are honest in the same way as the comparison report's
(:mod:`coopsim.reports.comparison`): for a time to an event that some runs
never reached, a level mean is a restricted mean, each unreached run counting
as the whole exercise window, and the report says in how many runs the event
was reached; a metric that some runs never measured says in how many it was
measured. A main effect is a difference of means, without a confidence
interval: to test one setting against another, make them variants and run
``coopsim compare``.

The report is written as ``sweep.html`` (self-contained, the chart embedded),
``sweep.md`` (with ``charts/tornado.png`` beside it) and ``sweep.json``.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.ticker import PercentFormatter

from coopsim.engine import METRICS, Comparison, Scenario, better, factorial, point_label, split_metric, staged

from .charts import DPI, SERIES_COLOURS, WIDTH_IN, Chart, _empty, _png, plt
from .comparison import diff_text, practical, provenance
from .html import render_template
from .markdown import render_md_template
from .summary import format_value
from .write import DEFAULT_FORMATS, REPORT, _write_charts

BAR_COLOUR = SERIES_COLOURS[0]  # Okabe-Ito blue
TARGET_COLOUR = "#999999"  # the target's dashed line, as in the comparison report's charts
TORNADO_CAPTION = (
    "Each blue bar spans the means of the objective's metric at one parameter's levels, with the level written at each end "
    "and a dark tick at every level; the widest bar, on top, is the parameter that moves the objective most. "
    "The dashed grey line is the objective's target. A level marked (k/n) reached the event, or measured the metric, "
    "in only k of its n runs; for a time to an event the unreached runs count as the whole window."
)


def _entity_field(scenario: Scenario, path: str) -> tuple[Any, str]:
    """The scenario entity a ``section.id.field`` path sets, and the field; ``(None, "")`` for any other path."""
    section, _, rest = path.partition(".")
    ident, _, field = rest.partition(".")
    return scenario.by_id.get(section, {}).get(ident), field


def parameter_name(scenario: Scenario, path: str) -> str:
    """What a parameter path sets, in words: ``actors.nac.approval`` -> ``North Atlantic Council approval``; else the path itself."""
    entity, field = _entity_field(scenario, path)
    if entity is None or not field:
        return path
    who = entity.name if isinstance(getattr(entity, "name", None), str) else path.split(".")[1]
    return f"{who} {field.replace('.', ' ').replace('_', ' ')}"


def parameter_meaning(scenario: Scenario, path: str) -> str:
    """The scenario format's own description of the field a parameter sets (``time to deliberate on ...``), or ``""``."""
    entity, field = _entity_field(scenario, path)
    fields = getattr(type(entity), "model_fields", {})
    spec = fields.get(field) or fields.get(field + "_")  # ``from`` and ``class`` are ``from_`` and ``class_`` in the model
    return (spec.description or "") if spec is not None else ""


def _unit_label(metric: str) -> str:
    unit = METRICS[split_metric(metric)[0]].unit
    return "%" if unit == "share" else unit


def _level_stats(result: Comparison, labels: list[str], metric: str, event: bool, horizon: float) -> dict[str, Any]:
    """Mean of ``metric`` over every run at the points ``labels``, with how many runs there were and how many reached or measured it."""
    values: list[float] = []
    runs = measured = 0
    for label in labels:
        if event:  # a run that never reached the event counts as the window, as in the comparison report
            restricted, hit = result.restricted(label, metric, horizon)
            values += restricted.values()
            runs += len(restricted)
            measured += hit
        else:
            got = result.values(label, metric)
            values += got.values()
            runs += sum(1 for out in result.outcomes if out.job.variant == label and out.metrics is not None)
            measured += len(got)
    # rounded well below any displayed digit, so levels with the same outcome have the same mean, not one 1e-14 apart
    return {"mean": round(statistics.fmean(values), 9) if values else None, "runs": runs, "measured": measured}


def _runs_text(event: bool, measured: int, runs: int) -> str:
    return f"{'reached' if event else 'measured'} in {measured} of {runs}"


def _at(level: dict[str, Any], metric: str, event: bool) -> str:
    """``96.1 h at 6h``, saying in how many runs the level reached the event where not in all."""
    text = f"{format_value(metric, level['mean'])} at {level['level']}"
    if level["measured"] < level["runs"]:
        text += f" ({_runs_text(event, level['measured'], level['runs'])} runs)"
    return text


def main_effects(scenario: Scenario, result: Comparison, params: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Per objective: the parameters ranked by main effect, each with its level means, and a one-line reading.

    ``level_means`` maps each level (as text) to its mean, or None where no run
    at that level measured the metric; ``levels`` holds the same with the run
    counts and display text.
    """
    points = factorial(params)
    horizon = scenario.scenario.duration
    out = []
    for o in scenario.objectives:
        event = METRICS[split_metric(o.metric)[0]].event
        everywhere = _level_stats(result, [point_label(p) for p in points], o.metric, event, horizon)
        matters = practical(o, everywhere["mean"])
        ranked = []
        for name, values in params.items():
            levels = []
            for value in values:
                stats = _level_stats(result, [point_label(p) for p in points if p[name] == value], o.metric, event, horizon)
                mean_text, runs_text = format_value(o.metric, stats["mean"]), _runs_text(event, stats["measured"], stats["runs"])
                levels.append({"level": str(value), **stats, "mean_text": mean_text, "runs_text": runs_text})
            measured = [lv for lv in levels if lv["mean"] is not None]
            low = min(measured, key=lambda lv: lv["mean"], default=None)
            high = max(measured, key=lambda lv: lv["mean"], default=None)
            effect = high["mean"] - low["mean"] if len(measured) >= 2 else 0.0
            ends = sorted((low, high), key=levels.index) if measured else []  # in the order the levels were given
            ranked.append(
                {
                    "parameter": name,
                    "name": parameter_name(scenario, name),
                    "effect": effect,
                    "effect_text": diff_text(o.metric, effect)[1:],  # a spread has no sign
                    "small": effect < matters,
                    "level_means": {lv["level"]: lv["mean"] for lv in levels},
                    "levels": levels,
                    "ends": [lv["level"] for lv in ends],
                    "unmeasured": [lv["level"] for lv in levels if lv["mean"] is None],
                }
            )
        ranked.sort(key=lambda r: r["effect"], reverse=True)
        out.append(
            {
                "objective": o.name,
                "id": o.id,
                "metric": o.metric,
                "description": METRICS[split_metric(o.metric)[0]].description,
                "unit": _unit_label(o.metric),
                "better": better(o.metric),
                "event": event,
                "horizon": horizon,
                "target": o.target,
                "target_text": format_value(o.metric, o.target),
                "practical_text": diff_text(o.metric, matters)[1:],
                "restricted": event and any(lv["measured"] < lv["runs"] for r in ranked for lv in r["levels"]),
                "partial": not event and any(lv["measured"] < lv["runs"] for r in ranked for lv in r["levels"]),
                "ranking": ranked,
                "reading": _reading(o, ranked, event, diff_text(o.metric, matters)[1:]),
            }
        )
    return out


def _reading(o: Any, ranked: list[dict[str, Any]], event: bool, matters: str) -> str:
    """The plain sentence that sums up an objective's ranking; ``matters`` is the least difference that matters, as text."""
    quoted = f"\u201c{o.name}\u201d"
    if not ranked or all(lv["mean"] is None for r in ranked for lv in r["levels"]):
        return f"{quoted} was not measured at any point of the sweep."
    top = ranked[0]
    if not top["effect"]:
        means = sorted({lv["mean_text"] for r in ranked for lv in r["levels"] if lv["mean"] is not None})
        return f"No parameter moved {quoted}: {' or '.join(means)} at every level."
    by_level = {lv["level"]: lv for lv in top["levels"]}
    first, last = (by_level[level] for level in top["ends"])
    what = top["name"] if top["name"] == top["parameter"] else f"{top['name']} ({top['parameter']})"
    moves = f"{_at(first, o.metric, event)} to {_at(last, o.metric, event)}"
    goal = f"the target is {format_value(o.metric, o.target)}, {better(o.metric)} is better"
    if top["small"]:
        return f"No parameter moves {quoted} by the {matters} that matters; {what} moves it most, by {top['effect_text']}: {moves}; {goal}."
    return f"{what} moves {quoted} most: {moves}; {goal}."


def effects_table(effects: list[dict[str, Any]]) -> str:
    """Plain text for the terminal: per objective, its reading and the parameters ranked, with their level means."""
    lines = []
    for block in effects:
        lines.append(f"\n{block['objective']}  [target {block['target_text']}; {block['better']} is better]")
        lines.append(f"  {block['reading']}")
        for i, r in enumerate(block["ranking"], 1):
            levels = "; ".join(
                f"{lv['level']}: {lv['mean_text']}" + (f" ({lv['runs_text']})" if lv["measured"] < lv["runs"] else "") for lv in r["levels"]
            )
            lines.append(f"  {i}. {r['parameter']:<36} effect {r['effect_text']:>10}   ({levels})")
    return "\n".join(lines)


def _level_label(level: dict[str, Any]) -> str:
    """A level as the chart writes it: ``2d``, or ``2d (3/4)`` where only 3 of its 4 runs reached or measured it."""
    return level["level"] + (f" ({level['measured']}/{level['runs']})" if level["measured"] < level["runs"] else "")


def _tornado_panel(ax, block: dict[str, Any]) -> None:
    rows = [r for r in block["ranking"] if any(lv["mean"] is not None for lv in r["levels"])]
    xs = [block["target"]]
    for y, r in enumerate(rows):
        measured = [lv for lv in r["levels"] if lv["mean"] is not None]
        low, high = min(lv["mean"] for lv in measured), max(lv["mean"] for lv in measured)
        xs += [low, high]
        ax.barh(y, high - low, left=low, color=BAR_COLOUR, height=0.5)
        groups: dict[float, list[str]] = {}
        for lv in measured:
            ax.plot([lv["mean"]] * 2, [y - 0.3, y + 0.3], color="#333333", linewidth=1)
            groups.setdefault(lv["mean"], []).append(_level_label(lv))
        ends = sorted(groups.items())
        for i, (x, names) in enumerate(ends):
            text = ", ".join(names)
            if i == len(ends) - 1:  # the highest mean (or the only one) at the right end
                ax.annotate(text, (x, y), xytext=(4, 0), textcoords="offset points", ha="left", va="center", fontsize=6)
            elif i == 0:
                ax.annotate(text, (x, y), xytext=(-4, 0), textcoords="offset points", ha="right", va="center", fontsize=6)
            else:  # a level between the ends, above its tick
                ax.annotate(text, (x, y - 0.3), xytext=(0, 1), textcoords="offset points", ha="center", va="bottom", fontsize=5)
    ax.axvline(block["target"], color=TARGET_COLOUR, linestyle="--", linewidth=1)
    span = (max(xs) - min(xs)) or max(abs(max(xs)), 1.0)
    ax.set_xlim(min(xs) - 0.25 * span, max(xs) + 0.25 * span)  # room for the level labels at the ends
    top = 1.0 if block["unit"] == "%" else float("inf")
    ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= top])  # no metric is negative, and no share above 100 %
    ax.set_xlim(min(xs) - 0.25 * span, max(xs) + 0.25 * span)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_yticks(range(len(rows)), [r["parameter"] for r in rows], fontsize=6)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)  # the widest bar on top
    if block["unit"] == "%":
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.tick_params(labelsize=6)
    name = block["objective"] if len(block["objective"]) <= 80 else block["objective"][:77] + "..."
    ax.set_xlabel(f"{name} ({block['unit']}, mean at each level; {block['better']} is better)", fontsize=6)
    if not rows:
        _empty(ax, "not measured at any point of the sweep")


def tornado_figure(effects: list[dict[str, Any]]):
    """The tornado chart as a matplotlib figure (see :func:`tornado`), for callers who want to restyle or inspect it."""
    heights = [0.6 + 0.32 * max(1, len(block["ranking"])) for block in effects] or [1.0]
    fig, axes = plt.subplots(
        len(heights), 1, figsize=(WIDTH_IN, 0.2 + sum(heights)), dpi=DPI, squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    for ax, block in zip(axes[:, 0], effects, strict=False):
        _tornado_panel(ax, block)
    if not effects:
        _empty(axes[0, 0], "the scenario has no objectives")
    return fig


def tornado(effects: list[dict[str, Any]]) -> Chart:
    """One panel per objective: each parameter's range of level means, its levels written at the ends, the target dashed."""
    return Chart("tornado", "Parameter effects", TORNADO_CAPTION, _png(tornado_figure(effects)))


def build_sweep(scenario: Scenario, result: Comparison, params: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The sweep report as a JSON-ready mapping: the design, each objective's ranking and reading, and provenance."""
    horizon = scenario.scenario.duration
    return {
        "name": scenario.scenario.name,
        "parameters": {path: list(values) for path, values in params.items()},
        "parameter_rows": [
            {
                "path": path,
                "name": parameter_name(scenario, path),
                "meaning": parameter_meaning(scenario, path),
                "levels": [str(v) for v in values],
            }
            for path, values in params.items()
        ],
        "points": len(result.variants),
        "replications": result.replications,
        "runs": sum(1 for out in result.outcomes if out.metrics is not None),
        "horizon_text": f"{horizon:,.0f} h",
        "effects": main_effects(scenario, result, params),
        "errors": [{"point": e.job.variant, "seed": e.job.seed, "error": e.error} for e in result.errors],
        "provenance": provenance(scenario, result),
    }


def write_sweep_report(
    scenario: Scenario, result: Comparison, params: Mapping[str, Sequence[Any]], out: str | Path, formats: tuple[str, ...] = DEFAULT_FORMATS
) -> Path:
    """Write the sweep report into ``out`` (``sweep.html``, ``sweep.md`` with ``charts/``, ``sweep.json``); returns it.

    Raises:
        OutputDirError: ``out`` holds something that is not a report.
    """
    final = Path(out)
    doc = build_sweep(scenario, result, params)
    charts = [tornado(doc["effects"])] if {"html", "md"} & set(formats) else []
    with staged(final, REPORT) as staging:
        if "json" in formats:
            text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
            (staging / "sweep.json").write_text(text + "\n", encoding="utf-8")
        if "md" in formats:
            _write_charts(staging, charts)
            (staging / "sweep.md").write_text(render_md_template("sweep.md.j2", doc=doc, charts=charts), encoding="utf-8")
        if "html" in formats:
            (staging / "sweep.html").write_text(render_template("sweep.html.j2", doc=doc, charts=charts), encoding="utf-8")
    return final
