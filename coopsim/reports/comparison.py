"""The comparison table: each variant against the baseline, objective by objective.

For each objective's metric and each variant it shows the baseline mean, the
variant mean, the paired difference with its 95% confidence interval, and the
share of replications in which the variant did better. Where the interval
includes zero the table says so rather than claiming a difference.
"""

from __future__ import annotations

from coopsim.engine.experiment import BASELINE, Comparison
from coopsim.engine.metric_names import better
from coopsim.engine.schema import Scenario

from .summary import format_value


def comparison_table(scenario: Scenario, result: Comparison) -> str:
    """Plain text, one block per objective."""
    lines = [f"{scenario.scenario.name}: {result.replications} replications of {', '.join(result.variants)} (paired by seed)"]
    for o in scenario.objectives:
        base = result.values(BASELINE, o.metric)
        lines.append(f"\n{o.name}  [{o.metric}; target {format_value(o.metric, o.target)}]")
        lines.append(f"  {'baseline':<24} mean {format_value(o.metric, _mean(base))}")
        for variant in result.variants[1:]:
            p = result.paired(variant, o.metric)
            if p is None:
                lines.append(f"  {variant:<24} not measured in enough replications")
                continue
            d = p.difference
            if d.includes_zero:
                verdict = "no clear difference (CI includes 0)"
            else:
                improved = (d.mean < 0) == (better(o.metric) == "lower")
                verdict = f"{'better' if improved else 'worse'}; the variant did better in {p.p_improvement:.0%} of replications"
            lines.append(
                f"  {variant:<24} mean {format_value(o.metric, p.variant_mean)}; difference {d.mean:+,.2f} "
                f"(95% CI {d.low:+,.2f} to {d.high:+,.2f}, {d.method}); {verdict}"
            )
    return "\n".join(lines)


def _mean(values: dict[int, float]) -> float | None:
    return sum(values.values()) / len(values) if values else None
