"""A random-mutation fuzzer for scenario files, run outside the test suite.

It takes the bundled scenarios (and ``tests/data/mini.yaml``), mutates each
many times the way authors and attackers break files (see
``tests/mutants.py``), and judges every mutant as coopsim would meet it:
loaded, linted and run if valid, or refused with located ``file:line:col``
lines. Anything else is a finding: a traceback, an unlocated message, a hang
(over ``--timeout`` seconds) or running out of memory (``--memory`` MB).

Usage::

    python tools/fuzz_scenarios.py -n 2000 --seed 1     # prints findings and a summary; exit 1 if any
    python tools/fuzz_scenarios.py -n 200 --rounds 3    # three mutations on each mutant
"""

from __future__ import annotations

import argparse
import random
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mutants import judge, mutate  # noqa: E402


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="mutants to try (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--rounds", type=int, default=1, help="mutations per mutant (default 1)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds before a mutant counts as a hang (default 10)")
    parser.add_argument("--memory", type=int, default=2048, help="address-space limit in MB (default 2048)")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (args.memory << 20, args.memory << 20))
    signal.signal(signal.SIGALRM, _alarm)
    sources = sorted((ROOT / "scenarios").glob("*.yaml")) + [ROOT / "tests" / "data" / "mini.yaml"]
    texts = {p.name: p.read_text(encoding="utf-8") for p in sources}
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    findings = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            name = rng.choice(sorted(texts))
            text = mutate(texts[name], rng, args.rounds)
            path = Path(tmp) / f"mutant-{i}-{name}"
            path.write_text(text, encoding="utf-8")
            signal.alarm(args.timeout)
            try:
                verdict, detail = judge(str(path))
            except Hang:
                verdict, detail = "BAD", f"no answer in {args.timeout} s"
            except MemoryError:
                verdict, detail = "BAD", f"out of memory ({args.memory} MB)"
            finally:
                signal.alarm(0)
            counts[verdict] += 1
            if verdict == "BAD":
                keep = ROOT / "tools" / "findings" / path.name
                keep.parent.mkdir(exist_ok=True)
                keep.write_text(text, encoding="utf-8")
                findings.append((keep, detail))
                print(f"FINDING {keep}\n{detail}\n", flush=True)
    took = time.perf_counter() - began
    tally = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"{args.n} mutants (seed {args.seed}, {args.rounds} round(s) each) in {took:.0f} s: {tally}")
    print(f"findings: {len(findings)}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
