"""Peak memory of runaway runs: every bundled scenario with one fact re-issued every minute for ten years.

A scenario that generates work faster than its actors can handle it must stop
on a stated limit (``scenario.pending_limit``, ``scenario.record_limit``) with
its reason in the manifest, in bounded memory, instead of growing until the
machine runs out. For each bundled scenario and each of its facts this runs::

    coopsim run NAME --set facts.FACT.at=1h --set facts.FACT.every=1m --set scenario.duration=3650d

in a child process and reads the child's peak resident memory from the
kernel (``getrusage(RUSAGE_CHILDREN)``), with the run's outcome. The target
is a peak under 250 MB for every case. It reports against the target and
always exits 0: benchmarks report, they do not assert.

Usage::

    python benchmarks/runaway_memory.py            # every fact of every bundled scenario
    python benchmarks/runaway_memory.py --quick    # the first fact of each scenario
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from coopsim.engine import bundled_scenarios, load_scenario

TARGET_MB = 250


def peak_of(args: list[str], out: Path) -> tuple[float, dict]:
    """Run ``coopsim`` with ``args`` in a child process; its peak RSS in MB and the run's outcome."""
    code = (
        "import resource, runpy, sys\n"
        "sys.argv = ['coopsim', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('coopsim', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args, "--out", str(out)], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900
    )
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    try:
        outcome = json.loads((out / "manifest.json").read_text())["outcome"]
    except (OSError, ValueError, KeyError):
        outcome = {"status": "no run", "reason": proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else "?"}
    return peak_kb / 1024, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the first fact of each scenario")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for b in bundled_scenarios():
            facts = [f.id for f in load_scenario(b.path).facts]
            for fact in facts[:1] if args.quick else facts:
                settings = [f"facts.{fact}.at=1h", f"facts.{fact}.every=1m", "scenario.duration=3650d"]
                out = Path(tmp) / f"{b.name}-{fact}"
                peak, outcome = peak_of(["run", b.name, *[x for s in settings for x in ("--set", s)]], out)
                rows.append((b.name, fact, peak, outcome))
                print(f"{b.name:<30} {fact:<24} peak {peak:6.0f} MB  {outcome['status']}: {outcome['reason'][:90]}", flush=True)
    worst = max(rows, key=lambda r: r[2])
    verdict = "met" if worst[2] < TARGET_MB else "NOT met"
    print(f"\nworst peak: {worst[2]:.0f} MB ({worst[0]}, facts.{worst[1]}); target under {TARGET_MB} MB: {verdict}")
    print(f"cases: {len(rows)}; stopped by a limit: {sum(r[3]['status'] == 'stopped' for r in rows)}; machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
