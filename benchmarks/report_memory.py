"""Peak memory of `coopsim report`: a run of about 10^4 records against one of about 10^6.

A report reads the run's event log in one streaming pass, keeping whole only
the records a report shows one by one and folding the rest (see
``coopsim.engine.log.rundir``). So reporting on a long run should take about
as much memory as reporting on a short one. This writes the synthetic,
message-heavy scenario of ``engine_throughput.py`` (recurring SITREPs over a
mesh of channels) at two lengths, runs each into a directory, then runs
``coopsim report`` on each in a child process and reads the child's peak
resident memory from the kernel. Target: the 10^6-record report peaks at most
1.5x the 10^4-record one. It reports and always exits 0.

Usage::

    python benchmarks/report_memory.py            # 10^4 and 10^6 records (a few minutes)
    python benchmarks/report_memory.py --quick    # 10^4 and 10^5 records
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from engine_throughput import make_model, to_yaml  # noqa: E402

from coopsim.engine import load_scenario, run  # noqa: E402

CHILD = (
    "import resource, runpy, sys\n"
    "sys.argv = ['coopsim', 'report', sys.argv[1], '--format', 'html,md,json']\n"
    "try:\n"
    "    runpy.run_module('coopsim', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def report_peak(run_dir: Path) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of `coopsim report RUN_DIR` in a fresh process."""
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(run_dir)], capture_output=True, text=True, timeout=3600)
    took = time.perf_counter() - began
    if proc.returncode != 0 and not proc.stderr.strip().splitlines()[-1].isdigit():
        raise SystemExit(f"report failed: {proc.stderr.strip()[-500:]}")
    return int(proc.stderr.strip().splitlines()[-1]) / 1024, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 records instead of 10^4 and 10^6")
    args = parser.parse_args()
    sizes = (10_000, 100_000 if args.quick else 1_000_000)
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        for target in sizes:
            path = Path(tmp) / f"synthetic-{target}.yaml"
            path.write_text(to_yaml(make_model(target)), encoding="utf-8")
            result = run(load_scenario(path), out=Path(tmp) / f"run-{target}")
            peak, took = report_peak(Path(tmp) / f"run-{target}")
            records = result.manifest["records"]
            found.append((records, peak))
            print(f"report of {records:>9,} records: peak RSS {peak:6.0f} MB, {took:5.1f} s", flush=True)
    ratio = found[1][1] / found[0][1]
    verdict = "PASS" if ratio <= 1.5 else "MISS"
    print(f"ratio    peak({found[1][0]:,}) / peak({found[0][0]:,}) = {ratio:.2f}   (target <= 1.5)  {verdict}")


if __name__ == "__main__":
    main()
