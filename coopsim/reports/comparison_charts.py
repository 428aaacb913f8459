"""Charts of a comparison: distributions, paired differences, where the hours went, ratings.

Drawn in the same style as :mod:`coopsim.reports.charts` (Agg, A4 width,
Okabe–Ito palette): box plots per objective metric and variant; the CDF of
RFA cycle time per variant; a forest plot of paired differences for every
objective metric; the RFA delay attribution per variant; and the share of
replications rated P/S/M/U per objective and variant.
"""

from __future__ import annotations

from typing import Any

from coopsim.engine import Comparison, Scenario

from .charts import PART_COLOURS, SERIES_COLOURS, Chart, _empty, _figure, _legend_below, _legend_or_empty, _png, plt

VARIANT_COLOURS = ["#333333", *SERIES_COLOURS]  # the baseline in black, then the series colours
RATING_COLOURS = {"P": "#009E73", "S": "#F0E442", "M": "#E69F00", "U": "#D55E00"}


def boxes(scenario: Scenario, result: Comparison) -> Chart:
    """One panel per objective: the metric's spread over replications, per variant."""
    objectives = scenario.objectives
    fig, axes = plt.subplots(len(objectives) or 1, 1, figsize=(6.3, 0.4 + 1.3 * max(1, len(objectives))), dpi=150, squeeze=False)
    for ax, o in zip(axes[:, 0], objectives, strict=False):
        data = [list(result.values(v, o.metric).values()) for v in result.variants]
        shown = [(v, d) for v, d in zip(result.variants, data, strict=True) if d]
        if shown:
            ax.boxplot([d for _, d in shown], orientation="horizontal", tick_labels=[v for v, _ in shown], widths=0.5)
        else:
            _empty(ax, "not measured")
        ax.set_title(f"{o.name} ({o.metric})", fontsize=7, loc="left")
        ax.tick_params(labelsize=6)
    return Chart(
        "boxes", "Spread per variant", "Boxes that do not overlap the baseline's mark a choice that changes the outcome.", _png(fig)
    )


def cycle_cdf(scenario: Scenario, result: Comparison) -> Chart:
    """The distribution of mean RFA cycle time per replication, per variant."""
    fig, ax = _figure(2.6)
    drawn = False
    for i, variant in enumerate(result.variants):
        xs = sorted(result.values(variant, "rfa_cycle_time").values())
        if xs:
            ax.step(
                xs,
                [(k + 1) / len(xs) for k in range(len(xs))],
                where="post",
                color=VARIANT_COLOURS[i % len(VARIANT_COLOURS)],
                label=variant,
            )
            drawn = True
    ax.set_xlabel("mean RFA cycle time in a replication (h)")
    ax.set_ylabel("share of replications")
    ax.set_title("RFA cycle time per variant (CDF)")
    _legend_or_empty(ax, drawn, 4, "no request completed")
    return Chart("cycle_cdf", "RFA cycle time", "A curve to the left of the baseline's is a faster request cycle.", _png(fig))


def forest(doc: dict[str, Any]) -> Chart:
    """Paired differences to the baseline, relative to the baseline mean, with 95% CIs."""
    entries = []
    for block in doc["metrics"]:
        base = next((r["mean"] for r in block["rows"] if r["variant"] == "baseline"), None)
        for row in block["rows"]:
            d = row["difference"]
            if d is None or not base:
                continue
            entries.append((f"{row['variant']}: {block['metric']}", 100 * d["mean"] / base, 100 * d["low"] / base, 100 * d["high"] / base))
    fig, ax = _figure(0.8 + 0.25 * max(1, len(entries)))
    for y, (_label, mean, low, high) in enumerate(entries):
        colour = "#999999" if low <= 0 <= high else "#0072B2"
        ax.plot([low, high], [y, y], color=colour)
        ax.plot(mean, y, "o", color=colour, markersize=4)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_yticks(range(len(entries)), [e[0] for e in entries], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("paired difference to the baseline (% of the baseline mean, 95% CI)")
    ax.set_title("Paired differences for every objective metric")
    if not entries:
        _empty(ax, "no variant to compare")
    return Chart("forest", "Paired differences", "Grey intervals include zero: nothing is claimed for them.", _png(fig))


def delay_attribution(result: Comparison) -> Chart:
    """Mean hours of each part of the RFA cycle, per variant."""
    fig, ax = _figure(2.4)
    for y, variant in enumerate(result.variants):
        left = 0.0
        for part, colour in PART_COLOURS.items():
            values = list(result.values(variant, f"rfa_{part}").values())
            hours = sum(values) / len(values) if values else 0.0
            ax.barh(y, hours, left=left, color=colour, label=part if y == 0 else None)
            left += hours
    ax.set_yticks(range(len(result.variants)), result.variants)
    ax.invert_yaxis()
    ax.set_xlabel("hours (mean RFA cycle)")
    ax.set_title("Where the hours of the RFA cycle went, per variant")
    _legend_below(ax, 6)
    return Chart(
        "delay_attribution", "Delay attribution", "Compare the bars segment by segment to see where a choice saves hours.", _png(fig)
    )


def rating_shares(doc: dict[str, Any]) -> Chart:
    """For each objective and variant, the share of replications rated P, S, M and U."""
    labels, shares = [], []
    for block in doc["metrics"]:
        for variant, share in block["rating_shares"].items():
            labels.append(f"{block['id']} · {variant}")
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
    return Chart("rating_shares", "Ratings", "More green means the objective was met more often under that choice.", _png(fig))


def draw_comparison(scenario: Scenario, result: Comparison, doc: dict[str, Any]) -> list[Chart]:
    return [boxes(scenario, result), cycle_cdf(scenario, result), forest(doc), delay_attribution(result), rating_shares(doc)]
