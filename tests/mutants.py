"""Structural mutations of scenario files, the way authors and attackers break them.

Used by the property-based test (``test_fuzz.py``, driven by Hypothesis) and by
the stand-alone fuzzer (``tools/fuzz_scenarios.py``, driven by a seeded
``random.Random``). Each mutation takes the text of a valid scenario and a
random source, and returns broken (or, by chance, still valid) text:

* **data mutations** parse the YAML, change the data, and write it back:
  delete a key, change a value's type, duplicate an entry, rename an id,
  point a reference somewhere else, set a number or duration to an extreme;
* **text mutations** inject a YAML construct into the text: an anchor and
  alias (an alias bomb among them), a tag, a merge key, a duplicate key, deep
  nesting, a control character, a tab, a lone bracket, a second document.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import yaml

Path_ = tuple[Any, ...]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1e308,
    -1e-308,
    2**70,
    "",
    " ",
    "x" * 300,
    "0h",
    "-5h",
    "1e20d",
    "99999999999999999999d",
    "nan",
    ".inf",
    "2009-13-45",
    [],
    {},
    [1, "a", None],
    {"dist": "triangular", "low": "2d", "mode": "1d", "high": "3h"},
    {"dist": "normal", "mean": "1h", "sd": "100w"},
    {"dist": "lognormal", "mean": "0h", "sd": "1h"},
    {"dist": "nope"},
    {"at": "1h", "inject": 1},
    {"from": "20d", "until": "3d"},
    "javascript:alert(1)",
    "=cmd|' /C calc'!A0",
    "ünïcödé ☃ \u202e",
]

CONSTRUCTS = [
    "!!python/object/apply:os.system ['echo pwned']",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!!timestamp soon",
    "!!int x",
    "!!float abc",
    "!!bool maybe",
    "!!str",
    "!custom value",
    "2005-02-30T25:61:00Z",
    "*undefined_alias",
    "&anchor_only value",
    "{<<: {a: 1}}",
    "[" * 150 + "]" * 150,
    "{a: " * 120 + "1" + "}" * 120,
    "[unclosed",
    "{a: 1, a: 2}",
    "'unterminated",
    "| \n   block",
    "\x00",
    "\x07bell",
    "\ufeff",
    "\t tabbed",
    "? [complex, key]\n  : value",
    "9" * 5000,
]


class _TooBig(Exception):
    """The data is too big to walk: an alias bomb from an earlier round, shared and multiplied."""


def _paths(data: Any, cap: int = 50_000) -> list[Path_]:
    """Every path into ``data`` (mapping keys and list indices), the root excluded; at most ``cap`` of them."""
    out: list[Path_] = []
    todo: list[tuple[Any, Path_]] = [(data, ())]
    while todo:
        node, path = todo.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            out.append(path + (k,))
            if len(out) > cap:
                raise _TooBig()
            todo.append((v, path + (k,)))
    return out


def _get(data: Any, path: Path_) -> Any:
    for p in path:
        data = data[p]
    return data


def _ids(data: Any) -> list[Path_]:
    return [p for p in _paths(data) if p and p[-1] in ("id", "seq", "owner", "from", "to", "site", "fact", "request", "approver")]


def delete_key(data: Any, rng: random.Random) -> None:
    keys = [p for p in _paths(data) if isinstance(_get(data, p[:-1]), dict)]
    if keys:
        p = rng.choice(keys)
        del _get(data, p[:-1])[p[-1]]


def change_type(data: Any, rng: random.Random) -> None:
    paths = _paths(data)
    if paths:
        p = rng.choice(paths)
        _get(data, p[:-1])[p[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))


def duplicate_entry(data: Any, rng: random.Random) -> None:
    lists = [p for p in _paths(data) if isinstance(_get(data, p), list) and _get(data, p)]
    if lists:
        items = _get(data, rng.choice(lists))
        items.insert(rng.randrange(len(items) + 1), copy.deepcopy(rng.choice(items)))


def rename_id(data: Any, rng: random.Random) -> None:
    refs = _ids(data)
    if refs:
        p = rng.choice(refs)
        old = _get(data, p)
        _get(data, p[:-1])[p[-1]] = rng.choice([f"{old}_renamed", "nobody", 999, "", "Bad Id!", None])


def swap_reference(data: Any, rng: random.Random) -> None:
    refs = _ids(data)
    if len(refs) >= 2:
        a, b = rng.sample(refs, 2)
        va, vb = _get(data, a), _get(data, b)
        _get(data, a[:-1])[a[-1]], _get(data, b[:-1])[b[-1]] = vb, va


DATA_MUTATIONS: list[Callable[[Any, random.Random], None]] = [delete_key, change_type, duplicate_entry, rename_id, swap_reference]


def inject_construct(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    n = rng.randrange(len(lines))
    line = lines[n]
    construct = rng.choice(CONSTRUCTS)
    if ":" in line and rng.random() < 0.7:  # as the value of a key
        head, _, _ = line.partition(":")
        lines[n] = f"{head}: {construct}\n"
    else:  # as a line of its own, or in the middle of one
        cut = rng.randrange(len(line) + 1)
        lines[n] = line[:cut] + construct + line[cut:]
    return "".join(lines)


def alias_bomb(text: str, rng: random.Random) -> str:
    """A "billion laughs" (sequence or mapping shaped) placed at the top, in a variant, or as a decision patch."""
    levels = rng.randint(6, 10)
    mapping = rng.random() < 0.5
    bomb = ["x0: &x0 " + ("{a: lol, b: lol}" if mapping else "[lol, lol, lol, lol, lol, lol, lol, lol, lol]")]
    for i in range(1, levels):
        refs = [f"*x{i - 1}"] * 9
        body = "{" + ", ".join(f"k{j}: {r}" for j, r in enumerate(refs)) + "}" if mapping else f"[{', '.join(refs)}]"
        bomb.append(f"x{i}: &x{i} {body}")
    where = rng.choice(["top", "variants"])
    if where == "variants" and "\nvariants:\n" in text:
        block = "".join(f"  bomb{i}:\n    description: {line}\n" for i, line in enumerate(bomb))
        return text.replace("\nvariants:\n", "\nvariants:\n" + block, 1)
    return "\n".join(bomb) + "\n" + text


def deep_nesting(text: str, rng: random.Random) -> str:
    depth = rng.choice([150, 1000, 20000])
    if rng.random() < 0.5:
        return text + "deep: " + "[" * depth + "]" * depth + "\n"
    return text + "".join(" " * i + f"k{i}:\n" for i in range(min(depth, 400))) + " " * min(depth, 400) + "v\n"


def second_document(text: str, rng: random.Random) -> str:
    return text + "---\n" + text[: rng.randrange(len(text))]


TEXT_MUTATIONS: list[Callable[[str, random.Random], str]] = [inject_construct, alias_bomb, deep_nesting, second_document]


def mutate(text: str, rng: random.Random, rounds: int = 1) -> str:
    """``text`` with ``rounds`` random mutations applied, data and text alike."""
    for _ in range(rounds):
        data = None
        if rng.random() < 0.6:
            try:
                data = yaml.load(text, Loader=_Loader)
            except Exception:  # an earlier round broke the YAML itself: mutate the text instead
                data = None
        dumped = None
        if isinstance(data, (dict, list)):
            try:
                rng.choice(DATA_MUTATIONS)(data, rng)
                dumped = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
            except Exception:  # data too big or too deep for the dumper: mutate the text instead
                dumped = None
        text = dumped if dumped is not None else rng.choice(TEXT_MUTATIONS)(text, rng)
    return text


LOCATED = r"^.+:\d+:\d+: \S.*$"
"""What every problem line looks like: ``file:line:col: what is wrong (what was expected)``."""


def judge(path: str, record_limit: int = 5_000, every_variant: bool = True) -> tuple[str, str]:
    """Load (and if valid, lint and run) the scenario at ``path``: ``("valid"|"refused"|"BAD", detail)``.

    ``BAD`` is anything but a clean outcome: an exception other than a
    ScenarioError, or a refusal whose lines are not each located.
    """
    import re
    import traceback

    from coopsim.engine import ScenarioError, load_scenario, run
    from coopsim.engine.scenario.lint import warnings

    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        lines = [str(p) for p in exc.problems]
        bad = [line for line in lines if "\n" in line or not re.match(LOCATED, line)]
        if not lines or bad:
            return "BAD", f"unlocated refusal: {(bad or ['(no lines)'])[0][:300]!r}"
        return "refused", lines[0]
    except BaseException as exc:  # noqa: BLE001 - the point is to catch anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        return "BAD", "".join(traceback.format_exception(exc)[-3:])
    try:
        [str(w) for w in warnings(scenario)]
        for variant in ["baseline", *scenario.variants] if every_variant else ["baseline"]:
            from coopsim.engine import apply_variant

            result = run(apply_variant(scenario, variant), record_limit=record_limit)
            if result.outcome.status == "failed":
                return "BAD", result.outcome.reason
    except ScenarioError as exc:
        return "BAD", f"a valid scenario failed later: {exc.problems[0]}"
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        return "BAD", "".join(traceback.format_exception(exc)[-3:])
    return "valid", scenario.scenario.name
