"""The sha256 of every bundled scenario's event log, for every variant and a few seeds.

A refactoring that must change no behaviour shows it by printing the same
hashes before and after::

    python tools/log_hashes.py > before.json      # on the old code
    python tools/log_hashes.py > after.json       # on the new code
    diff before.json after.json && echo identical
"""

from __future__ import annotations

import hashlib
import json
import sys

from coopsim.engine import bundled_scenarios, load_scenario, run

SEEDS = (None, 1, 2)  # None: the scenario's own seed


def main() -> None:
    out = {}
    for b in bundled_scenarios():
        base = load_scenario(b.path)
        for variant in ["baseline", *base.variants]:
            scenario = load_scenario(b.path, variant=None if variant == "baseline" else variant)
            for seed in SEEDS:
                records = run(scenario, seed=seed, keep_records=True).records
                digest = hashlib.sha256("".join(r.json_line() for r in records).encode("utf-8")).hexdigest()
                out[f"{b.name} {variant} seed={seed if seed is not None else base.scenario.seed}"] = digest
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
