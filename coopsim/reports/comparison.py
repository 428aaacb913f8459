"""The comparison report: what a coordination choice buys, and how sure we are.

Built from an experiment's :class:`~coopsim.engine.experiment.Comparison`, in
the style of the after-action report:

* per objective metric and variant: the mean with its 95% CI, and the paired
  difference to the baseline with its CI, relative change and probability of
  improvement;
* for each objective, the share of replications rated P/S/M/U per variant;
* findings written ODCR-style from the statistics, such as "no_liaison raised
  mean rfa_cycle_time.sg_request from 292.3 h to 347.6 h (paired difference
  +55.3 h, 95% CI +48.8 to +61.8)"; where the interval includes zero nothing
  is claimed;
* provenance: the scenario hash, seeds, replications and versions.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from coopsim import __version__
from coopsim.engine import BASELINE, METRICS, Comparison, PointCheck, Scenario, better, experiment_key, mean_ci, split_metric

from .summary import format_value

RATINGS = ("P", "S", "M", "U")


def comparison_table(scenario: Scenario, result: Comparison) -> str:
    """Plain text for the terminal, one block per objective."""
    doc = build_comparison(scenario, result)
    lines = [f"{doc['name']}: {doc['replications']} replications of {', '.join(doc['variants'])} (paired by seed)"]
    for block in doc["metrics"]:
        lines.append(f"\n{block['objective']}  [{block['metric']}; target {block['target_text']}]")
        for row in block["rows"]:
            if row["variant"] == BASELINE:
                lines.append(f"  {'baseline':<24} {row['mean_text']}")
            elif row["difference"] is None:
                lines.append(f"  {row['variant']:<24} not measured in enough replications")
            else:
                lines.append(f"  {row['variant']:<24} {row['mean_text']}; difference {row['difference_text']}; {row['verdict']}")
    return "\n".join(lines)


def diff_text(metric: str, value: float) -> str:
    """A difference in the metric's unit: ``+55.6 h``, ``-23 points`` for shares, ``+1.45`` for counts."""
    unit = METRICS[split_metric(metric)[0]].unit
    if unit == "share":
        return f"{100 * value:+,.0f} points"
    if unit == "count":
        return f"{value:+,.2f}"
    return f"{value:+,.1f} {unit}"


PRACTICAL = {"h": 6.0, "share": 0.05, "count": 0.5}
"""The least difference that matters, by unit, unless an objective sets its own ``practical``: six hours, five points, half an event."""


def practical(o: Any, baseline_mean: float | None) -> float:
    """The least difference that matters for objective ``o``: its own ``practical``, else the unit's default (else 5 % of the baseline)."""
    if o.practical is not None:
        return o.practical
    unit = METRICS[split_metric(o.metric)[0]].unit
    if unit in PRACTICAL:
        return PRACTICAL[unit]
    return 0.05 * abs(baseline_mean) if baseline_mean else 0.0


def provenance(scenario: Scenario, result: Comparison) -> dict[str, Any]:
    """What an experiment's report was drawn from: the scenario's key, the seeds, the replications, and how many were reused."""
    return {
        "scenario_sha256": experiment_key(scenario),
        "seeds": sorted({out.job.seed for out in result.outcomes}),
        "replications": result.replications,
        "reused": result.reused,
        "coopsim_version": __version__,
    }


def build_comparison(scenario: Scenario, result: Comparison) -> dict[str, Any]:
    """The comparison report as a JSON-ready mapping.

    A time-to-event objective (a first delivery, a request's completion, a fact
    reaching someone) that a run never reached is censored at the end of the
    exercise window, not dropped: each row says in how many runs the event was
    reached, and its mean and the paired difference are **restricted means**,
    with unreached runs counted as the whole window. So a variant in which the
    event often never happens cannot look faster for it.
    """
    horizon = scenario.scenario.duration
    blocks, findings = [], []
    for o in scenario.objectives:
        event = METRICS[split_metric(o.metric)[0]].event
        rows = []
        base_mean = None
        for variant in result.variants:
            runs = sum(1 for out in result.outcomes if out.job.variant == variant and out.metrics is not None)
            if event:
                restricted, reached = result.restricted(variant, o.metric, horizon)
                values = list(restricted.values())
            else:
                values = list(result.values(variant, o.metric).values())
                reached = len(values)
            ci = mean_ci(values) if values else None
            mean_text = format_value(o.metric, ci.mean if ci else None)
            if event and ci is not None:
                mean_text = f"reached in {reached} of {runs}; restricted mean {mean_text}"
                if reached < runs:
                    mean_text += f" (unreached runs count as the {horizon:,.0f} h window)"
            if variant == BASELINE:
                base_mean = ci.mean if ci else None
            row: dict[str, Any] = {
                "variant": variant,
                "n": len(values),
                "runs": runs,
                "reached": reached,
                "mean": ci.mean if ci else None,
                "ci": [ci.low, ci.high] if ci else None,
                "ci_text": f"{format_value(o.metric, ci.low)} to {format_value(o.metric, ci.high)}" if ci else "",
                "mean_text": mean_text,
                "difference": None,
                "difference_text": "",
                "verdict": "",
            }
            if variant != BASELINE:
                p = result.paired_restricted(variant, o.metric, horizon) if event else result.paired(variant, o.metric)
            else:
                p = None
            if p is not None:
                d = p.difference
                improved = (d.mean < 0) == (better(o.metric) == "lower")
                row["difference"] = {"mean": d.mean, "low": d.low, "high": d.high, "method": d.method, "includes_zero": d.includes_zero}
                row["difference_text"] = (
                    f"{diff_text(o.metric, d.mean)} (95% CI {diff_text(o.metric, d.low)} to {diff_text(o.metric, d.high)}, {d.method})"
                )
                row["relative_change"] = p.relative_change
                row["p_improvement"] = p.p_improvement
                small = abs(d.mean) < practical(o, base_mean)
                if d.includes_zero:
                    row["verdict"] = "no clear difference (CI includes 0)"
                elif small:
                    row["verdict"] = (
                        f"a clear but small difference (under the {diff_text(o.metric, practical(o, base_mean))[1:]} that matters)"
                    )
                else:
                    row["verdict"] = f"{'better' if improved else 'worse'}; the variant did better in {p.p_improvement:.0%} of replications"
                    base_reached = next(r["reached"] for r in rows if r["variant"] == BASELINE) if rows else reached
                    reach = (
                        f" It was reached in {reached} of {runs} runs, against {base_reached} in the baseline."
                        if event and reached != base_reached
                        else ""
                    )
                    what = "restricted mean" if event else "mean"
                    findings.append(
                        {
                            "objective": o.id,
                            "variant": variant,
                            "improved": improved,
                            "size": abs(p.relative_change) if p.relative_change is not None else abs(d.mean),
                            "text": f"{variant} {'improved' if improved else 'worsened'} \u201c{o.name}\u201d: {what} "
                            f"{format_value(o.metric, p.baseline_mean)} \u2192 {format_value(o.metric, p.variant_mean)},"
                            f" a paired difference of {row['difference_text']}; the variant did better in {p.p_improvement:.0%}"
                            f" of replications.{reach}",
                        }
                    )
            rows.append(row)
        shares = {}
        for variant in result.variants:
            counts = Counter(out.ratings.get(o.id) for out in result.outcomes if out.job.variant == variant and out.ratings)
            total = sum(counts.values()) or 1
            shares[variant] = {r: counts.get(r, 0) / total for r in RATINGS}
        blocks.append(
            {
                "objective": o.name,
                "id": o.id,
                "metric": o.metric,
                "target_text": format_value(o.metric, o.target),
                "rows": rows,
                "rating_shares": shares,
            }
        )
    findings.sort(key=lambda f: -f["size"])  # the largest effects first
    return {
        "name": scenario.scenario.name,
        "variants": list(result.variants),
        "replications": result.replications,
        "metrics": blocks,
        "findings": findings,
        "errors": [{"variant": e.job.variant, "seed": e.job.seed, "error": e.error} for e in result.errors],
        "provenance": provenance(scenario, result),
    }


def decisions_table(scenario: Scenario, checks: list[PointCheck], replications: int) -> str:
    """Plain text for ``coopsim check-decisions``: each alternative against the default, objective by objective."""
    lines = [
        f"{scenario.scenario.name}: each option of each decision point forced over {replications} seeds, against the run as "
        "decided (policies, else defaults), paired by seed"
    ]
    for check in checks:
        verdict = "COSMETIC: no option moves any objective" if check.cosmetic else "matters"
        decided = f"policy, else {check.default}" if check.policy else f"default {check.default}"
        lines.append(f"\n{check.point}  [{decided}]  {verdict}")
        for option, effects in check.effects.items():
            for e in effects:
                what = []
                if "mean" in e.reasons:
                    what.append(f"mean {format_value(e.metric, e.default.mean)} -> {format_value(e.metric, e.option.mean)}")
                if "rating" in e.reasons:
                    what.append(f"rating {e.default.rating} -> {e.option.rating}")
                if "measured" in e.reasons:
                    what.append(f"measured in {e.default.measured} -> {e.option.measured} of {replications} runs")
                means = f"{format_value(e.metric, e.default.mean)} -> {format_value(e.metric, e.option.mean)}"
                text = "; ".join(what) if what else f"no move (mean {means}, rating {e.option.rating})"
                lines.append(f"  {option:<20} {e.objective:<28} {text}")
        for error in check.errors:
            lines.append(f"  failed: {error}")
    cosmetic = [c.point for c in checks if c.cosmetic]
    if not checks:
        lines.append("\nThe scenario has no decision points.")
    elif cosmetic:
        lines.append(f"\n{len(cosmetic)} of {len(checks)} decision points are cosmetic: {', '.join(cosmetic)}")
    else:
        lines.append(f"\nEvery decision point ({len(checks)}) moves at least one objective.")
    return "\n".join(lines)
