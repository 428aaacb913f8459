"""Sweep results: which parameter moves each objective's metric most.

A full-factorial sweep (:func:`coopsim.engine.experiment.sweep`) runs every
combination of parameter values with the same seeds. For each objective's
metric and each parameter, the *main effect* is the spread between the best
and worst level: the mean over all points and replications at one level of the
parameter, minus the same at another. Parameters are ranked by that spread,
and a tornado chart shows the level means of each, widest bar on top.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from coopsim.engine import METRICS, Comparison, Scenario, factorial, point_label, split_metric

from .charts import Chart, _empty, _png, plt
from .summary import format_value


def main_effects(scenario: Scenario, result: Comparison, params: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Per objective: the parameters ranked by main effect, each with its level means."""
    points = factorial(params)
    out = []
    for o in scenario.objectives:
        ranked = []
        for name, levels in params.items():
            means = {}
            for level in levels:
                values = [v for p in points if p[name] == level for v in result.values(point_label(p), o.metric).values()]
                means[str(level)] = statistics.fmean(values) if values else None
            measured = [m for m in means.values() if m is not None]
            effect = max(measured) - min(measured) if len(measured) >= 2 else 0.0
            ranked.append({"parameter": name, "effect": effect, "level_means": means})
        ranked.sort(key=lambda r: r["effect"], reverse=True)
        out.append({"objective": o.name, "id": o.id, "metric": o.metric, "ranking": ranked})
    return out


def effects_table(effects: list[dict[str, Any]]) -> str:
    lines = []
    for block in effects:
        lines.append(f"\n{block['objective']}  [{block['metric']}]")
        for i, r in enumerate(block["ranking"], 1):
            levels = "; ".join(f"{k}: {format_value(block['metric'], v)}" for k, v in r["level_means"].items())
            lines.append(f"  {i}. {r['parameter']:<36} effect {r['effect']:,.2f}   ({levels})")
    return "\n".join(lines)


def tornado(effects: list[dict[str, Any]]) -> Chart:
    """One panel per objective: each parameter's range of level means, widest on top."""
    fig, axes = plt.subplots(len(effects) or 1, 1, figsize=(6.3, 0.5 + 1.2 * max(1, len(effects))), dpi=150, squeeze=False)
    for ax, block in zip(axes[:, 0], effects, strict=False):
        rows = [r for r in block["ranking"] if any(v is not None for v in r["level_means"].values())]
        for y, r in enumerate(rows):
            means = [v for v in r["level_means"].values() if v is not None]
            ax.barh(y, max(means) - min(means), left=min(means), color="#0072B2", height=0.5)
        ax.set_yticks(range(len(rows)), [r["parameter"] for r in rows], fontsize=6)
        ax.invert_yaxis()
        ax.set_title(f"{block['objective']} ({block['metric']})", fontsize=7, loc="left")
        ax.tick_params(labelsize=6)
        unit = METRICS[split_metric(block["metric"])[0]].unit
        ax.set_xlabel(f"mean {block['metric']} at each level ({unit})", fontsize=6)
        if not rows:
            _empty(ax, "not measured")
        elif not any(r["effect"] for r in rows):
            _empty(ax, "no parameter changed this metric")
    return Chart("tornado", "Parameter effects", "The widest bar is the parameter that moves the objective most.", _png(fig))
