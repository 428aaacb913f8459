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
from coopsim.engine import BASELINE, Comparison, PointCheck, Scenario, better, experiment_key, mean_ci

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
                lines.append(f"  {'baseline':<24} mean {row['mean_text']}")
            elif row["difference"] is None:
                lines.append(f"  {row['variant']:<24} not measured in enough replications")
            else:
                d = row["difference"]
                lines.append(
                    f"  {row['variant']:<24} mean {row['mean_text']}; difference {d['mean']:+,.2f} "
                    f"(95% CI {d['low']:+,.2f} to {d['high']:+,.2f}, {d['method']}); {row['verdict']}"
                )
    return "\n".join(lines)


def build_comparison(scenario: Scenario, result: Comparison) -> dict[str, Any]:
    """The comparison report as a JSON-ready mapping."""
    blocks, findings = [], []
    for o in scenario.objectives:
        rows = []
        for variant in result.variants:
            values = list(result.values(variant, o.metric).values())
            ci = mean_ci(values) if values else None
            row: dict[str, Any] = {
                "variant": variant,
                "n": len(values),
                "mean": ci.mean if ci else None,
                "ci": [ci.low, ci.high] if ci else None,
                "mean_text": format_value(o.metric, ci.mean if ci else None),
                "difference": None,
                "verdict": "",
            }
            p = result.paired(variant, o.metric) if variant != BASELINE else None
            if p is not None:
                d = p.difference
                improved = (d.mean < 0) == (better(o.metric) == "lower")
                row["difference"] = {"mean": d.mean, "low": d.low, "high": d.high, "method": d.method, "includes_zero": d.includes_zero}
                row["relative_change"] = p.relative_change
                row["p_improvement"] = p.p_improvement
                if d.includes_zero:
                    row["verdict"] = "no clear difference (CI includes 0)"
                else:
                    row["verdict"] = f"{'better' if improved else 'worse'}; the variant did better in {p.p_improvement:.0%} of replications"
                    verb = ("cut" if d.mean < 0 else "raised") if better(o.metric) == "lower" else ("raised" if d.mean > 0 else "cut")
                    findings.append(
                        {
                            "objective": o.id,
                            "variant": variant,
                            "improved": improved,
                            "text": f"{variant} {verb} mean {o.metric} from {format_value(o.metric, p.baseline_mean)} to "
                            f"{format_value(o.metric, p.variant_mean)} (paired difference {d.mean:+,.2f}, 95% CI {d.low:+,.2f} to "
                            f"{d.high:+,.2f}; better in {p.p_improvement:.0%} of replications).",
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
    return {
        "name": scenario.scenario.name,
        "variants": list(result.variants),
        "replications": result.replications,
        "metrics": blocks,
        "findings": findings,
        "errors": [{"variant": e.job.variant, "seed": e.job.seed, "error": e.error} for e in result.errors],
        "provenance": {
            "scenario_sha256": experiment_key(scenario),
            "seeds": sorted({out.job.seed for out in result.outcomes}),
            "replications": result.replications,
            "reused": result.reused,
            "coopsim_version": __version__,
        },
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
