"""Statistical checks: the staff queue, fed by an arrival stream, behaves as queueing theory says it must.

An operations cell with ``c`` officers and exponential handling times,
receiving reports from a Poisson arrival stream, is an M/M/c queue. Its mean
wait must match the Erlang C formula at a light and a heavy load, within the
95% confidence interval of 30 replications. The distribution of its waits
must match Ciw's (an independent queueing simulator) by a two-sample
Kolmogorov-Smirnov test on thinned waits.
"""

from __future__ import annotations

import math
import statistics

import ciw
import pytest
from scipy import stats

from coopsim.engine import records, run
from coopsim.engine.scenario.model import Scenario

WARMUP = 300


def erlang_c_wait(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = arrival_rate / service_rate
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * service_rate - arrival_rate)


def mmc(c: int, arrival_rate: float, mean_service_h: float, n: int) -> Scenario:
    """A cell of ``c`` officers receiving ``n`` reports from a Poisson arrival stream (one a 1/rate hours on average)."""
    return Scenario.model_validate(
        {
            "scenario": {"name": "M/M/c", "start": "2020-01-01T00:00:00Z", "duration": f"{n / arrival_rate * 2 + 100:.0f}h"},
            "actors": [
                {
                    "id": "cell",
                    "name": "Ops cell",
                    "family": "UN",
                    "staff": c,
                    "processing": {"dist": "exponential", "mean": f"{mean_service_h}h"},
                }
            ],
            "arrivals": [
                {
                    "id": "reports",
                    "every": {"dist": "exponential", "mean": f"{60 / arrival_rate}m"},
                    "limit": n,
                    "inject": {"to": ["cell"], "description": "a situation report"},
                }
            ],
        }
    )


def waits(c: int, lam: float, n: int, seed: int) -> list[float]:
    recs = run(mmc(c, lam, 1.0, n), seed=seed, keep_records=True).records
    return [r.wait for r in recs if type(r) is records.InjectAcknowledged and r.inject % 1_000_000 > WARMUP]


@pytest.mark.parametrize(("lam", "n"), [(1.0, 2300), (1.7, 4300)], ids=["rho=0.5", "rho=0.85"])
def test_the_staff_queue_matches_erlang_c_at_light_and_heavy_load(lam, n):
    c = 2
    expected = erlang_c_wait(c, lam, 1.0)  # 0.333 h at rho 0.5, 2.604 h at rho 0.85
    means = [statistics.fmean(waits(c, lam, n, seed)) for seed in range(30)]
    mean = statistics.fmean(means)
    half = 2.045 * statistics.stdev(means) / math.sqrt(len(means))  # t(0.975, 29)
    assert mean - half <= expected <= mean + half, (mean, half, expected)
    assert half < 0.15 * expected  # the check has teeth: the interval is narrow


def test_the_staff_queue_waits_are_distributed_as_in_ciw():
    c, lam, thin = 2, 1.7, 10  # every tenth wait, so successive waits are nearly independent
    ours = [w for seed in range(10) for w in waits(c, lam, 4300, seed)[::thin]]
    theirs = []
    for seed in range(10):
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=lam)],
            service_distributions=[ciw.dists.Exponential(rate=1.0)],
            number_of_servers=[c],
        )
        ciw.seed(seed)
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(4300 / lam)
        done = sorted((r for r in sim.get_all_records()), key=lambda r: r.arrival_date)
        theirs += [r.waiting_time for r in done[WARMUP:]][::thin]
    assert min(len(ours), len(theirs)) > 3000
    assert stats.ks_2samp(ours, theirs).pvalue > 0.01
