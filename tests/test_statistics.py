"""Statistical checks: the staff queue behaves as queueing theory says it must."""

from __future__ import annotations

import math
import random
import statistics

from coopsim.engine import run
from coopsim.engine.scenario.model import Scenario


def erlang_c_wait(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = arrival_rate / service_rate
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * service_rate - arrival_rate)


def _mmc_scenario(seed: int, c: int, arrival_rate: float, mean_service_h: float, n: int) -> Scenario:
    rng = random.Random(seed)
    t, injects = 0.0, []
    for seq in range(1, n + 1):
        t += rng.expovariate(arrival_rate)
        injects.append({"seq": seq, "time": f"{t:.6f}h", "to": ["cell"], "description": "report"})
    return Scenario.model_validate(
        {
            "scenario": {"name": "M/M/c", "start": "2020-01-01T00:00:00Z", "duration": f"{t + 200:.0f}h"},
            "actors": [
                {
                    "id": "cell",
                    "name": "Operations cell",
                    "family": "UN",
                    "staff": c,
                    "processing": {"dist": "exponential", "mean": f"{mean_service_h}h"},
                }
            ],
            "injects": injects,
        }
    )


def test_staff_queue_matches_erlang_c():
    c, lam, mean_service = 2, 1.5, 1.0
    expected = erlang_c_wait(c, lam, 1 / mean_service)  # 1.2857 h
    warmup, n = 200, 2200
    means = []
    for rep in range(30):
        result = run(_mmc_scenario(1000 + rep, c, lam, mean_service, n), seed=rep, keep_records=True)
        waits = [r.wait for r in result.records if r.kind == "inject_acknowledged" and r.inject > warmup]
        means.append(statistics.fmean(waits))
    mean = statistics.fmean(means)
    half = 2.045 * statistics.stdev(means) / math.sqrt(len(means))  # t(0.975, 29)
    assert mean - half <= expected <= mean + half, (mean, half, expected)
    assert half < 0.15 * expected  # the check has teeth: the interval is narrow
