"""Replications per second: serial, a 2-worker process pool, and a local Dask cluster, in one run.

An analyst's experiment is hundreds of replications of a scenario. This
measures, on the same machine in the same run:

* replications/s run serially in this process (``workers=1``);
* replications/s on the default local process pool with 2 workers;
* replications/s on ``--dask local`` (a LocalCluster of 2 single-threaded workers);
* the parallel efficiency of the pool, ``(serial time / pool time) / workers``
  (target >= 0.85 on 2 workers for 200 replications), and Dask's time against
  the pool's (target: within 20%);
* the executor's overhead per replication: ``(pool time x workers - serial time) / replications``.

It checks that the three executors give identical results, reports the figures
against the targets, and always exits 0: benchmarks report, they do not assert.

Usage::

    python benchmarks/replications.py             # 200 replications (about a minute on 2 cores)
    python benchmarks/replications.py --quick     # 20 replications
"""

from __future__ import annotations

import argparse
import sys
import time

from coopsim.engine import compare, dask_executor, load_scenario

WORKERS = 2
EFFICIENCY_TARGET = 0.85
DASK_TARGET = 1.2


def timed(label: str, replications: int, **kwargs):
    scenario = load_scenario(kwargs.pop("scenario"))
    began = time.perf_counter()
    result = compare(scenario, [], replications, **kwargs)
    took = time.perf_counter() - began
    print(f"{label:<10} {replications} replications in {took:6.2f} s = {replications / took:7.1f} replications/s")
    return result, took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Reports only: always exits 0.")
    parser.add_argument("--quick", action="store_true", help="20 replications instead of 200")
    parser.add_argument("--scenario", default="pakistan-earthquake-2005", help="bundled scenario name or file")
    args = parser.parse_args(argv)
    n = 20 if args.quick else 200
    print(f"scenario {args.scenario}; baseline only; {WORKERS} workers where parallel")
    serial, t_serial = timed("serial", n, scenario=args.scenario, workers=1)
    pooled, t_pool = timed("pool", n, scenario=args.scenario, workers=WORKERS)
    executor, close = dask_executor("local")
    try:
        on_dask, t_dask = timed("dask local", n, scenario=args.scenario, executor=executor)
    finally:
        close()
    same = serial.rows == pooled.rows == on_dask.rows
    efficiency = t_serial / t_pool / WORKERS
    overhead = (t_pool * WORKERS - t_serial) / n
    print(f"identical results across executors: {'yes' if same else 'NO'}")
    print(
        f"parallel efficiency (pool, {WORKERS} workers) = {efficiency:.2f}   (target >= {EFFICIENCY_TARGET})  "
        f"{'PASS' if efficiency >= EFFICIENCY_TARGET else 'MISS'}"
    )
    ratio = t_dask / t_pool
    print(f"dask local / pool time = {ratio:.2f}   (target <= {DASK_TARGET})  {'PASS' if ratio <= DASK_TARGET else 'MISS'}")
    print(f"pool overhead per replication = {overhead * 1000:.1f} ms (serial {t_serial / n * 1000:.1f} ms per replication)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
