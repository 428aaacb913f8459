"""Property: whatever is done to a scenario file, coopsim loads it or refuses it in located lines.

Hypothesis mutates the bundled scenarios structurally (see ``mutants.py``):
it deletes keys, changes the types of values, duplicates entries, renames ids,
swaps references, and injects YAML constructs (alias bombs, tags, merge keys,
deep nesting, control characters, second documents). Every mutant must either
be valid (then it is linted and run, every variant, without error) or be
refused with lines that are each ``file:line:col: ...``. Never a traceback,
never a hang. (Here the baseline is run; ``tools/fuzz_scenarios.py`` runs every
variant of every valid mutant.)

The suite runs 500 examples with a fixed seed (the ``ci`` profile in
``conftest.py``). For a long hunt, run many more with fresh randomness::

    pytest tests/test_fuzz.py --hypothesis-profile=fuzz          # 20,000 examples
    COOPSIM_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz.py --hypothesis-profile=fuzz
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from mutants import judge, mutate

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "scenarios").glob("*.yaml")) + [ROOT / "tests" / "data" / "mini.yaml"]
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in SOURCES}


@given(name=st.sampled_from(sorted(TEXTS)), rng=st.randoms(use_true_random=False), rounds=st.integers(1, 3))
def test_a_mutated_scenario_is_valid_or_refused_in_located_lines(tmp_path_factory, name, rng, rounds):
    path = tmp_path_factory.mktemp("mutant") / name
    path.write_text(mutate(TEXTS[name], rng, rounds), encoding="utf-8")
    verdict, detail = judge(str(path), record_limit=2_000, every_variant=False)
    assert verdict in ("valid", "refused"), detail
