"""Charts of a comparison: distributions, paired differences, where the hours went, ratings.

Drawn in the same style as :mod:`coopsim.reports.charts` (Agg, A4 width,
Okabe–Ito palette): box plots per objective metric and variant; for each
time-to-event objective, the share of runs that reached it by each hour
(Kaplan–Meier, unreached runs censored at the window's end); a forest plot of paired differences for every
objective metric; the RFA delay attribution per variant; and the share of
replications rated P/S/M/U per objective and variant.
"""

from __future__ import annotations

from typing import Any

from coopsim.engine import METRICS, Comparison, Scenario, split_metric

from .charts import PART_COLOURS, SERIES_COLOURS, Chart, _empty, _figure, _legend_below, _png, plt

VARIANT_COLOURS = ["#333333", *SERIES_COLOURS]  # the baseline in black, then the series colours
RATING_COLOURS = {"P": "#009E73", "S": "#F0E442", "M": "#E69F00", "U": "#D55E00"}


def boxes(scenario: Scenario, result: Comparison) -> Chart:
    """One panel per objective: the metric's spread over replications, per variant."""
    objectives = scenario.objectives
    fig, axes = plt.subplots(len(objectives) or 1, 1, figsize=(6.3, 0.4 + 1.3 * max(1, len(objectives))), dpi=150, squeeze=False)
    horizon = scenario.scenario.duration
    for ax, o in zip(axes[:, 0], objectives, strict=False):
        if METRICS[split_metric(o.metric)[0]].event:  # unreached runs count as the window, as in the tables
            data = [list(result.restricted(v, o.metric, horizon)[0].values()) for v in result.variants]
        else:
            data = [list(result.values(v, o.metric).values()) for v in result.variants]
        shown = [(v, d) for v, d in zip(result.variants, data, strict=True) if d]
        if shown:
            ax.boxplot([d for _, d in shown], orientation="horizontal", tick_labels=[v for v, _ in shown], widths=0.5)
        else:
            _empty(ax, "not measured")
        ax.set_title(f"{o.name} ({o.metric})", fontsize=7, loc="left")
        ax.tick_params(labelsize=6)
    return Chart(
        "boxes",
        "Spread per variant",
        "Boxes that do not overlap the baseline's mark a choice that changes the outcome; for a time to an event, a run that "
        "never reached it counts as the whole window.",
        _png(fig),
    )


def reached(scenario: Scenario, result: Comparison) -> Chart:
    """For each time-to-event objective: the share of runs that had reached the event by each hour, per variant.

    A run that never reached the event is censored at the end of the window;
    with every run censored at that same hour the Kaplan-Meier estimate is this
    share, counted over all runs, so a curve that stops short of 100 % shows
    runs in which the event never happened: a worse variant cannot look faster
    by leaving its failures out.
    """
    horizon = scenario.scenario.duration
    timed = [o for o in scenario.objectives if METRICS[split_metric(o.metric)[0]].event]
    fig, axes = plt.subplots(len(timed) or 1, 1, figsize=(6.3, 0.5 + 1.5 * max(1, len(timed))), dpi=150, squeeze=False)
    for ax, o in zip(axes[:, 0], timed, strict=False):
        for i, variant in enumerate(result.variants):
            values, hit = result.restricted(variant, o.metric, horizon)
            runs = len(values)
            if not runs:
                continue
            times = sorted(v for v in values.values() if v < horizon or hit == runs)
            xs = [0.0, *times, horizon]
            ys = [0.0, *[(k + 1) / runs for k in range(len(times))], len(times) / runs]
            ax.step(
                xs,
                ys,
                where="post",
                color=VARIANT_COLOURS[i % len(VARIANT_COLOURS)],
                linestyle=("-", "--", ":", "-.")[i % 4],  # variants that coincide stay visible
                label=f"{variant} (reached in {hit} of {runs})",
            )
        ax.axvline(o.target, color="#999999", linewidth=0.8, linestyle="--")
        ax.set_ylim(0, 1.02)
        ax.set_title(o.name if len(o.name) <= 95 else o.name[:92] + "...", fontsize=7, loc="left")
        ax.set_ylabel("share of runs", fontsize=6)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=6, loc="lower right")
    if not timed:
        _empty(axes[0, 0], "no time-to-event objective")
    axes[-1, 0].set_xlabel("hours from the start of the measure")
    return Chart(
        "reached",
        "Time to each event",
        "The share of runs in which the event had happened by each hour (Kaplan-Meier, censored at the end of the window), "
        "with the objective's target as a dashed line; a curve that ends below 100 % had runs in which it never happened. "
        "Left and higher is better.",
        _png(fig),
    )


def forest(doc: dict[str, Any]) -> Chart:
    """Paired differences to the baseline, relative to the baseline mean, with 95% CIs, on an axis clipped at ±100 %.

    A difference beyond the axis (an event that never happens can be +10,000 %)
    is drawn as an arrow at the edge with its value written beside it, so it
    neither hides the others nor goes unseen.
    """
    entries = []
    for block in doc["metrics"]:
        base = next((r["mean"] for r in block["rows"] if r["variant"] == "baseline"), None)
        name = block["objective"] if len(block["objective"]) <= 48 else block["objective"][:45] + "..."
        for row in block["rows"]:
            d = row["difference"]
            if d is None or not base:
                continue
            entries.append((f"{row['variant']}: {name}", 100 * d["mean"] / base, 100 * d["low"] / base, 100 * d["high"] / base))
    limit = min(100.0, max([abs(v) for e in entries for v in e[1:]] or [10.0]) * 1.1)
    fig, ax = _figure(0.8 + 0.25 * max(1, len(entries)))
    for y, (_label, mean, low, high) in enumerate(entries):
        colour = "#999999" if low <= 0 <= high else "#0072B2"
        ax.plot([max(low, -limit), min(high, limit)], [y, y], color=colour)
        if abs(mean) > limit:
            edge = limit if mean > 0 else -limit
            ax.plot(edge, y, ">" if mean > 0 else "<", color=colour, markersize=5)
            ax.annotate(f"{mean:+,.0f} %", (edge, y), xytext=(-4 if mean > 0 else 4, 4), textcoords="offset points",
                        ha="right" if mean > 0 else "left", fontsize=6, color=colour)  # fmt: skip
        else:
            ax.plot(mean, y, "o", color=colour, markersize=4)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_xlim(-limit, limit)
    ax.set_yticks(range(len(entries)), [e[0] for e in entries], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("paired difference to the baseline, % of its mean (95% CI)", fontsize=7)
    ax.set_title("Paired differences for every objective")
    if not entries:
        _empty(ax, "no variant to compare")
    return Chart(
        "forest",
        "Paired differences",
        "Blue: the 95% interval excludes zero; grey: it includes zero, and nothing is claimed. Arrows mark differences beyond "
        "the axis, with their value.",
        _png(fig),
    )


def delay_attribution(result: Comparison) -> Chart:
    """Mean hours of each part of the RFA cycle, per variant."""
    fig, ax = _figure(2.4)
    runs = {v: sum(1 for o in result.outcomes if o.job.variant == v and o.metrics is not None) for v in result.variants}
    for y, variant in enumerate(result.variants):
        left = 0.0
        for part, colour in PART_COLOURS.items():
            values = list(result.values(variant, f"rfa_{part}").values())
            hours = sum(values) / len(values) if values else 0.0
            ax.barh(y, hours, left=left, color=colour, label=part if y == 0 else None)
            left += hours
        completed = len(result.values(variant, "rfa_cycle_time"))
        ax.text(left, y, f"  {completed} of {runs[variant]} runs completed an RFA", va="center", fontsize=6, color="#333333")
    ax.set_yticks(range(len(result.variants)), result.variants)
    ax.invert_yaxis()
    ax.set_xlabel("hours (mean RFA cycle)")
    ax.set_title("Where the hours of the RFA cycle went, per variant")
    _legend_below(ax, 6)
    return Chart(
        "delay_attribution",
        "Delay attribution",
        "Each coloured segment is one part of the cycle (legend below). Only completed requests have a cycle to split, so a variant"
        " that completes fewer can look faster here: the count beside each bar says in how many runs any RFA completed.",
        _png(fig),
    )


def rating_shares(doc: dict[str, Any]) -> Chart:
    """For each objective and variant, the share of replications rated P, S, M and U."""
    labels, shares = [], []
    for block in doc["metrics"]:
        name = block["objective"] if len(block["objective"]) <= 40 else block["objective"][:39] + "…"
        for variant, share in block["rating_shares"].items():
            labels.append(f"{variant}: {name}")
            shares.append(share)
    fig, ax = _figure(0.8 + 0.22 * max(1, len(labels)))
    for y, share in enumerate(shares):
        left = 0.0
        for rating, colour in RATING_COLOURS.items():
            ax.barh(y, share[rating], left=left, color=colour, label=rating if y == 0 else None)
            left += share[rating]
    ax.set_yticks(range(len(labels)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("share of replications")
    ax.set_title("HSEEP ratings per objective and variant")
    if labels:
        _legend_below(ax, 4)
    return Chart(
        "rating_shares",
        "Ratings",
        "Green is P, yellow S, orange M, red-orange U: more green means the objective was met more often under that choice.",
        _png(fig),
    )


def draw_comparison(scenario: Scenario, result: Comparison, doc: dict[str, Any]) -> list[Chart]:
    return [boxes(scenario, result), reached(scenario, result), forest(doc), delay_attribution(result), rating_shares(doc)]
