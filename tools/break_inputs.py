#!/usr/bin/env python3
"""Adversarial input harness for the ``coopsim`` command line.

coopsim's rule for bad input of any kind: exactly ONE clear line on stderr
naming the file (and line/column, row or field where that applies), exit
status 1, no Python traceback, an answer within 2 s, and bounded memory.

This script writes a corpus of broken inputs into a fresh directory (the ways
careless authors and attackers break files), runs each one through the CLI as
``sys.executable -m coopsim ...`` in its own process group (10 s timeout,
~1.5 GB address-space limit, TERM=dumb, stdin from /dev/null), and classifies
the result:

  ok             exit 0 (no traceback on stderr)
  refused        exit 1, stderr is exactly one located line, no traceback
  refused-multi  exit 1, several stderr lines, every one located
  BAD            anything else, with the reasons: traceback, exit code other
                 than 0/1, unlocated or several unlocated lines, slower than
                 2 s, timed out, killed (signal) or out of memory
  SKIP           the case could not be built (e.g. a setup run failed)

A line is "located" when it starts with one of the case's input paths (or a
file inside an input directory) followed by ':' -- e.g. ``f.yaml:12:5: ...``,
``msel.csv:4: ...``, ``RUN/events.jsonl:3: ...`` -- or with the option it
concerns (``--set a=b:1:7: ...``, ``--param ...``).

Time budget: a refusal must come within 2 s. An accepted input (exit 0) may
take as long as the command's legitimate work needs: 2 s for validate, run
and msel, 6 s for the commands that draw charts (report, play, compare,
sweep); slower than that is BAD ("slow accept").  A stderr line longer than
2,000 characters is also BAD ("overlong line"), since it is not a clear line.

Usage:
  python tools/break_inputs.py                    # everything (a few minutes on 2 cores)
  python tools/break_inputs.py --only set/        # a subset, by substring of the case name
  python tools/break_inputs.py --keep /tmp/corpus # keep the corpus, outputs and results.json
  python tools/break_inputs.py --list             # list the case names

It only reads the repository (tests/data/mini.yaml and scenarios/*.yaml) and
writes nothing outside its own directory.
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MINI = REPO / "tests" / "data" / "mini.yaml"
BUNDLED = REPO / "scenarios"

MEM_LIMIT = 1536 * 1024 * 1024  # RLIMIT_AS of each case, bytes
FSIZE_LIMIT = 256 * 1024 * 1024  # RLIMIT_FSIZE: no case may write a file bigger than this
ANSWER_LIMIT = 2.0  # seconds for a refusal
OK_BUDGET = {"validate": 2.0, "run": 2.0, "msel": 2.0, "report": 6.0, "play": 6.0, "compare": 6.0, "sweep": 6.0}
LONG_LINE = 2000
OPTION_LABELS = (
    "--set",
    "--param",
    "--script",
    "--decisions",
    "--as",
    "--session",
    "--variant",
    "--variants",
    "--seed",
    "--out",
    "--into",
    "--format",
    "--workers",
    "--replications",
    "-n",
    "--from",
)

# --------------------------------------------------------------------------------------------
# corpus helpers


class BuildError(Exception):
    """A case could not be built (its template text was not found, a setup run failed...)."""


def sub(text: str, old: str, new: str, count: int = 1) -> str:
    if old not in text:
        raise BuildError(f"template text not found: {old[:60]!r}")
    return text.replace(old, new, count)


def flow_bomb_seq(levels: int = 9, width: int = 9) -> str:
    """A one-line YAML 'billion laughs' sequence: width**levels leaves from a few hundred bytes."""
    parts = ["&l0 [" + ",".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        parts.append(f"&l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]")
    return "[" + ", ".join(parts) + "]"


def flow_bomb_map(levels: int = 9, width: int = 9) -> str:
    """The mapping-shaped bomb, as one flow mapping."""
    parts = ["&m0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"]
    for i in range(1, levels):
        parts.append(f"&m{i} {{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(width)) + "}")
    return "{" + ", ".join(f"b{i}: {p}" for i, p in enumerate(parts)) + "}"


def block_bomb_seq(levels: int = 9, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ",".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def block_bomb_seq_no_commas(levels: int = 9, width: int = 9) -> str:
    """The block-style bomb without a single comma (survives `--param PATH=V1,V2` splitting)."""
    out = ["l0: &l0\n" + "- lol\n" * width]
    for i in range(1, levels):
        out.append(f"l{i}: &l{i}\n" + f"- *l{i - 1}\n" * width)
    return "".join(out)


def block_bomb_map(levels: int = 9, width: int = 9) -> str:
    lines = ["m0: &m0\n" + "".join(f"  k{j}: lol\n" for j in range(width))]
    for i in range(1, levels):
        lines.append(f"m{i}: &m{i}\n" + "".join(f"  k{j}: *m{i - 1}\n" for j in range(width)))
    return "".join(lines)


def wide_bomb() -> str:
    """Two levels only: a 100,000-item list repeated 1,000 times (1e8 values)."""
    return "[&w [" + ",".join(["x"] * 100_000) + "], [" + ",".join(["*w"] * 1000) + "]]"


def deep_block_map(depth: int) -> str:
    return "".join(" " * i + f"k{i}:\n" for i in range(depth)) + " " * depth + "leaf\n"


def big_chunks(head: str, filler: bytes, total: int, tail: str = "") -> Iterable[bytes]:
    """``head`` + ``filler`` repeated to ``total`` bytes + ``tail``, in chunks (never all in memory)."""
    yield head.encode()
    block = filler * max(1, (1 << 20) // len(filler))
    written = len(head)
    while written < total:
        chunk = block[: total - written]
        written += len(chunk)
        yield chunk
    yield tail.encode()


BIG = 52 * 1024 * 1024  # "a file over 50 MB"
DIGITS_5000 = "1" + "2345678901" * 500


@dataclass
class PathOnly:
    """A case input that is not written as a file (a directory, /dev/zero, a FIFO...)."""

    path: str


@dataclass
class Ctx:
    root: Path
    mini: str
    setup: dict[str, Path] = field(default_factory=dict)
    _written: dict[str, str] = field(default_factory=dict)

    @property
    def corpus(self) -> Path:
        return self.root / "corpus"

    def file(self, rel: str, data: Any) -> str:
        """Write ``data`` (str, bytes, iterable of bytes, or PathOnly) to corpus/rel; the path as text."""
        if isinstance(data, PathOnly):
            return data.path
        if rel in self._written:
            return self._written[rel]
        path = self.corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_bytes(data.encode("utf-8", "surrogatepass"))
        elif isinstance(data, (bytes, bytearray)):
            path.write_bytes(data)
        else:
            with path.open("wb") as fh:
                for chunk in data:
                    fh.write(chunk)
        self._written[rel] = str(path)
        return str(path)

    def work(self, case: str) -> Path:
        d = self.root / "work" / slug(case)
        d.mkdir(parents=True, exist_ok=True)
        return d


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


# --------------------------------------------------------------------------------------------
# cases


@dataclass
class Case:
    name: str
    build: Callable[[Ctx], tuple[list[Any], list[str]]]
    expect: str = "refuse"  # refuse | ok | any
    needs: tuple[str, ...] = ()
    timeout: float | None = None
    argv: list[Any] | None = None
    prefixes: list[str] = field(default_factory=list)
    workdir: Path | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str:
        if not self.argv:
            return "?"
        first = self.argv[0]
        return first if isinstance(first, str) else "?"


CASES: list[Case] = []


def add(name: str, build, expect: str = "refuse", needs: tuple[str, ...] = ()) -> None:
    CASES.append(Case(name, build, expect, needs))


def out_dir(ctx: Ctx, name: str) -> str:
    return str(ctx.work(name) / "out")


# ---- scenario YAML ---------------------------------------------------------------------------


def scen(name: str, make: Callable[[Ctx], Any], cmds: tuple[str, ...] = ("validate",), expect: str = "refuse", ext: str = ".yaml"):
    """A scenario file, run through each command in ``cmds`` (validate, run, play)."""
    for cmd in cmds:
        full = f"yaml.{cmd}/{name}"

        def build(ctx: Ctx, cmd=cmd, full=full):
            path = ctx.file(f"yaml/{slug(name)}{ext}", make(ctx))
            if cmd == "validate":
                return ["validate", path], [path]
            if cmd == "run":
                out = out_dir(ctx, full)
                return ["run", path, "--out", out], [path, out]
            if cmd == "play":
                script = ctx.file("session/_ok.yaml", "decisions: {}\n")
                out = out_dir(ctx, full)
                return ["play", path, "--script", script, "--out", out, "-n", "0"], [path, script, out]
            if cmd == "export":
                out = str(ctx.work(full) / "msel.csv")
                return ["msel", "export", path, "--out", out], [path, out]
            raise BuildError(cmd)

        add(full, build, expect)


def m(transform: Callable[[str], str]) -> Callable[[Ctx], str]:
    """A maker that transforms the text of tests/data/mini.yaml."""
    return lambda ctx: transform(ctx.mini)


DESC = "  description: A small UN request for NATO airlift, for tests."
START = "  start: 2005-10-10T00:00:00Z"
DURATION = "  duration: 10d"
SEED = "  seed: 1\n"
SURGE_PATCH = "patch: {assets.c17.load_time: 1h}"
OCHA = "  - {id: un_ocha, name: UN OCHA, family: UN, staff: 1, processing: 1h}"
CHANNEL = "  - {id: un_nato, between: [un_ocha, eadrcc], kind: formal, latency: 6h, max_marking: unclassified}"
ASSET = "count: 2, capacity: 40"
LIAISON = "liaison: []"
DECISIONS = "\ndecision_points:"


def with_variant(patch_yaml: str) -> Callable[[str], str]:
    return lambda t: t.rstrip("\n") + "\n  extra:\n    description: an added variant\n    patch: " + patch_yaml + "\n"


def with_injects(*items: str) -> Callable[[str], str]:
    return lambda t: sub(t, DECISIONS, "".join(f"  - {i}\n" for i in items) + DECISIONS)


def with_liaison(*items: str) -> Callable[[str], str]:
    return lambda t: sub(t, LIAISON, "liaison:\n" + "".join(f"  - {i}\n" for i in items))


def scalar_at(line: str, key: str, value: str) -> Callable[[str], str]:
    return lambda t: sub(t, line, f"  {key}: {value}")


def define_scenario_cases() -> None:
    scen("control-mini", lambda ctx: ctx.mini, cmds=("validate", "run"), expect="ok")
    # --- billion laughs
    scen("bomb-seq-toplevel-block", lambda ctx: block_bomb_seq())
    scen("bomb-seq-in-description", m(lambda t: sub(t, DESC, "  description: " + flow_bomb_seq())), cmds=("validate", "run"))
    scen("bomb-map-in-description", m(lambda t: sub(t, DESC, "  description: " + flow_bomb_map())))
    scen("bomb-seq-in-variant-patch", m(with_variant("{scenario.sources: " + flow_bomb_seq() + "}")), cmds=("validate", "run"))
    scen("bomb-map-as-variant-patch", m(with_variant(flow_bomb_map())))
    scen(
        "bomb-seq-in-option-patch",
        m(lambda t: sub(t, SURGE_PATCH, "patch: {assets.c17.load_time: 1h, scenario.sources: " + flow_bomb_seq() + "}")),
        cmds=("validate", "play"),
    )
    scen("bomb-map-as-option-patch", m(lambda t: sub(t, SURGE_PATCH, "patch: " + flow_bomb_map())))
    scen("bomb-medium-6-levels", m(lambda t: sub(t, DESC, "  description: " + flow_bomb_seq(6))))
    scen("bomb-wide-1e8", m(lambda t: sub(t, DESC, "  description: " + wide_bomb())))
    scen("bomb-alias-as-key", lambda ctx: "a: &a [x, y]\n? *a\n: 1\n")
    scen("bomb-alias-cycle", lambda ctx: "a: &a [1, *a]\n")
    scen(
        "bomb-string-alias-x2000",
        m(lambda t: sub(t, '  sources: ["test fixture"]', '  sources: [&s "' + "S" * 1_000_000 + '"' + ", *s" * 1999 + "]")),
        cmds=("validate", "run"),
    )
    # --- deep nesting
    scen("deep-flow-seq-20000", lambda ctx: "scenario: " + "[" * 20000 + "]" * 20000 + "\n")
    scen("deep-flow-seq-20000-unclosed", lambda ctx: "scenario: " + "[" * 20000 + "\n")
    scen("deep-flow-map-20000", lambda ctx: "scenario: " + "{a: " * 20000 + "}" * 20000 + "\n")
    scen("deep-block-map-3000", lambda ctx: deep_block_map(3000))
    scen("deep-block-seq-3000", lambda ctx: "- " * 3000 + "x\n")
    scen(
        "deep-400-in-option-patch",
        m(lambda t: sub(t, SURGE_PATCH, "patch: {assets.c17.load_time: 1h, scenario.sources: " + "[" * 400 + "]" * 400 + "}")),
    )
    scen("deep-dotted-key-10000-in-option-patch", m(lambda t: sub(t, SURGE_PATCH, "patch: {" + "a." * 10000 + "b: 1}")))
    # --- size
    scen("huge-52mb-comment", lambda ctx: big_chunks(ctx.mini + "\n", b"# " + b"x" * 97 + b"\n", BIG))
    scen("huge-52mb-one-string", lambda ctx: big_chunks(ctx.mini.replace(DESC + "\n", "") + "\nzz: ", b"y" * 4096, BIG, "\n"))
    scen("huge-52mb-list", lambda ctx: big_chunks(*_split(ctx.mini, '  sources: ["test fixture"]\n', "  sources:\n", b"    - src\n")))
    scen("long-1mb-missing-actor-id", m(lambda t: sub(t, "between: [un_ocha, eadrcc]", "between: [un_ocha, " + "z" * 1_000_000 + "]")))
    scen("long-1mb-key", m(lambda t: t + "k" * 1_000_000 + ": 1\n"))
    scen("long-1mb-name", m(lambda t: sub(t, "  name: Mini airlift", "  name: " + "N" * 1_000_000)), cmds=("validate", "run"), expect="any")
    # --- scalars YAML cannot construct
    for label, line, key, value in [
        ("start-2009-13-45", START, "start", "2009-13-45"),
        ("start-tag-timestamp-soon", START, "start", "!!timestamp soon"),
        ("start-year-0", START, "start", "0000-01-01T00:00:00Z"),
        ("start-tz-overflow", START, "start", "9999-12-31T23:59:59-23:59"),
        ("seed-tag-int-x", SEED.rstrip("\n"), "seed", "!!int x"),
        ("seed-tag-bool-maybe", SEED.rstrip("\n"), "seed", "!!bool maybe"),
        ("seed-int-5000-digits", SEED.rstrip("\n"), "seed", DIGITS_5000),
        ("seed-0b_", SEED.rstrip("\n"), "seed", "0b_"),
        ("seed-tag-binary", SEED.rstrip("\n"), "seed", "!!binary aGVsbG8="),
        ("seed-tag-python-object", SEED.rstrip("\n"), "seed", "!!python/object:os.system x"),
        ("seed-tag-python-apply", SEED.rstrip("\n"), "seed", '!!python/object/apply:os.system ["true"]'),
        ("seed-tag-set", SEED.rstrip("\n"), "seed", "!!set {a, b}"),
        ("seed-tag-omap", SEED.rstrip("\n"), "seed", "!!omap [a: 1, b: 2]"),
        ("seed-tag-map-on-scalar", SEED.rstrip("\n"), "seed", "!!map x"),
        ("seed-tag-int-on-seq", SEED.rstrip("\n"), "seed", "!!int [1, 2]"),
        ("seed-custom-tag", SEED.rstrip("\n"), "seed", "!foo 1"),
        ("seed-verbatim-tag", SEED.rstrip("\n"), "seed", "!<tag:yaml.org,2002:int> x"),
        ("staff-int-5000-digits", OCHA, "- {id: un_ocha, name: UN OCHA, family: UN, staff", DIGITS_5000 + ", processing: 1h}"),
    ]:
        scen(f"scalar-{label}", m(scalar_at(line, key, value)))
    scen("scalar-key-tag-int-x", m(lambda t: t + "? !!int x\n: 1\n"))
    scen("scalar-key-bad-timestamp", m(lambda t: t + "2009-13-45: 1\n"))
    scen(
        "scalar-tag-directive-python",
        lambda ctx: "%TAG !p! tag:yaml.org,2002:python/\n---\n" + sub(ctx.mini, SEED, "  seed: !p!object:os.system x\n"),
    )
    scen("scalar-yaml-1.3-directive", lambda ctx: "%YAML 1.3\n---\n" + ctx.mini, expect="any")
    # --- bytes and line endings
    scen("nul-in-value", lambda ctx: sub(ctx.mini, "Mini airlift", "Mini\x00airlift").encode())
    scen("nul-at-start", lambda ctx: b"\x00" + ctx.mini.encode())
    scen("invalid-utf8", lambda ctx: sub(ctx.mini, "Mini airlift", "Mini").encode() + b"\nx: \xff\xfe\xfd\n")
    scen("invalid-utf8-surrogate-bytes", lambda ctx: ctx.mini.encode() + b"x: \xed\xa0\x80\n")
    scen("utf16-with-bom", lambda ctx: ctx.mini.encode("utf-16"))
    scen("utf8-bom", lambda ctx: b"\xef\xbb\xbf" + ctx.mini.encode(), expect="ok")
    scen("crlf", lambda ctx: ctx.mini.replace("\n", "\r\n"), expect="ok")
    scen("cr-only", lambda ctx: ctx.mini.replace("\n", "\r"), expect="ok")
    scen("tab-indent", m(lambda t: sub(t, "  name: Mini airlift", "\tname: Mini airlift")))
    scen(
        "escape-lone-surrogate",
        m(lambda t: sub(t, "  name: Mini airlift", '  name: "Mini \\ud800 airlift"')),
        cmds=("validate", "run"),
        expect="any",
    )
    scen(
        "escape-nul-in-name",
        m(lambda t: sub(t, "  name: Mini airlift", '  name: "Mini \\x00 airlift"')),
        cmds=("validate", "run"),
        expect="any",
    )
    # --- structure
    scen("merge-key", m(lambda t: sub(t, "actors:\n", "base: &base {family: UN, staff: 1}\nactors:\n  - {<<: *base, id: un_x, name: X}\n")))
    scen("duplicate-key-top", m(lambda t: t + "actors: []\n"))
    scen("duplicate-key-nested", m(lambda t: sub(t, SEED, "  seed: 1\n  seed: 2\n")))
    scen("complex-key-seq", m(lambda t: t + "? [a]\n: 1\n"))
    scen("complex-key-map", m(lambda t: t + "? {a: 1}\n: 1\n"))
    scen("toplevel-list", lambda ctx: "- a\n- b\n")
    scen("toplevel-scalar", lambda ctx: "just some text\n")
    scen("empty-file", lambda ctx: "")
    scen("two-documents", lambda ctx: ctx.mini + "---\n" + ctx.mini)
    scen("directory", lambda ctx: PathOnly(str(ctx.corpus)), cmds=("validate", "run"))
    scen("nonexistent", lambda ctx: PathOnly(str(ctx.corpus / "no-such-file.yaml")))
    scen("dev-zero", lambda ctx: PathOnly("/dev/zero"))
    scen("fifo-without-writer", lambda ctx: PathOnly(_fifo(ctx, "yaml/fifo.yaml")))
    # --- numbers and times
    for label, line, key, value, cmds in [
        ("duration-1e20d", DURATION, "duration", "1e20d", ("validate",)),
        ("duration-inf", DURATION, "duration", "inf", ("validate",)),
        ("duration-dot-inf", DURATION, "duration", ".inf", ("validate",)),
        ("duration-minus-1d", DURATION, "duration", "-1d", ("validate",)),
        ("duration-20-digit-days", DURATION, "duration", "99999999999999999999d", ("run",)),
        ("duration-400-digit-hours", DURATION, "duration", "9" * 400 + "h", ("run",)),
        ("seed-negative", SEED.rstrip("\n"), "seed", "-1", ("run",)),
        ("seed-2pow70", SEED.rstrip("\n"), "seed", str(2**70), ("run",)),
    ]:
        scen(f"num-{label}", m(scalar_at(line, key, value)), cmds=cmds, expect="any" if label.startswith("seed") else "refuse")
    scen(
        "num-latency-400-digit-hours",
        m(lambda t: sub(t, "latency: 6h, max_marking", "latency: " + "9" * 400 + "h, max_marking")),
        cmds=("run",),
        expect="any",
    )
    scen("num-staff-negative", m(lambda t: sub(t, "family: UN, staff: 1", "family: UN, staff: -1")))
    scen("num-count-negative", m(lambda t: sub(t, ASSET, "count: -5, capacity: 40")))
    scen("num-quantity-negative", m(lambda t: sub(t, "quantity: 100", "quantity: -1")))
    scen("num-record-limit-0", m(lambda t: sub(t, SEED, SEED + "  record_limit: 0\n")))
    scen("num-max-attempts-0", m(lambda t: sub(t, "latency: 6h, max_marking", "latency: 6h, max_attempts: 0, max_marking")))
    scen("num-staff-1e9", m(lambda t: sub(t, "family: UN, staff: 1", "family: UN, staff: 1000000000")), cmds=("run",), expect="any")
    scen("num-asset-count-1e9", m(lambda t: sub(t, ASSET, "count: 1000000000, capacity: 40")), cmds=("run",), expect="any")
    scen("num-quantity-inf", m(lambda t: sub(t, "quantity: 100", "quantity: .inf")), cmds=("validate", "run"), expect="any")
    scen("num-quantity-nan", m(lambda t: sub(t, "quantity: 100", "quantity: .nan")), cmds=("validate", "run"), expect="any")
    scen("num-capacity-inf", m(lambda t: sub(t, ASSET, "count: 2, capacity: .inf")), cmds=("run",), expect="any")
    scen(
        "num-thresholds-nan",
        m(lambda t: sub(t, "thresholds: {P: 72, S: 96, M: 144}", "thresholds: {P: .nan, S: .nan, M: .nan}")),
        cmds=("validate", "run"),
        expect="any",
    )
    scen("num-target-inf", m(lambda t: sub(t, "target: 72", "target: .inf")), cmds=("run",), expect="any")
    scen(
        "num-loss-nan",
        m(lambda t: sub(t, "latency: 6h, max_marking", "latency: 6h, loss: .nan, max_marking")),
        cmds=("validate", "run"),
        expect="any",
    )
    scen(
        "num-speed-tiny",
        m(
            lambda t: sub(t, ASSET, "count: 2, speed_kmh: 1.0e-300, capacity: 40").replace(
                "{from: ramstein, to: islamabad, mode: air, time: 10h}", "{from: ramstein, to: islamabad, mode: air, distance_km: 6000}"
            )
        ),
        cmds=("run",),
        expect="any",
    )
    scen(
        "num-fact-every-1s",
        m(lambda t: sub(t, "distribution: [un_ocha, nac], at: 2d}", "distribution: [un_ocha, nac], at: 0h, every: 1s}")),
        cmds=("run",),
        expect="any",
    )
    scen(
        "dist-uniform-low-gt-high",
        m(lambda t: sub(t, "staff: 2, processing: 1h}", "staff: 2, processing: {dist: uniform, low: 5h, high: 1h}}")),
        cmds=("validate", "run"),
    )
    scen(
        "dist-triangular-mode-outside",
        m(lambda t: sub(t, "staff: 2, processing: 1h}", "staff: 2, processing: {dist: triangular, low: 1h, mode: 9h, high: 2h}}")),
        cmds=("validate", "run"),
    )
    scen(
        "dist-lognormal-sd-huge",
        m(lambda t: sub(t, "staff: 2, processing: 1h}", "staff: 2, processing: {dist: lognormal, mean: 1h, sd: 1000000h}}")),
        cmds=("run",),
        expect="any",
    )
    scen(
        "dist-exponential-mean-0",
        m(lambda t: sub(t, "staff: 2, processing: 1h}", "staff: 2, processing: {dist: exponential, mean: 0h}}")),
        cmds=("validate", "run"),
        expect="any",
    )
    # --- windows, cycles, references
    scen(
        "window-liaison-absent-backwards",
        m(with_liaison("{id: clo, name: NATO CLO, from: eadrcc, at: un_ocha, absent: [{from: 23d, until: 20d}]}")),
        cmds=("validate", "run"),
    )
    scen(
        "window-liaison-absent-backwards-in-run",
        m(with_liaison("{id: clo, name: NATO CLO, from: eadrcc, at: un_ocha, absent: [{from: 5d, until: 2d}]}")),
        cmds=("validate", "run"),
    )
    scen(
        "window-agreement-until-before-from",
        m(
            lambda t: sub(
                t, "max_marking: unclassified}\n\nliaison", "max_marking: unclassified, valid_from: 5d, valid_until: 1d}\n\nliaison"
            )
        ),
        cmds=("validate", "run"),
    )
    scen(
        "cycle-inject-4-5",
        m(
            with_injects(
                "{seq: 4, trigger: {inject: 5}, to: [un_ocha], description: four}",
                "{seq: 5, trigger: {inject: 4}, to: [un_ocha], description: five}",
            )
        ),
        cmds=("validate", "run"),
    )
    scen("cycle-inject-self", m(with_injects("{seq: 6, trigger: {inject: 6}, to: [un_ocha], description: six}")), cmds=("validate", "run"))
    scen(
        "cycle-decision-self",
        m(lambda t: sub(t, "trigger: {request: airlift, state: approved}", "trigger: {decision: dp_priority, option: surge}")),
        cmds=("validate", "run"),
    )
    scen("ref-channel-missing-actor", m(lambda t: sub(t, "between: [un_ocha, eadrcc]", "between: [un_ocha, nobody]")))
    scen("ref-request-missing-site", m(lambda t: sub(t, "site: islamabad", "site: atlantis")))
    scen("ref-default-missing-option", m(lambda t: sub(t, "default: standard", "default: standrd")))
    scen("ref-option-patch-missing-entity", m(lambda t: sub(t, SURGE_PATCH, "patch: {assets.c99.load_time: 1h}")))
    scen("ref-variant-patch-missing-index", m(with_variant("{injects.99.time: 2h}")))
    scen("ref-variant-patch-negative-index", m(with_variant("{injects.-1.time: 2h}")))
    scen("ref-metric-unknown", m(lambda t: sub(t, "metric: rfa_cycle_time\n", "metric: rfa_cycle_tim\n")))
    scen("ref-renamed-actor-id", m(lambda t: sub(t, "{id: un_ocha,", "{id: un_ocha_renamed,")))
    scen("ref-variant-removes-actor", m(with_variant("{actors: {un_ocha: null}}")))
    scen(
        "formula-description-export",
        m(lambda t: sub(t, "description: Earthquake damage assessment arrives", "description: \"=HYPERLINK('http://x','y')\"")),
        cmds=("export",),
        expect="any",
    )
    scen("bomb-seq-export", m(lambda t: sub(t, DESC, "  description: " + flow_bomb_seq())), cmds=("export",))


def _split(text: str, old: str, new: str, filler: bytes) -> tuple[str, bytes, int, str]:
    """Arguments for big_chunks: ``text`` cut at ``old`` (replaced by ``new``), ``filler`` between, to BIG bytes."""
    if old not in text:
        raise BuildError(f"template text not found: {old[:60]!r}")
    head, _, tail = text.partition(old)
    return head + new, filler, BIG, tail


def _symlink_loop(ctx: Ctx) -> str:
    p = ctx.corpus / "yaml" / "loop.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.is_symlink():
        os.symlink(p.name, p)
    return str(p)


def _fifo(ctx: Ctx, rel: str) -> str:
    p = ctx.corpus / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists():
        os.mkfifo(p)
    return str(p)


# ---- wrong types, generated from mini.yaml and the bundled scenarios -------------------------

WRONGS: list[tuple[str, Any]] = [("list", [1, 2]), ("dict", {"x": 1}), ("null", None), ("bool", True), ("int", 7), ("str", "text")]


def _entity_fields(data: Any) -> Iterable[tuple[tuple[Any, ...], str]]:
    """(path to the entity, field name) for the first entity of every section."""
    for section, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for key in value[0]:
                yield (section, 0), key
        elif isinstance(value, dict):
            if section == "variants":
                first = next(iter(value), None)
                if first is not None and isinstance(value[first], dict):
                    for key in value[first]:
                        yield (section, first), key
            else:
                for key in value:
                    yield (section,), key


def _set_in(data: Any, path: tuple[Any, ...], key: str, value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for p in path:
        node = node[p]
    node[key] = value
    return data


def _yaml():
    try:
        import yaml
    except ImportError as exc:  # the venv has PyYAML (coopsim needs it); without it these cases are skipped
        raise BuildError(f"PyYAML is needed to build this case ({exc})") from None
    return yaml


def _mini_with_liaison(ctx: Ctx) -> Any:
    yaml = _yaml()
    text = sub(
        ctx.mini,
        LIAISON,
        "liaison:\n  - {id: clo, name: NATO CLO, from: eadrcc, at: un_ocha, count: 1, relay_time: 1h, absent: [{from: 1d, until: 2d}]}",
    )
    return yaml.safe_load(text)


def define_type_cases() -> None:
    # Which sections and fields exist is read from mini.yaml when the harness starts.
    try:
        yaml = _yaml()
        base = _mini_with_liaison(Ctx(Path("."), MINI.read_text(encoding="utf-8")))
    except Exception:  # noqa: BLE001 - the cases below are then simply not defined
        return
    for i, section in enumerate(base):
        for wname, wvalue in (WRONGS[i % 2], WRONGS[2 + i % 2]):  # a collection of the wrong kind, and null or a bool

            def make(ctx, section=section, wvalue=wvalue):
                data = _mini_with_liaison(ctx)
                data[section] = wvalue
                return _yaml().safe_dump(data, sort_keys=False)

            scen(f"types/section-{section}={wname}", make)
    # every field of the first entity of a section, each given list, dict, null and bool in turn (one file a section)
    by_section: dict[tuple[Any, ...], list[str]] = {}
    for path, key in _entity_fields(base):
        by_section.setdefault(path, []).append(key)
    for path, keys in by_section.items():

        def make(ctx, path=path, keys=keys):
            data = _mini_with_liaison(ctx)
            for k, key in enumerate(keys):
                data = _set_in(data, path, key, WRONGS[k % 4][1])
            return _yaml().safe_dump(data, sort_keys=False)

        scen(f"types/fields-of-{'.'.join(map(str, path))}=list,dict,null,bool", make)
    # nested shapes that flat replacement does not reach
    for label, old, new in [
        (
            "processing-dist-low-list",
            "staff: 2, processing: 1h}",
            "staff: 2, processing: {dist: triangular, low: [1], mode: 2h, high: 3h}}",
        ),
        ("processing-dist-unknown", "staff: 2, processing: 1h}", "staff: 2, processing: {dist: zipf, a: 2}}"),
        ("processing-dist-missing", "staff: 2, processing: 1h}", "staff: 2, processing: {mean: 2h}}"),
        ("thresholds-list", "thresholds: {P: 72, S: 96, M: 144}", "thresholds: [72, 96, 144]"),
        ("thresholds-strings", "thresholds: {P: 72, S: 96, M: 144}", "thresholds: {P: fast, S: slow, M: never}"),
        ("trigger-at-dict", "trigger: {request: airlift, state: approved}", "trigger: {at: {h: 2}}"),
        ("trigger-list", "trigger: {request: airlift, state: approved}", "trigger: [request, airlift]"),
        ("trigger-inject-string", "trigger: {request: airlift, state: approved}", "trigger: {inject: one}"),
        ("option-patch-list", SURGE_PATCH, "patch: [assets, c17]"),
        ("option-patch-string", SURGE_PATCH, "patch: faster"),
        ("option-patch-key-list", SURGE_PATCH, "patch: {assets.c17.load_time: [1h]}"),
        ("last-resort-list", 'last_resort: {evidence: "civilian charter capacity exhausted"}', "last_resort: [evidence]"),
        ("between-string", "between: [un_ocha, eadrcc]", "between: un_ocha"),
        ("between-three", "between: [un_ocha, eadrcc]", "between: [un_ocha, eadrcc, nac]"),
        ("sources-dicts", '  sources: ["test fixture"]', "  sources: [{}, {title: [1]}]"),
        ("to-dict", "to: [un_ocha], description: Earthquake", "to: {un_ocha: 1}, description: Earthquake"),
        ("variant-list", "  slow_channel:\n", "  slow_channel: []\n  other:\n"),
        ("variant-patch-list", "    patch:\n      channels.un_nato.latency: 1d", "    patch: [channels.un_nato.latency, 1d]"),
        ("absent-list-of-lists", LIAISON, "liaison:\n  - {id: clo, name: CLO, from: eadrcc, at: un_ocha, absent: [[1d, 2d]]}"),
        ("seq-string", "{seq: 1, time: 1h", "{seq: one, time: 1h"),
        ("seq-float", "{seq: 1, time: 1h", "{seq: 1.5, time: 1h"),
        ("time-number", "{seq: 1, time: 1h", "{seq: 1, time: 1"),
    ]:
        scen(f"types/nested-{label}", m(lambda t, old=old, new=new: sub(t, old, new)))
    # every bundled scenario with the first entity of every section broken at once (several located lines)
    for i, path in enumerate(sorted(BUNDLED.glob("*.yaml"))[::2]):  # every other bundled file, each with a different wrong type
        wname, wvalue = WRONGS[i % 4]

        def make(ctx, path=path, wvalue=wvalue):
            y = _yaml()
            data = y.safe_load(path.read_text(encoding="utf-8"))
            for p, key in list(_entity_fields(data)):
                data = _set_in(data, p, key, wvalue)
            return y.safe_dump(data, sort_keys=False, allow_unicode=True)

        scen(f"types/bundled-{path.stem}-all-fields={wname}", make)
    del yaml


# ---- --set values ------------------------------------------------------------------------------


def set_case(name: str, *overrides: Any, expect: str = "refuse", cmd: str = "run") -> None:
    full = f"set.{cmd}/{name}"

    def build(ctx: Ctx):
        out = out_dir(ctx, full)
        args: list[Any] = []
        for o in overrides:
            args += ["--set", o]
        if cmd == "run":
            return ["run", str(MINI), *args, "--out", out], [str(MINI), out]
        return ["compare", str(MINI), "-n", "2", "--workers", "1", *args, "--out", out], [str(MINI), out]

    add(full, build, expect)


def define_set_cases() -> None:
    set_case("control-staff-3", "actors.nac.staff=3", expect="ok")
    set_case("bomb-seq", "scenario.description=" + flow_bomb_seq())
    set_case("bomb-map", "actors.nac=" + flow_bomb_map())
    set_case("bomb-into-variant-patch", "variants.slow_channel.patch=" + flow_bomb_map())
    set_case("bomb-into-option-patch", "decision_points.dp_priority.options.surge.patch=" + flow_bomb_map())
    set_case("bomb-wide", "scenario.sources=[&w [" + ",".join(["x"] * 10000) + "], [" + ",".join(["*w"] * 1000) + "]]")
    set_case("bomb-medium-6-levels", "scenario.description=" + flow_bomb_seq(6))
    set_case("deep-flow-seq-20000", "actors.nac.staff=" + "[" * 20000 + "]" * 20000)
    set_case("deep-flow-seq-20000-unclosed", "actors.nac.staff=" + "[" * 20000)
    set_case("deep-flow-map-20000", "actors.nac=" + "{a: " * 20000 + "}" * 20000)
    set_case("deep-400", "scenario.sources=" + "[" * 400 + "]" * 400)
    set_case("deep-400-into-option-patch", "decision_points.dp_priority.options.surge.patch={x: " + "[" * 400 + "]" * 400 + "}")
    set_case("dotted-path-10000", "a." * 10000 + "b=1")
    set_case("dotted-path-5000-into-actor", "actors.nac." + "x." * 5000 + "y=1")
    for label, value in [
        ("start-2009-13-45", "scenario.start=2009-13-45"),
        ("start-2005-02-30T25-61", "scenario.start=2005-02-30T25:61:00Z"),
        ("seed-tag-int-x", "scenario.seed=!!int x"),
        ("seed-tag-float-abc", "scenario.seed=!!float abc"),
        ("start-tag-timestamp-soon", "scenario.start=!!timestamp soon"),
        ("military-tag-bool-maybe", "actors.nac.military=!!bool maybe"),
        ("seed-5000-digits", "scenario.seed=" + DIGITS_5000),
        ("seed-0x_", "scenario.seed=0x_"),
        ("seed-dot-underscore", "scenario.seed=._"),
        ("name-tag-binary", "scenario.name=!!binary aGVsbG8="),
        ("name-tag-python-apply", 'scenario.name=!!python/object/apply:os.system ["true"]'),
        ("name-tag-map-on-scalar", "scenario.name=!!map x"),
        ("duplicate-key", "actors.nac={staff: 2, staff: 3}"),
        ("two-documents", "scenario.name=a\n---\nb"),
    ]:
        set_case(f"scalar-{label}", value)
    for label, value in [
        ("nowhere", "nowhere.deep.path=1"),
        ("missing-actor", "actors.nobody.staff=2"),
        ("index-99", "injects.99.time=1h"),
        ("index-minus-1", "injects.-1.time=1h"),
        ("index-20-digits", "actors.99999999999999999999.staff=1"),
        ("index-1e400", "actors.1e400.staff=1"),
        ("just-equals", "="),
        ("empty-path", "=1"),
        ("double-dot", "a..b=1"),
        ("no-equals", "actors.nac.staff"),
        ("remove-actor", "actors.un_ocha=null"),
        ("actors-empty-list", "actors=[]"),
        ("between-one", "channels.un_nato.between=[un_ocha]"),
        ("duration-1e20d", "scenario.duration=1e20d"),
        ("staff-100k-digits", "actors.nac.staff=" + "9" * 100_000),
        ("newline-in-value", "actors.nac.staff=x\ny"),
        ("newline-in-path", "actors.nac\n.staff=2"),
    ]:
        set_case(f"path-{label}", value)
    set_case("run-duration-20-digit-days", "scenario.duration=99999999999999999999d", expect="any")
    set_case("run-latency-400-digit-hours", "channels.un_nato.latency=" + "9" * 400 + "h", expect="any")
    set_case("run-asset-count-1e9", "assets.c17.count=1000000000", expect="any")
    set_case("run-name-100k", "scenario.name=" + "x" * 100_000, expect="any")
    set_case("encoding-invalid-utf8", b"scenario.name=\xff\xfe", expect="any")
    set_case("encoding-control-chars", "scenario.name=\x01\x02\x1b[31m", expect="any")
    set_case("encoding-lone-surrogate-escape", 'scenario.name="\\ud800"', expect="any")
    set_case("bomb-seq", "scenario.description=" + flow_bomb_seq(), cmd="compare")
    set_case("deep-flow-seq-20000", "actors.nac.staff=" + "[" * 20000 + "]" * 20000, cmd="compare")
    set_case("index-99", "injects.99.time=1h", cmd="compare")


# ---- decisions and session files ----------------------------------------------------------------


RUN_TOO = (
    "control",
    "bomb-seq-block",
    "bomb-map-as-decisions",
    "deep-flow-seq-20000",
    "huge-52mb",
    "invalid-utf8",
    "utf16",
    "nul-byte",
    "directory",
    "nonexistent",
    "dev-zero",
    "fifo",
    "scalar-tag-python-object",
    "scalar-seed-5000-digits",
    "toplevel-list",
)


def sess(name: str, make: Callable[[Ctx], Any], expect: str = "refuse", cmds: tuple[str, ...] | None = None) -> None:
    """A decisions/session file, read by `play --script` and (for RUN_TOO and a few keys) `run --decisions`."""
    if cmds is None:
        cmds = ("run", "play") if name.startswith(RUN_TOO) else ("play",)
    for cmd in cmds:
        full = f"session.{cmd}/{name}"

        def build(ctx: Ctx, cmd=cmd, full=full):
            path = ctx.file(f"session/{slug(name)}.yaml", make(ctx))
            out = out_dir(ctx, full)
            if cmd == "run":
                return ["run", str(MINI), "--decisions", path, "--out", out], [path, str(MINI), out]
            return ["play", str(MINI), "--script", path, "--out", out, "-n", "0"], [path, str(MINI), out]

        add(full, build, expect)


def define_session_cases() -> None:
    ok = "decisions:\n  dp_priority: surge\n"
    sess("control-surge", lambda ctx: ok, expect="ok")
    sess(
        "control-long-form",
        lambda ctx: (
            "seed: 3\ndecisions:\n  dp_priority: {option: surge, by: NATO seat, rationale: faster}\n"
            "observations:\n  - {objective: obj_cycle, text: slow, t: 2d}\n"
        ),
        expect="ok",
    )
    # YAML attacks
    sess("bomb-seq-block", lambda ctx: ok + block_bomb_seq())
    sess("bomb-map-block", lambda ctx: ok + block_bomb_map())
    sess("bomb-seq-in-observation", lambda ctx: ok + "observations: [{text: " + flow_bomb_seq() + "}]\n")
    sess("bomb-map-as-decisions", lambda ctx: "decisions: " + flow_bomb_map() + "\n")
    sess("bomb-wide", lambda ctx: ok + "observations: " + wide_bomb() + "\n")
    sess("deep-flow-seq-20000", lambda ctx: "decisions: " + "[" * 20000 + "]" * 20000 + "\n")
    sess("deep-flow-seq-20000-unclosed", lambda ctx: "decisions: " + "[" * 20000 + "\n")
    sess("deep-flow-map-20000", lambda ctx: "observations: " + "{a: " * 20000 + "}" * 20000 + "\n")
    sess("deep-block-map-3000", lambda ctx: deep_block_map(3000))
    sess("huge-52mb", lambda ctx: big_chunks(ok, b"# " + b"x" * 97 + b"\n", BIG))
    sess("long-1mb-unknown-point", lambda ctx: "decisions:\n  " + "p" * 1_000_000 + ": surge\n")
    for label, text in [
        ("seed-tag-int-x", "seed: !!int x\n"),
        ("seed-5000-digits", f"seed: {DIGITS_5000}\n"),
        ("seed-0x_", "seed: 0x_\n"),
        ("at-tag-timestamp-soon", "at: {t: !!timestamp soon, step: 1}\n"),
        ("tag-python-object", 'seed: !!python/object/apply:os.system ["true"]\n'),
        ("tag-bool-maybe", "decisions: {dp_priority: !!bool maybe}\n"),
        ("tag-map-on-scalar", "decisions: !!map x\n"),
    ]:
        sess(f"scalar-{label}", lambda ctx, text=text: ok + text if not text.startswith("decisions") else text)
    sess("nul-byte", lambda ctx: (ok + "observations: [{text: a\x00b}]\n").encode())
    sess("invalid-utf8", lambda ctx: ok.encode() + b"observations: [{text: \xff\xfe}]\n")
    sess("utf16", lambda ctx: ok.encode("utf-16"))
    sess("utf8-bom", lambda ctx: b"\xef\xbb\xbf" + ok.encode(), expect="ok")
    sess("tab-indent", lambda ctx: "decisions:\n\tdp_priority: surge\n")
    sess("merge-key", lambda ctx: "base: &b {dp_priority: surge}\ndecisions: {<<: *b}\n")
    sess("duplicate-key", lambda ctx: ok + "decisions: {}\n")
    sess("toplevel-list", lambda ctx: "- dp_priority\n- surge\n")
    sess("toplevel-scalar", lambda ctx: "surge\n")
    sess("empty-file", lambda ctx: "", expect="ok")
    sess("directory", lambda ctx: PathOnly(str(ctx.corpus)))
    sess("nonexistent", lambda ctx: PathOnly(str(ctx.corpus / "no-such-session.yaml")))
    sess("dev-zero", lambda ctx: PathOnly("/dev/zero"))
    sess("fifo-without-writer", lambda ctx: PathOnly(_fifo(ctx, "session/fifo.yaml")))
    # wrong types for each key
    for label, text in [
        ("decisions-list", "decisions: [dp_priority, surge]\n"),
        ("decisions-string", "decisions: surge\n"),
        ("decisions-null", "decisions: null\n"),
        ("decision-value-list", "decisions: {dp_priority: [surge]}\n"),
        ("decision-option-list", "decisions: {dp_priority: {option: [surge]}}\n"),
        ("decision-t-soon", "decisions: {dp_priority: {option: surge, t: soon}}\n"),
        ("decision-unknown-point", "decisions: {dp_nothing: surge}\n"),
        ("decision-unknown-option", "decisions: {dp_priority: sprint}\n"),
        ("decision-unknown-key", "decisions: {dp_priority: {option: surge, why: x}}\n"),
        ("observations-dict", "observations: {a: 1}\n"),
        ("observations-string", "observations: text\n"),
        ("observation-empty", "observations: [{}]\n"),
        ("observation-unknown-objective", "observations: [{text: x, objective: obj_nothing}]\n"),
        ("observation-t-negative", "observations: [{text: x, t: -1h}]\n"),
        ("observation-t-1e20d", "observations: [{text: x, t: 1e20d}]\n"),
        ("observation-t-20-digit-days", "observations: [{text: x, t: 99999999999999999999d}]\n"),
        ("release-inject-string", "releases: [{inject: one, t: 1h}]\n"),
        ("release-not-contingency", "releases: [{inject: 1, t: 1h}]\n"),
        ("release-missing-inject", "releases: [{inject: 99, t: 1h}]\n"),
        ("release-step-huge", "releases: [{inject: 1, t: 1h, step: 1000000000000000000000000000000}]\n"),
        ("at-list", "at: [1, 2]\n"),
        ("at-step-huge", "at: {t: 1h, step: 1000000000000000000}\n"),
        ("at-t-beyond-end", "at: {t: 99999d, step: 5}\n"),
        ("seed-string", "seed: x\n"),
        ("seed-float", "seed: 1.5\n"),
        ("seed-huge", "seed: 1000000000000000000000000000000\n"),
        ("seed-negative", "seed: -1\n"),
        ("variant-list", "variant: [slow_channel]\n"),
        ("variant-unknown", "variant: nope\n"),
        ("variant-valid", "variant: slow_channel\n"),
        ("seats-string", "seats: nac\n"),
        ("seats-unknown", "seats: [nobody]\n"),
        ("scenario-list", "scenario: []\n"),
        ("scenario-sha-list", "scenario: {name: x, sha256: [1]}\n"),
        ("recorded-other-sha", "scenario: {name: x, sha256: abc}\nat: {t: 1h, step: 5}\n"),
        ("unknown-key", "extra: 1\n"),
    ]:
        expect = (
            "any" if label in {"seed-huge", "seed-negative", "variant-valid", "at-step-huge", "observation-t-20-digit-days"} else "refuse"
        )
        # `run --decisions` reads the same document with the same code: a few keys there, every key under play
        cmds = ("run", "play") if label.startswith(("decisions-", "seed-", "unknown")) else ("play",)
        sess(f"key-{label}", lambda ctx, text=text: text if text.startswith("decisions") else ok + text, expect=expect, cmds=cmds)


# ---- MSEL sheets ------------------------------------------------------------------------------------

COLUMNS = [
    "seq",
    "scenario_time",
    "inject_type",
    "delivery_method",
    "from",
    "to",
    "description",
    "expected_action",
    "objective",
    "controller",
]
ROWS = [
    ["1", "1h", "information", "message", "SIMCELL", "un_ocha", "Earthquake damage assessment arrives", "", "obj_cycle", ""],
    ["2", "2h", "request", "message", "SIMCELL", "un_ocha", "OCHA asks NATO for airlift", "Submit RFA", "obj_cycle", ""],
]


def csv_text(rows: list[list[str]], header: list[str] | None = COLUMNS) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def rows_with(col: str, value: str, row: int = 0) -> list[list[str]]:
    rows = [list(r) for r in ROWS]
    rows[row][COLUMNS.index(col)] = value
    return rows


def msel_case(
    name: str, make: Callable[[Ctx], Any], ext: str = ".csv", expect: str = "refuse", into: Callable[[Ctx], Any] | None = None
) -> None:
    full = f"msel/{name}"

    def build(ctx: Ctx):
        sheet = ctx.file(f"msel/{slug(name)}{ext}", make(ctx))
        target = ctx.file(f"msel/{slug(name)}.into.yaml", into(ctx) if into else ctx.mini)
        return ["msel", "import", sheet, "--into", target], [sheet, target]

    add(full, build, expect)


def xlsx_bytes(rows: list[list[Any]], header: list[str] | None = COLUMNS) -> bytes:
    try:
        from openpyxl import Workbook
    except ImportError as exc:
        raise BuildError(f"openpyxl is needed to build this case ({exc})") from None
    book = Workbook()
    sheet = book.active
    sheet.title = "MSEL"
    if header is not None:
        sheet.append(header)
    for r in rows:
        sheet.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def rezip(data: bytes, replace: dict[str, Any]) -> Iterable[bytes]:
    """A copy of the zip ``data`` with some members replaced (bytes, or an iterable of chunks)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in replace:
                new = replace[info.filename]
                if isinstance(new, bytes):
                    dst.writestr(info.filename, new)
                else:
                    with dst.open(info.filename, "w", force_zip64=True) as fh:
                        for chunk in new:
                            fh.write(chunk)
            else:
                dst.writestr(info, src.read(info.filename))
    return buf.getvalue()


def xml_bomb_workbook() -> bytes:
    data = xlsx_bytes(ROWS)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        target = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else "xl/worksheets/sheet1.xml"
        xml = z.read(target).decode()
    ents = '<!ENTITY e0 "lollollollollollollollollollol">' + "".join(f'<!ENTITY e{i} "' + f"&e{i - 1};" * 10 + '">' for i in range(1, 10))
    root = re.search(r"<(\w+)[ >]", xml[xml.find("?>") + 2 :] if xml.startswith("<?xml") else xml).group(1)
    doctype = f"<!DOCTYPE {root} [{ents}]>"
    if xml.startswith("<?xml"):
        end = xml.find("?>") + 2
        xml = xml[:end] + doctype + xml[end:]
    else:
        xml = doctype + xml
    xml = re.sub(r"<t>([^<]*)</t>", "<t>&e9;</t>", xml, count=1) if "<t>" in xml else xml.replace("<v>", "<v>&e9;", 1)
    return rezip(data, {target: xml.encode()})


def zip_bomb_workbook() -> bytes:
    data = xlsx_bytes(ROWS)
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}"><sheetData>'
    row = b'<row><c t="inlineStr"><is><t>1</t></is></c></row>'
    return rezip(data, {"xl/worksheets/sheet1.xml": big_chunks(head, row, 300 * 1024 * 1024, "</sheetData></worksheet>")})


def define_msel_cases() -> None:
    msel_case("control-csv", lambda ctx: csv_text(ROWS), expect="ok")
    msel_case("control-xlsx", lambda ctx: xlsx_bytes(ROWS), ext=".xlsx", expect="ok")
    msel_case("csv-nul-in-field", lambda ctx: csv_text(rows_with("description", "a\x00b")), expect="any")
    msel_case("csv-nul-in-header", lambda ctx: csv_text(ROWS, header=["seq\x00"] + COLUMNS[1:]))
    msel_case("csv-1mb-description", lambda ctx: csv_text(rows_with("description", "d" * 1_000_000)), expect="any")
    msel_case("csv-1mb-seq", lambda ctx: csv_text(rows_with("seq", "9" * 1_000_000)))
    msel_case("csv-missing-header", lambda ctx: csv_text(ROWS, header=None))
    msel_case("csv-empty", lambda ctx: "")
    msel_case("csv-header-only", lambda ctx: csv_text([]), expect="any")
    msel_case("csv-utf16", lambda ctx: csv_text(ROWS).encode("utf-16"))
    msel_case("csv-utf8-bom", lambda ctx: b"\xef\xbb\xbf" + csv_text(ROWS).encode(), expect="ok")
    msel_case(
        "csv-invalid-utf8-late",
        lambda ctx: csv_text(ROWS * 1 + [[str(i)] + ROWS[0][1:] for i in range(3, 2000)]).encode() + b"2001,1h,,,,un_ocha,\xff\xfe,,,\n",
    )
    msel_case(
        "csv-formula-cells",
        lambda ctx: csv_text(
            [
                [
                    "1",
                    "1h",
                    "information",
                    "message",
                    "SIMCELL",
                    "un_ocha",
                    '=HYPERLINK("http://x","y")',
                    "+cmd|' /C calc'!A0",
                    "obj_cycle",
                    "@SUM(1+1)",
                ],
                ROWS[1],
            ]
        ),
        expect="any",
    )
    msel_case("csv-formula-seq", lambda ctx: csv_text(rows_with("seq", "=1+1")))
    msel_case("csv-trigger-valid", lambda ctx: csv_text(rows_with("scenario_time", "{at: 3h}", 1)), expect="ok")
    msel_case("csv-trigger-bomb-seq", lambda ctx: csv_text(rows_with("scenario_time", "{at: " + flow_bomb_seq() + "}")))
    msel_case("csv-trigger-bomb-map", lambda ctx: csv_text(rows_with("scenario_time", flow_bomb_map())))
    msel_case(
        "csv-trigger-bomb-wide",
        lambda ctx: csv_text(rows_with("scenario_time", "{at: [&w [" + ",".join(["x"] * 10000) + "], [" + ",".join(["*w"] * 1000) + "]]}")),
    )
    msel_case("csv-trigger-deep-20000", lambda ctx: csv_text(rows_with("scenario_time", "{a: " + "[" * 20000 + "]" * 20000 + "}")))
    msel_case("csv-trigger-deep-map-20000", lambda ctx: csv_text(rows_with("scenario_time", "{a: " * 20000 + "}" * 20000)))
    msel_case("csv-trigger-unclosed", lambda ctx: csv_text(rows_with("scenario_time", "{at: 3h")))
    msel_case("csv-trigger-python-tag", lambda ctx: csv_text(rows_with("scenario_time", '{at: !!python/object/apply:os.system ["true"]}')))
    msel_case("csv-trigger-tag-timestamp-soon", lambda ctx: csv_text(rows_with("scenario_time", "{at: !!timestamp soon}")))
    msel_case("csv-trigger-tag-bool-maybe", lambda ctx: csv_text(rows_with("scenario_time", "{at: !!bool maybe}")))
    msel_case("csv-trigger-2009-13-45", lambda ctx: csv_text(rows_with("scenario_time", "{at: 2009-13-45}")))
    msel_case("csv-trigger-5000-digits", lambda ctx: csv_text(rows_with("scenario_time", "{inject: " + DIGITS_5000 + "}")))
    msel_case(
        "csv-trigger-cycle",
        lambda ctx: csv_text([[*ROWS[0][:1], "{inject: 2}", *ROWS[0][2:]], [*ROWS[1][:1], "{inject: 1}", *ROWS[1][2:]]]),
    )
    msel_case("csv-trigger-missing-request", lambda ctx: csv_text(rows_with("scenario_time", "{request: nothing, state: approved}")))
    msel_case("csv-trigger-list", lambda ctx: csv_text(rows_with("scenario_time", "[1, 2]")))
    msel_case("csv-time-20-digit-days", lambda ctx: csv_text(rows_with("scenario_time", "99999999999999999999d")), expect="any")
    msel_case("csv-seq-fullwidth", lambda ctx: csv_text(rows_with("seq", "\uff13")), expect="any")
    msel_case("csv-seq-5000-digits", lambda ctx: csv_text(rows_with("seq", DIGITS_5000)))
    msel_case("csv-duplicate-seq", lambda ctx: csv_text([ROWS[0], ROWS[0]]))
    msel_case("csv-unknown-actor", lambda ctx: csv_text(rows_with("to", "nobody")))
    msel_case("csv-100k-recipients", lambda ctx: csv_text(rows_with("to", ";".join(f"a{i}" for i in range(100_000)))))
    msel_case("csv-unbalanced-quote", lambda ctx: csv_text(ROWS) + '3,1h,,,,un_ocha,"never closed\n')
    msel_case("csv-duplicate-header", lambda ctx: csv_text(ROWS, header=COLUMNS[:-1] + ["seq"]))
    msel_case(
        "csv-20000-rows",
        lambda ctx: csv_text(
            [
                [str(i), f"{i % 200}h", "information", "message", "SIMCELL", "un_ocha", f"row {i}", "", "obj_cycle", ""]
                for i in range(1, 20001)
            ]
        ),
        expect="any",
    )
    msel_case("csv-directory", lambda ctx: PathOnly(str(ctx.corpus)))
    msel_case("csv-nonexistent", lambda ctx: PathOnly(str(ctx.corpus / "no-such.csv")))
    msel_case("csv-dev-zero", lambda ctx: PathOnly("/dev/zero"))
    msel_case("csv-fifo-without-writer", lambda ctx: PathOnly(_fifo(ctx, "msel/fifo.csv")))
    msel_case("into-nonexistent", lambda ctx: csv_text(ROWS), into=lambda ctx: PathOnly(str(ctx.corpus / "no-such-scenario.yaml")))
    msel_case("into-directory", lambda ctx: csv_text(ROWS), into=lambda ctx: PathOnly(str(ctx.corpus)))
    msel_case("into-bomb", lambda ctx: csv_text(ROWS), into=lambda ctx: sub(ctx.mini, DESC, "  description: " + flow_bomb_seq()))
    msel_case("into-deep-20000", lambda ctx: csv_text(ROWS), into=lambda ctx: "scenario: " + "[" * 20000 + "]" * 20000 + "\n")
    msel_case("into-invalid-utf8", lambda ctx: csv_text(ROWS), into=lambda ctx: ctx.mini.encode() + b"x: \xff\n")
    msel_case("into-empty", lambda ctx: csv_text(ROWS), into=lambda ctx: "")
    msel_case("into-dev-zero", lambda ctx: csv_text(ROWS), into=lambda ctx: PathOnly("/dev/zero"))
    msel_case("xlsx-text", lambda ctx: "seq,scenario_time\n1,1h\n", ext=".xlsx")
    msel_case("xlsx-zip-not-workbook", lambda ctx: _plain_zip(), ext=".xlsx")
    msel_case("xlsx-empty", lambda ctx: b"", ext=".xlsx")
    msel_case("xlsx-truncated-half", lambda ctx: (lambda b: b[: len(b) // 2])(xlsx_bytes(ROWS)), ext=".xlsx")
    msel_case("xlsx-no-header", lambda ctx: xlsx_bytes(ROWS, header=None), ext=".xlsx")
    msel_case(
        "xlsx-numbers-and-dates",
        lambda ctx: xlsx_bytes(
            [
                [1, 1.5, None, None, None, "un_ocha", 3.14, None, None, None],
                [2.0, __import__("datetime").datetime(2009, 1, 1), "x", "y", "z", "un_ocha", "d", "", "", ""],
            ]
        ),
        ext=".xlsx",
    )
    msel_case("xlsx-trigger-bomb", lambda ctx: xlsx_bytes(rows_with("scenario_time", flow_bomb_map())), ext=".xlsx")
    msel_case("xlsx-xml-entity-bomb", lambda ctx: xml_bomb_workbook(), ext=".xlsx")
    msel_case("xlsx-zip-bomb-300mb-sheet", lambda ctx: zip_bomb_workbook(), ext=".xlsx")
    msel_case("xlsx-directory", lambda ctx: PathOnly(_dir(ctx, "msel/dir.xlsx")), ext=".xlsx")
    msel_case("xlsx-dev-zero-link", lambda ctx: PathOnly(_link(ctx, "msel/zero.xlsx", "/dev/zero")), ext=".xlsx")
    msel_case("xlsx-nonexistent", lambda ctx: PathOnly(str(ctx.corpus / "msel" / "no-such.xlsx")), ext=".xlsx")


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return buf.getvalue()


def _dir(ctx: Ctx, rel: str) -> str:
    p = ctx.corpus / rel
    p.mkdir(parents=True, exist_ok=True)
    return str(p)


def _link(ctx: Ctx, rel: str, target: str) -> str:
    p = ctx.corpus / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.is_symlink():
        os.symlink(target, p)
    return str(p)


# ---- run directories for `coopsim report` ---------------------------------------------------------


def report_case(name: str, damage: Callable[[Path, Ctx], Any], expect: str = "refuse", base: str = "rundir", reseal: bool = True) -> None:
    """A copy of a real run directory, damaged, then reported on.

    With ``reseal`` (the default) the manifest's sha256 of each damaged file is
    recomputed, as a tool that rewrites a run consistently (or an attacker)
    would, so the damage reaches the readers behind the checksum check.
    """
    full = f"report/{name}"

    def build(ctx: Ctx):
        src = ctx.setup.get(base)
        if src is None:
            raise BuildError(f"setup {base} failed")
        d = ctx.corpus / "report" / slug(name)
        if d.exists():
            shutil.rmtree(d)
        shutil.copytree(src, d, symlinks=True)
        if (d / "report").exists():
            shutil.rmtree(d / "report")
        given = damage(d, ctx)
        if reseal:
            _reseal(d)
        path = str(given) if isinstance(given, (str, Path)) else str(d)
        return ["report", path], [path, str(d)]

    add(full, build, expect, needs=(base,))


def _reseal(d: Path) -> None:
    """Make manifest.json's sha256 table (if it has one) match the files as they are now."""
    import hashlib

    mpath = d / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # a manifest damaged on purpose stays as it is
        return
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), dict):
        return
    changed = False
    for name in list(manifest["sha256"]):
        p = d / str(name)
        if p.is_file() and not p.is_symlink():
            h = hashlib.sha256()
            with p.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            if manifest["sha256"][name] != h.hexdigest():
                manifest["sha256"][name] = h.hexdigest()
                changed = True
    if changed:
        mpath.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _lines(d: Path, name: str = "events.jsonl") -> list[str]:
    return (d / name).read_text(encoding="utf-8").splitlines(keepends=True)


def _set_line(d: Path, index: int, new: str, name: str = "events.jsonl") -> None:
    lines = _lines(d, name)
    lines[index] = new if new.endswith("\n") else new + "\n"
    (d / name).write_text("".join(lines), encoding="utf-8")


def _edit_record(d: Path, index: int, **changes: Any) -> None:
    rec = json.loads(_lines(d)[index])
    for k, v in changes.items():
        if v is _DROP:
            rec.pop(k, None)
        else:
            rec[k] = v
    _set_line(d, index, json.dumps(rec))


_DROP = object()


def _edit_json(d: Path, name: str, fn: Callable[[Any], Any]) -> None:
    data = json.loads((d / name).read_text(encoding="utf-8"))
    (d / name).write_text(json.dumps(fn(data)), encoding="utf-8")


def _mut(**changes: Any) -> Callable[[Any], Any]:
    def fn(data):
        for k, v in changes.items():
            keys = k.split("__")
            node = data
            for key in keys[:-1]:
                node = node[key]
            if v is _DROP:
                node.pop(keys[-1], None)
            else:
                node[keys[-1]] = v
        return data

    return fn


def _write(d: Path, name: str, data: Any) -> None:
    p = d / name
    if p.is_dir():
        shutil.rmtree(p)
    elif p.exists() or p.is_symlink():
        p.unlink()
    if isinstance(data, str):
        p.write_bytes(data.encode("utf-8", "surrogatepass"))
    elif isinstance(data, bytes):
        p.write_bytes(data)
    else:
        with p.open("wb") as fh:
            for chunk in data:
                fh.write(chunk)


def _kind_index(d: Path, kind: str) -> int:
    for i, line in enumerate(_lines(d)):
        if json.loads(line).get("kind") == kind:
            return i
    raise BuildError(f"no {kind} record in the base run")


def define_report_cases() -> None:
    report_case("control", lambda d, ctx: None, expect="ok")
    report_case("control-play", lambda d, ctx: None, expect="ok", base="playdir")

    def truncate_midline(d, ctx):
        raw = (d / "events.jsonl").read_bytes()
        cut = raw.rfind(b"\n", 0, len(raw) - 1) + 20
        (d / "events.jsonl").write_bytes(raw[:cut])

    report_case("events-truncated-midline", truncate_midline)
    report_case("events-truncated-midline-unsealed", truncate_midline, reseal=False)
    report_case(
        "scenario-bomb-unsealed",
        lambda d, ctx: _write(
            d, "scenario.yaml", sub((d / "scenario.yaml").read_text(), "description:", "description: " + flow_bomb_seq() + "\n  x:")
        ),
        reseal=False,
    )
    report_case("events-empty", lambda d, ctx: _write(d, "events.jsonl", ""))
    report_case("events-deep-json-100000", lambda d, ctx: _set_line(d, 3, "[" * 100_000 + "]" * 100_000))
    report_case(
        "events-deep-json-in-field",
        lambda d, ctx: _set_line(d, 3, _lines(d)[3].rstrip("}\n") + ', "deep": ' + "[" * 50_000 + "]" * 50_000 + "}"),
    )
    report_case("events-t-string", lambda d, ctx: _edit_record(d, 3, t="soon"))
    report_case("events-t-nan", lambda d, ctx: _set_line(d, 3, re.sub(r'"t":[^,]+', '"t":NaN', _lines(d)[3], count=1)), expect="any")
    report_case("events-t-1e308", lambda d, ctx: _edit_record(d, 3, t=1e308), expect="any")
    report_case("events-seq-list", lambda d, ctx: _edit_record(d, 3, seq=[1, 2]))
    report_case("events-actor-dict", lambda d, ctx: _edit_record(d, 3, actor={"a": 1}))
    report_case(
        "events-request-state-wrong-types",
        lambda d, ctx: _edit_record(
            d,
            _kind_index(d, "request_state"),
            **{k: [1] for k in json.loads(_lines(d)[_kind_index(d, "request_state")]) if k not in ("kind", "t", "seq")},
        ),
    )
    report_case(
        "events-delivery-quantity-string",
        lambda d, ctx: _edit_record(
            d,
            _kind_index(d, "delivery"),
            **{k: "lots" for k, v in json.loads(_lines(d)[_kind_index(d, "delivery")]).items() if isinstance(v, float) and k != "t"},
        ),
    )
    report_case(
        "events-trip-fields-null",
        lambda d, ctx: _edit_record(
            d,
            _kind_index(d, "trip_started"),
            **{k: None for k in json.loads(_lines(d)[_kind_index(d, "trip_started")]) if k not in ("kind",)},
        ),
    )
    report_case("events-unknown-kind", lambda d, ctx: _edit_record(d, 3, kind="alien_landing"))
    report_case("events-missing-field", lambda d, ctx: _edit_record(d, 3, actor=_DROP))
    report_case("events-line-is-list", lambda d, ctx: _set_line(d, 3, "[1, 2]"))
    report_case("events-line-is-null", lambda d, ctx: _set_line(d, 3, "null"))
    report_case("events-blank-line", lambda d, ctx: _set_line(d, 3, ""))
    report_case(
        "events-invalid-utf8",
        lambda d, ctx: (d / "events.jsonl").write_bytes((d / "events.jsonl").read_bytes().replace(b"un_ocha", b"un_\xff\xfe", 1)),
    )
    report_case(
        "events-nul-bytes", lambda d, ctx: (d / "events.jsonl").write_bytes((d / "events.jsonl").read_bytes().replace(b"\n", b"\n\x00", 1))
    )
    report_case("events-duplicated-seq", lambda d, ctx: [_edit_record(d, i, seq=0) for i in range(len(_lines(d)))], expect="any")
    report_case(
        "events-50mb-actor",
        lambda d, ctx: _set_line(d, 3, json.dumps({**json.loads(_lines(d)[3]), "actor": "A" * (50 * 1024 * 1024)})),
        expect="any",
    )
    report_case("events-is-directory", lambda d, ctx: ((d / "events.jsonl").unlink(), (d / "events.jsonl").mkdir()))
    report_case("events-fifo", lambda d, ctx: ((d / "events.jsonl").unlink(), os.mkfifo(d / "events.jsonl")))
    # manifest.json
    report_case("manifest-list", lambda d, ctx: _write(d, "manifest.json", "[1, 2]"))
    report_case("manifest-records-string", lambda d, ctx: _edit_json(d, "manifest.json", _mut(records="45")))
    report_case("manifest-missing-outcome", lambda d, ctx: _edit_json(d, "manifest.json", _mut(outcome=_DROP)))
    report_case("manifest-outcome-list", lambda d, ctx: _edit_json(d, "manifest.json", _mut(outcome=[])))
    report_case("manifest-end-time-string", lambda d, ctx: _edit_json(d, "manifest.json", _mut(outcome__end_time="late")))
    report_case("manifest-end-time-1e308", lambda d, ctx: _edit_json(d, "manifest.json", _mut(outcome__end_time=1e308)), expect="any")
    report_case("manifest-missing-scenario", lambda d, ctx: _edit_json(d, "manifest.json", _mut(scenario=_DROP)))
    report_case("manifest-scenario-string", lambda d, ctx: _edit_json(d, "manifest.json", _mut(scenario="Mini")))
    report_case(
        "manifest-missing-seed-variant", lambda d, ctx: _edit_json(d, "manifest.json", _mut(seed=_DROP, variant=_DROP, overrides=_DROP))
    )
    report_case("manifest-seed-dict", lambda d, ctx: _edit_json(d, "manifest.json", _mut(seed={"a": 1}, overrides="x", variant=[1])))
    report_case("manifest-only-records", lambda d, ctx: _edit_json(d, "manifest.json", lambda m: {"records": m["records"]}))
    report_case("manifest-empty-object", lambda d, ctx: _write(d, "manifest.json", "{}"))
    report_case("manifest-deep-json", lambda d, ctx: _write(d, "manifest.json", "[" * 100_000 + "]" * 100_000))
    report_case("manifest-not-json", lambda d, ctx: _write(d, "manifest.json", "records: 45\n"))
    # metrics.json
    report_case("metrics-empty-object", lambda d, ctx: _write(d, "metrics.json", "{}"))
    report_case("metrics-values-list", lambda d, ctx: _edit_json(d, "metrics.json", _mut(values=[])))
    report_case(
        "metrics-values-strings",
        lambda d, ctx: _edit_json(d, "metrics.json", lambda x: {**x, "values": {k: str(v) for k, v in x["values"].items()}}),
    )
    report_case("metrics-objectives-string", lambda d, ctx: _edit_json(d, "metrics.json", _mut(objectives="all good")))
    report_case(
        "metrics-objectives-items-wrong",
        lambda d, ctx: _edit_json(d, "metrics.json", lambda x: {**x, "objectives": [1, "two", None, {"id": []}]}),
    )
    report_case(
        "metrics-objective-fields-wrong",
        lambda d, ctx: _edit_json(
            d,
            "metrics.json",
            lambda x: {
                **x,
                "objectives": [
                    {k: ([1] if not isinstance(v, str) else {"a": 1}) for k, v in o.items()} if isinstance(o, dict) else o
                    for o in (x["objectives"] if isinstance(x["objectives"], list) else [])
                ],
            },
        ),
    )
    report_case("metrics-detail-number", lambda d, ctx: _edit_json(d, "metrics.json", _mut(detail=5)))
    report_case(
        "metrics-detail-tables-strings",
        lambda d, ctx: _edit_json(d, "metrics.json", lambda x: {**x, "detail": {k: "x" for k in x.get("detail", {})}}),
    )
    report_case("metrics-missing-detail", lambda d, ctx: _edit_json(d, "metrics.json", _mut(detail=_DROP)))
    report_case("metrics-deep-json", lambda d, ctx: _write(d, "metrics.json", "[" * 100_000 + "]" * 100_000))
    # scenario.yaml
    report_case(
        "scenario-bomb",
        lambda d, ctx: _write(
            d, "scenario.yaml", sub((d / "scenario.yaml").read_text(), "description:", "description: " + flow_bomb_seq() + "\n  x:")
        ),
    )
    report_case("scenario-deep-20000", lambda d, ctx: _write(d, "scenario.yaml", "scenario: " + "[" * 20000 + "]" * 20000 + "\n"))
    report_case(
        "scenario-52mb",
        lambda d, ctx: _write(d, "scenario.yaml", big_chunks((d / "scenario.yaml").read_text(), b"# " + b"x" * 97 + b"\n", BIG)),
    )
    report_case("scenario-invalid-utf8", lambda d, ctx: _write(d, "scenario.yaml", (d / "scenario.yaml").read_bytes() + b"x: \xff\n"))
    report_case("scenario-nul", lambda d, ctx: _write(d, "scenario.yaml", (d / "scenario.yaml").read_bytes() + b"x: a\x00b\n"))
    report_case("scenario-empty", lambda d, ctx: _write(d, "scenario.yaml", ""))
    report_case(
        "scenario-other-bundled",
        lambda d, ctx: _write(d, "scenario.yaml", (BUNDLED / "somalia-wfp-escort-2008.yaml").read_text()),
        expect="any",
    )
    report_case(
        "scenario-missing-objective",
        lambda d, ctx: _write(
            d, "scenario.yaml", re.sub(r"objectives:.*?(?=\n[a-z])", "objectives: []", (d / "scenario.yaml").read_text(), flags=re.S)
        ),
        expect="any",
    )
    # session.json (a played run)
    report_case("session-garbage", lambda d, ctx: _write(d, "session.json", "\x00\x01garbage{"), base="playdir")
    report_case("session-empty-object", lambda d, ctx: _write(d, "session.json", "{}"), base="playdir")
    report_case("session-decisions-list", lambda d, ctx: _edit_json(d, "session.json", _mut(decisions=[1, 2])), base="playdir")
    report_case(
        "session-decision-fields-wrong",
        lambda d, ctx: _edit_json(d, "session.json", _mut(decisions={"dp_priority": {"option": [], "by": 5, "rationale": {}}})),
        base="playdir",
    )
    report_case("session-observations-string", lambda d, ctx: _edit_json(d, "session.json", _mut(observations="x")), base="playdir")
    report_case(
        "session-observation-fields-wrong",
        lambda d, ctx: _edit_json(d, "session.json", _mut(observations=[{"text": [], "t": "x", "objective": 5}])),
        base="playdir",
    )
    report_case(
        "session-counterfactuals-garbage",
        lambda d, ctx: _edit_json(d, "session.json", _mut(counterfactuals=["x", 1, None])),
        base="playdir",
    )
    report_case("session-deep-json", lambda d, ctx: _write(d, "session.json", "[" * 100_000 + "]" * 100_000), base="playdir")
    # the directory itself
    report_case("rundir-is-file", lambda d, ctx: d / "manifest.json")
    report_case("rundir-nonexistent", lambda d, ctx: d / "nothing")
    report_case("report-dir-is-file", lambda d, ctx: _write(d, "report", "not a directory"))


# ---- results.sqlite for compare / sweep re-runs ----------------------------------------------------


def sqlite_case(name: str, damage: Callable[[Path, Ctx], Any], expect: str = "refuse", cmd: str = "compare") -> None:
    """A copy of a real compare (or sweep) output directory whose results.sqlite is damaged, then re-run into it."""
    full = f"sqlite.{cmd}/{name}"

    def build(ctx: Ctx):
        base = ctx.setup.get(cmd)
        if base is None:
            raise BuildError(f"setup {cmd} failed")
        d = ctx.corpus / "sqlite" / cmd / slug(name)
        if d.exists():
            shutil.rmtree(d)
        shutil.copytree(base, d, symlinks=True)  # keeps whatever marks the directory as coopsim's
        (d / ".base").mkdir()
        for suffix in ("", "-wal", "-shm"):
            src = d / f"results.sqlite{suffix}"
            if src.exists():
                src.rename(d / ".base" / src.name)
        damage(d, ctx)
        shutil.rmtree(d / ".base")
        if cmd == "compare":
            argv = ["compare", str(MINI), "-n", "2", "--workers", "1", "--out", str(d)]
        else:
            argv = ["sweep", str(MINI), "--param", "actors.nac.staff=1,2", "-n", "1", "--workers", "1", "--out", str(d)]
        return argv, [str(d), str(MINI)]

    add(full, build, expect, needs=(cmd,))


def _copy_db(d: Path, ctx: Ctx) -> Path:
    """Put the real archive back (it was set aside in .base by the case builder)."""
    for src in (d / ".base").iterdir():
        shutil.copy2(src, d / src.name)
    return d / "results.sqlite"


def _sql(d: Path, ctx: Ctx, *statements: str) -> None:
    db = sqlite3.connect(_copy_db(d, ctx))
    try:
        for s in statements:
            db.execute(s)
        db.commit()
    finally:
        db.close()


def define_sqlite_cases() -> None:
    rnd = random.Random(1234)
    sqlite_case("control-reuse", lambda d, ctx: _copy_db(d, ctx), expect="ok")
    sqlite_case("random-bytes", lambda d, ctx: (d / "results.sqlite").write_bytes(rnd.randbytes(64 * 1024)))
    sqlite_case("zero-length", lambda d, ctx: (d / "results.sqlite").write_bytes(b""), expect="any")
    sqlite_case("text-file", lambda d, ctx: (d / "results.sqlite").write_text("these are my results\n"))
    sqlite_case(
        "wrong-schema", lambda d, ctx: _fresh_db(d, "CREATE TABLE results (a TEXT, b TEXT)", "INSERT INTO results VALUES ('x', 'y')")
    )
    sqlite_case("wrong-schema-view", lambda d, ctx: _fresh_db(d, "CREATE TABLE t (x)", "CREATE VIEW results AS SELECT x FROM t"))
    sqlite_case(
        "wrong-schema-extra-column",
        lambda d, ctx: _fresh_db(
            d,
            "CREATE TABLE results (sha256 TEXT, variant TEXT, seed INTEGER, replication INTEGER, metrics TEXT, ratings TEXT, error TEXT, extra TEXT NOT NULL)",
        ),
    )
    sqlite_case("metrics-not-json", lambda d, ctx: _sql(d, ctx, "UPDATE results SET metrics = 'not json {'"))
    sqlite_case("metrics-json-list", lambda d, ctx: _sql(d, ctx, "UPDATE results SET metrics = '[1, 2]'"))
    sqlite_case(
        "metrics-values-strings",
        lambda d, ctx: _sql(d, ctx, 'UPDATE results SET metrics = \'{"rfa_cycle_time": "slow", "fill_rate.islamabad": [1]}\''),
    )
    sqlite_case("metrics-deep-json", lambda d, ctx: _sql(d, ctx, "UPDATE results SET metrics = '" + "[" * 100_000 + "]" * 100_000 + "'"))
    sqlite_case("metrics-blob", lambda d, ctx: _sql(d, ctx, "UPDATE results SET metrics = x'FFFE00'"))
    sqlite_case("metrics-integer", lambda d, ctx: _sql(d, ctx, "UPDATE results SET metrics = 5"))
    sqlite_case("ratings-wrong", lambda d, ctx: _sql(d, ctx, 'UPDATE results SET ratings = \'{"obj_cycle": 5, "obj_fill": ["P"]}\''))
    sqlite_case("seed-text", lambda d, ctx: _sql(d, ctx, "UPDATE results SET seed = 'abc' || seed"), expect="any")
    sqlite_case("replication-text", lambda d, ctx: _sql(d, ctx, "UPDATE results SET replication = 'first'"))
    sqlite_case("error-set", lambda d, ctx: _sql(d, ctx, "UPDATE results SET error = 'boom', metrics = NULL, ratings = NULL"), expect="any")
    sqlite_case("truncated-half", lambda d, ctx: _truncate(_copy_db(d, ctx), 0.5))
    sqlite_case("truncated-100-bytes", lambda d, ctx: _truncate(_copy_db(d, ctx), 100))
    sqlite_case("header-only-page", lambda d, ctx: _truncate(_copy_db(d, ctx), 4096))
    sqlite_case("is-directory", lambda d, ctx: (d / "results.sqlite").mkdir())
    sqlite_case("wal-garbage", lambda d, ctx: (_copy_db(d, ctx), (d / "results.sqlite-wal").write_bytes(rnd.randbytes(8192))), expect="any")
    sqlite_case("control-reuse", lambda d, ctx: _copy_db(d, ctx), cmd="sweep", expect="ok")
    sqlite_case("random-bytes", lambda d, ctx: (d / "results.sqlite").write_bytes(rnd.randbytes(64 * 1024)), cmd="sweep")
    sqlite_case("wrong-schema", lambda d, ctx: _fresh_db(d, "CREATE TABLE results (a TEXT, b TEXT)"), cmd="sweep")


def _fresh_db(d: Path, *statements: str) -> None:
    db = sqlite3.connect(d / "results.sqlite")
    try:
        for s in statements:
            db.execute(s)
        db.commit()
    finally:
        db.close()


def _truncate(path: Path, keep: float) -> None:
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if extra.exists():
            extra.unlink()
    raw = path.read_bytes()
    n = int(len(raw) * keep) if isinstance(keep, float) else int(keep)
    path.write_bytes(raw[:n])


# ---- other command-line input -------------------------------------------------------------------


def cli_case(name: str, make: Callable[[Ctx], tuple[list[Any], list[str]]], expect: str = "refuse", needs: tuple[str, ...] = ()) -> None:
    add(f"cli/{name}", make, expect, needs)


def define_cli_cases() -> None:
    mini = str(MINI)

    def o(ctx, name):
        return out_dir(ctx, f"cli/{name}")

    cli_case("run-variant-unknown", lambda ctx: (["run", mini, "--variant", "nope", "--out", o(ctx, "a")], [mini]))
    cli_case("run-variant-empty", lambda ctx: (["run", mini, "--variant", "", "--out", o(ctx, "b")], [mini]))
    cli_case("run-seed-40-digits", lambda ctx: (["run", mini, "--seed", "1" + "0" * 40, "--out", o(ctx, "c")], [mini]), expect="any")
    cli_case("run-seed-text", lambda ctx: (["run", mini, "--seed", "x", "--out", o(ctx, "e")], [mini]))
    cli_case(
        "run-out-is-file",
        lambda ctx: (["run", mini, "--out", ctx.file("cli/plain-file.txt", "x")], [mini, ctx.file("cli/plain-file.txt", "x")]),
    )
    cli_case(
        "run-out-under-file",
        lambda ctx: (["run", mini, "--out", ctx.file("cli/plain-file.txt", "x") + "/sub"], [mini, ctx.file("cli/plain-file.txt", "x")]),
    )
    cli_case(
        "run-out-nonempty-dir",
        lambda ctx: (
            ["run", mini, "--out", str(Path(ctx.file("cli/nonempty/keep.txt", "x")).parent)],
            [mini, str(ctx.corpus / "cli" / "nonempty")],
        ),
    )
    cli_case(
        "run-filename-with-newline",
        lambda ctx: (
            ["run", ctx.file("cli/bad\nname.yaml", "scenario: [\n"), "--out", o(ctx, "f")],
            [str(ctx.corpus / "cli" / "bad\nname.yaml")],
        ),
    )
    cli_case(
        "run-missing-file",
        lambda ctx: (["run", str(ctx.corpus / "cli" / "none.yaml"), "--out", o(ctx, "h")], [str(ctx.corpus / "cli" / "none.yaml")]),
    )
    cli_case("run-empty-path", lambda ctx: (["run", "", "--out", o(ctx, "i")], ["", "."]))  # "" names the current directory
    cli_case(
        "run-decisions-with-releases",
        lambda ctx: (
            ["run", mini, "--decisions", ctx.file("cli/rel.yaml", "releases: [{inject: 1, t: 1h}]\n"), "--out", o(ctx, "j")],
            [mini, ctx.file("cli/rel.yaml", "releases: [{inject: 1, t: 1h}]\n")],
        ),
    )
    cli_case(
        "validate-two-bad-files",
        lambda ctx: (
            ["validate", ctx.file("cli/bad1.yaml", "scenario: [\n"), ctx.file("cli/bad2.yaml", "- x\n")],
            [ctx.file("cli/bad1.yaml", ""), ctx.file("cli/bad2.yaml", "")],
        ),
    )
    cli_case(
        "validate-good-and-bad",
        lambda ctx: (["validate", mini, ctx.file("cli/bad1.yaml", "scenario: [\n")], [mini, ctx.file("cli/bad1.yaml", "")]),
    )
    cli_case("compare-n-0", lambda ctx: (["compare", mini, "-n", "0", "--workers", "1", "--out", o(ctx, "k")], [mini, o(ctx, "k")]))
    cli_case("compare-n-negative", lambda ctx: (["compare", mini, "-n", "-3", "--workers", "1", "--out", o(ctx, "l")], [mini, o(ctx, "l")]))
    cli_case(
        "compare-variants-unknown",
        lambda ctx: (["compare", mini, "-n", "2", "--workers", "1", "--variants", "nope", "--out", o(ctx, "m")], [mini, o(ctx, "m")]),
    )
    cli_case("compare-workers-0", lambda ctx: (["compare", mini, "-n", "2", "--workers", "0", "--out", o(ctx, "o")], [mini, o(ctx, "o")]))
    cli_case(
        "compare-out-is-file",
        lambda ctx: (
            ["compare", mini, "-n", "2", "--workers", "1", "--out", ctx.file("cli/plain-file.txt", "x")],
            [mini, ctx.file("cli/plain-file.txt", "x")],
        ),
    )

    def sweep(name, *params, n="1", expect="refuse"):
        def make(ctx):
            args: list[Any] = []
            for p in params:
                args += ["--param", p]
            return ["sweep", mini, *args, "-n", n, "--workers", "1", "--out", o(ctx, name)], [mini, o(ctx, name)]

        cli_case(f"sweep-{name}", make, expect)

    sweep("control", "actors.nac.staff=1,2", expect="ok")
    sweep("param-double-dot", "a..b=1,2")
    sweep("param-python-tag", "actors.nac.staff=!!python/object/apply:os.system [true]")
    sweep("param-2009-13-45", "scenario.start=2009-13-45")
    sweep("param-tag-timestamp-soon", "scenario.start=!!timestamp soon")
    sweep("param-5000-digits", "scenario.seed=" + DIGITS_5000)
    sweep("param-unclosed-bracket", "actors.nac.staff=[")
    sweep("param-deep-20000", "actors.nac.staff=" + "[" * 20000 + "]" * 20000)
    sweep("param-bomb", "scenario.description=" + block_bomb_seq_no_commas())
    sweep("param-unknown-path", "nowhere.x=1,2")
    sweep("n-0", "actors.nac.staff=1,2", n="0")
    sweep("n-negative", "actors.nac.staff=1,2", n="-1")

    def play(name, args, expect="refuse", script="decisions: {dp_priority: surge}\n"):
        def make(ctx):
            s = ctx.file(f"cli/{slug(name)}.session.yaml", script)
            full = [a.replace("@SCRIPT", s).replace("@OUT", o(ctx, name)).replace("@DIR", str(ctx.work("cli/" + name))) for a in args]
            return ["play", mini, *full], [mini, s, o(ctx, name)]

        cli_case(f"play-{name}", make, expect)

    play("n-negative", ["--script", "@SCRIPT", "--out", "@OUT", "-n", "-1"], expect="any")
    play("script-and-as", ["--script", "@SCRIPT", "--as", "nac", "--out", "@OUT", "-n", "0"])
    play("as-unknown", ["--as", "nobody", "--session", "@DIR/s.yaml", "--out", "@OUT", "-n", "0"])
    play("console-stdin-at-eof", ["--as", "nac", "--session", "@DIR/s.yaml", "--out", "@OUT", "-n", "0"], expect="any")
    play("session-bomb-at-console", ["--session", "@SCRIPT", "--out", "@OUT", "-n", "0"], script="decisions: " + flow_bomb_map() + "\n")
    play("session-is-directory", ["--session", "@DIR", "--out", "@OUT", "-n", "0"])
    play(
        "seed-with-recorded-session",
        ["--session", "@SCRIPT", "--seed", "9", "--out", "@OUT", "-n", "0"],
        script="at: {t: 1h, step: 3}\nseed: 1\n",
    )
    cli_case(
        "report-format-unknown",
        lambda ctx: (
            ["report", str(ctx.setup["rundir"]), "--format", "pdf", "--out", o(ctx, "r1")],
            [str(ctx.setup["rundir"]), o(ctx, "r1")],
        ),
        needs=("rundir",),
    )
    cli_case(
        "report-out-is-file",
        lambda ctx: (
            ["report", str(ctx.setup["rundir"]), "--out", ctx.file("cli/plain-file.txt", "x")],
            [str(ctx.setup["rundir"]), ctx.file("cli/plain-file.txt", "x")],
        ),
        needs=("rundir",),
    )
    cli_case(
        "msel-export-out-nonexistent-dir",
        lambda ctx: (
            ["msel", "export", mini, "--out", str(ctx.corpus / "cli" / "no" / "such" / "msel.csv")],
            [mini, str(ctx.corpus / "cli" / "no")],
        ),
    )
    cli_case(
        "msel-export-xlsx-nonexistent-dir",
        lambda ctx: (
            ["msel", "export", mini, "--out", str(ctx.corpus / "cli" / "no" / "such" / "msel.xlsx")],
            [mini, str(ctx.corpus / "cli" / "no")],
        ),
    )
    cli_case("msel-export-out-is-dir", lambda ctx: (["msel", "export", mini, "--out", str(ctx.corpus)], [mini, str(ctx.corpus)]))


def define_all() -> None:
    define_scenario_cases()
    define_type_cases()
    define_set_cases()
    define_session_cases()
    define_msel_cases()
    define_report_cases()
    define_sqlite_cases()
    define_cli_cases()


# --------------------------------------------------------------------------------------------
# running


def _limits() -> None:  # preexec_fn: runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["TERM"] = "dumb"
    env["PYTHONFAULTHANDLER"] = "1"  # a case killed by a signal (SIGABRT from a failed allocation...) still says where
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


@dataclass
class Running:
    case: Case
    proc: subprocess.Popen
    start: float
    deadline: float
    out: Path
    err: Path


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def execute(cases: list[Case], jobs: int, timeout: float, env: dict[str, str], label: str = "") -> None:
    """Run the cases, ``jobs`` at a time, each in its own process group; fills ``case.result``."""
    pending = list(cases)
    running: dict[int, Running] = {}
    done = 0
    tty = sys.stderr.isatty()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                c = pending.pop(0)
                io_dir = c.workdir.parent / (c.workdir.name + ".io")
                io_dir.mkdir(parents=True, exist_ok=True)
                out, err = io_dir / "stdout", io_dir / "stderr"
                with out.open("wb") as fo, err.open("wb") as fe:
                    start = time.monotonic()
                    try:
                        proc = subprocess.Popen(
                            [sys.executable, "-m", "coopsim", *c.argv],
                            cwd=c.workdir,
                            stdin=subprocess.DEVNULL,
                            stdout=fo,
                            stderr=fe,
                            env=env,
                            preexec_fn=_limits,
                            start_new_session=True,
                            close_fds=True,
                        )
                    except (OSError, ValueError) as exc:
                        c.result = {"class": "SKIP", "reasons": [f"could not start: {exc}"], "seconds": 0.0}
                        done += 1
                        continue
                running[proc.pid] = Running(c, proc, start, start + (c.timeout or timeout), out, err)
            for pid in list(running):
                r = running[pid]
                wpid, status, usage = os.wait4(pid, os.WNOHANG)
                timed_out = False
                if wpid == 0:
                    if time.monotonic() < r.deadline:
                        continue
                    timed_out = True
                    _killpg(pid)
                    wpid, status, usage = os.wait4(pid, 0)
                elapsed = time.monotonic() - r.start
                _killpg(pid)  # anything the case left behind in its group (pool workers...)
                code = os.waitstatus_to_exitcode(status)
                r.proc.returncode = code
                del running[pid]
                r.case.result = {
                    "returncode": code,
                    "timed_out": timed_out,
                    "seconds": round(elapsed, 3),
                    "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
                    "stdout_file": str(r.out),
                    "stderr_file": str(r.err),
                }
                done += 1
                if tty:
                    sys.stderr.write(f"\r{label}{done}/{len(cases)} ")
                    sys.stderr.flush()
            if running:
                time.sleep(0.005)
    finally:
        for pid in list(running):
            _killpg(pid)
            try:
                os.wait4(pid, 0)
            except ChildProcessError:
                pass
        if tty:
            sys.stderr.write("\r" + " " * 40 + "\r")


# --------------------------------------------------------------------------------------------
# classification


def _read_head_tail(path: Path, head: int = 256 * 1024, tail: int = 64 * 1024) -> tuple[str, str, int, int]:
    """(head text, tail text, size in bytes, lines counted) without reading a huge file into memory."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            h = fh.read(head)
            t = b""
            if size > head:
                fh.seek(max(head, size - tail))
                t = fh.read(tail)
            fh.seek(0)
            lines, scanned = 0, 0
            while scanned < 16 * 1024 * 1024:
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                scanned += len(chunk)
                lines += chunk.count(b"\n")
            if size and not (h + t).endswith(b"\n") and size <= 16 * 1024 * 1024:
                lines += 1
    except OSError:
        return "", "", 0, 0
    return h.decode("utf-8", "replace"), t.decode("utf-8", "replace"), size, lines


_CTRL = {i: f"\\x{i:02x}" for i in list(range(0, 32)) + [127] if i != 9}


def printable(s: str) -> str:
    return s.translate(_CTRL)


_OPTION_ERROR = re.compile(r"^(python -m )?coopsim( [a-z-]+)*: (-[\w-]+|--[\w-]+|[A-Z_]+)((/| / )-\w)?: \S")
_FILE_LINE = re.compile(r"^/\S*?:\d+(:\d+)?: \S")  # an absolute path with a line (and column), whatever the path
"""A command-line mistake located by the option or argument it names: ``coopsim run: --seed: 'x' is not ...``."""


def located(line: str, prefixes: list[str]) -> bool:
    if _OPTION_ERROR.match(line) or _FILE_LINE.match(line):
        return True
    for p in prefixes:
        for form in (p, printable(p)):  # a path with a control character is shown escaped
            if form and line.startswith(form) and line[len(form) :][:1] in (":", "/"):
                return True
    for label in OPTION_LABELS:
        if line.startswith(label) and line[len(label) : len(label) + 1] in (" ", ":", "="):
            return True
    return False


def traceback_info(text: str) -> tuple[str, str] | None:
    """(exception line, innermost frame) of the last traceback in ``text``."""
    i = text.rfind("Traceback (most recent call last):")
    if i < 0:
        fatal = text.find("Fatal Python error:")  # faulthandler: innermost frame first
        if fatal < 0:
            return None
        lines = text[fatal:].splitlines()
        frames = [line.strip() for line in lines if line.startswith("  File ")]
        where = re.sub(r".*?/site-packages/", "site-packages/", (frames[0] if frames else "").replace(str(REPO) + "/", ""))
        inner = next((f for f in frames if "/coopsim/" in f or f.startswith('File "coopsim')), "")
        inner = inner.replace(str(REPO) + "/", "")
        return lines[0].strip(), where + (f" (from {inner})" if inner and inner not in where else "")
    block = text[i:].splitlines()[1:]
    frame, exc = "", ""
    for line in block:
        if line.startswith("  File "):
            frame = line.strip()
        elif line and not line.startswith(" ") and not line.startswith("\t"):
            exc = line
            break
    ours = [line.strip() for line in block if line.startswith("  File ") and "/coopsim/" in line]
    inner = ours[-1].replace(str(REPO) + "/", "") if ours else ""
    frame = frame.replace(str(REPO) + "/", "").replace(sys.prefix + "/", "")
    frame = re.sub(r".*?/site-packages/", "site-packages/", frame)
    return exc.strip(), frame + (f" (from {inner})" if inner and inner != frame else "")


def classify(case: Case) -> None:
    r = case.result
    if r.get("class") == "SKIP":
        return
    head, tail, size, nlines = _read_head_tail(Path(r["stderr_file"]))
    text = head + ("\n[...]\n" + tail if tail else "")
    lines = [line for line in head.splitlines() if line.strip()]
    r["stderr_bytes"] = size
    r["stderr_lines"] = nlines if size > len(head) else len(lines)
    r["first_line"] = lines[0] if lines else ""
    tail_lines = [line for line in (tail or head).splitlines() if line.strip()]
    r["last_line"] = tail_lines[-1] if tail_lines else ""
    reasons: list[str] = []
    tb = traceback_info(text)
    if tb:
        r["exception"], r["raised_at"] = tb
    code = r["returncode"]
    memory = "MemoryError" in text
    if r["timed_out"]:
        reasons.append(f"timed out after {r['seconds']:.1f} s (peak RSS {r['max_rss_mb']:.0f} MB)")
    elif code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        reasons.append(f"killed by {name}" + (" (memory)" if r["max_rss_mb"] > MEM_LIMIT / 2**20 * 0.8 else ""))
    if tb:
        reasons.append(
            "memory: MemoryError" if memory else ("Python fatal error" if tb[0].startswith("Fatal Python error") else "traceback")
        )
    if not r["timed_out"] and code >= 0:
        if code == 0:
            budget = OK_BUDGET.get(case.command, ANSWER_LIMIT)
            if r["seconds"] > budget:
                reasons.append(f"slow accept: {r['seconds']:.1f} s (> {budget:g} s)")
        else:
            if code != 1:
                reasons.append(f"exit status {code}")
            if not lines:
                reasons.append("no message on stderr")
            elif r["stderr_lines"] == 1 or len(lines) == 1:
                if not located(lines[0], case.prefixes):
                    reasons.append("no location in the line")
            else:
                unlocated = [line for line in lines if not located(line, case.prefixes)]
                if unlocated or r["stderr_lines"] > len(lines) + 1:
                    reasons.append(f"{r['stderr_lines']} stderr lines, {len(unlocated)} not located")
            if r["seconds"] > ANSWER_LIMIT:
                reasons.append(f"took {r['seconds']:.1f} s (> {ANSWER_LIMIT:g} s)")
    longest = max((len(line) for line in head.splitlines()), default=0)
    if size > 256 * 1024 or longest > LONG_LINE:
        reasons.append(f"overlong stderr ({size:,} bytes, longest line {max(longest, 0):,} chars)")
    if reasons:
        r["class"] = "BAD"
    elif code == 0:
        r["class"] = "ok"
    elif len(lines) == 1:
        r["class"] = "refused"
    else:
        r["class"] = "refused-multi"
    r["reasons"] = reasons
    if case.expect == "refuse" and r["class"] == "ok":
        r["note"] = "accepted, although the input is wrong"
    elif case.expect == "ok" and r["class"] in ("refused", "refused-multi"):
        r["note"] = "refused, although the input is valid"


def signature(r: dict[str, Any]) -> str:
    """What a BAD result is grouped under: the exception and where it was raised, or the reasons."""
    if r.get("exception"):
        exc = r["exception"]
        kind = exc.split(":", 1)[0]
        return f"{kind} at {r.get('raised_at', '?')}"
    reasons = [re.sub(r"[\d.,]+", "N", x) for x in r.get("reasons", [])]
    return "; ".join(sorted(set(reasons)))


# --------------------------------------------------------------------------------------------
# setup: a real run, a played run and a compare archive to damage


SETUPS = {
    "rundir": lambda ctx: ["run", str(MINI), "--out", str(ctx.corpus / "_setup" / "rundir")],
    "playdir": lambda ctx: [
        "play",
        str(MINI),
        "--script",
        ctx.file("_setup/session.yaml", "decisions: {dp_priority: surge}\nobservations: [{objective: obj_cycle, text: slow, t: 2d}]\n"),
        "--out",
        str(ctx.corpus / "_setup" / "playdir"),
        "-n",
        "2",
        "--workers",
        "1",
    ],
    "compare": lambda ctx: ["compare", str(MINI), "-n", "2", "--workers", "1", "--out", str(ctx.corpus / "_setup" / "compare")],
    "sweep": lambda ctx: [
        "sweep",
        str(MINI),
        "--param",
        "actors.nac.staff=1,2",
        "-n",
        "1",
        "--workers",
        "1",
        "--out",
        str(ctx.corpus / "_setup" / "sweep"),
    ],
}


def run_setups(ctx: Ctx, names: set[str], jobs: int, env: dict[str, str]) -> None:
    cases = []
    for name in sorted(names):
        c = Case(f"setup/{name}", lambda ctx: ([], []), timeout=120)
        c.argv = SETUPS[name](ctx)
        c.workdir = ctx.work(c.name)
        cases.append(c)
    execute(cases, jobs, 120, env, "setup ")
    for c in cases:
        name = c.name.split("/", 1)[1]
        if c.result.get("returncode") == 0:
            ctx.setup[name] = ctx.corpus / "_setup" / name
        else:
            err = Path(c.result.get("stderr_file", "/dev/null"))
            tail = err.read_text(errors="replace")[-500:] if err.exists() else ""
            print(f"setup {name} failed (exit {c.result.get('returncode')}): {tail.strip()}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# main


def describe_code() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "coopsim"], capture_output=True, text=True, timeout=10
        ).stdout.split("\n")
        changed = [line[3:] for line in dirty if line.strip()]
        return f"{head}" + (f" + uncommitted changes in {', '.join(changed)}" if changed else " (clean)")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTRING", help="run only cases whose name contains this (repeatable)")
    ap.add_argument("--keep", metavar="DIR", help="write the corpus, outputs and results.json into DIR and keep them")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="cases run at once (default: 2)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before a case is killed (default: 10)")
    ap.add_argument("--list", action="store_true", help="list the case names and exit")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)

    define_all()
    names = [c.name for c in CASES]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        print(f"internal error: duplicate case names {sorted(dupes)}", file=sys.stderr)
        return 2
    selected = [c for c in CASES if not args.only or any(s in c.name for s in args.only)]
    if args.list:
        for c in selected:
            print(c.name)
        return 0
    if not selected:
        print("no case matches --only", file=sys.stderr)
        return 2
    check = subprocess.run([sys.executable, "-c", "import coopsim"], capture_output=True, text=True)
    if check.returncode != 0:
        print(f"{sys.executable} cannot import coopsim; run this with the venv's python (. /tmp/venv/bin/activate)", file=sys.stderr)
        return 2

    if args.keep:
        root = Path(args.keep).resolve()
        if root.exists() and any(root.iterdir()):
            print(f"--keep {root}: exists and is not empty (expected a new directory)", file=sys.stderr)
            return 2
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = Path(tempfile.mkdtemp(prefix="coopsim-break-")).resolve()
    env = child_env()
    t0 = time.monotonic()
    try:
        ctx = Ctx(root, MINI.read_text(encoding="utf-8"))
        ctx.corpus.mkdir(parents=True, exist_ok=True)
        needs = {n for c in selected for n in c.needs}
        if needs:
            run_setups(ctx, needs, args.jobs, env)
        runnable = []
        for c in selected:
            c.workdir = ctx.work(c.name)
            try:
                c.argv, c.prefixes = c.build(ctx)
            except Exception as exc:  # noqa: BLE001 - a case that cannot be built is reported, not fatal
                c.result = {"class": "SKIP", "reasons": [f"build failed: {type(exc).__name__}: {exc}"[:300]], "seconds": 0.0}
                continue
            runnable.append(c)
        built = time.monotonic() - t0
        execute(runnable, max(1, args.jobs), args.timeout, env)
        for c in runnable:
            try:
                classify(c)
            except Exception as exc:  # noqa: BLE001
                c.result.update({"class": "SKIP", "reasons": [f"could not classify: {exc}"]})
        confirm_timing(runnable, args, env)
        report(selected, root, built, time.monotonic() - t0, args)
        if args.json or args.keep:
            path = Path(args.json) if args.json else root / "results.json"
            path.write_text(
                json.dumps(
                    [
                        {
                            "name": c.name,
                            "expect": c.expect,
                            "argv": [a if isinstance(a, str) else repr(a) for a in (c.argv or [])][:12],
                            **{k: v for k, v in c.result.items() if not k.endswith("_file")},
                        }
                        for c in selected
                    ],
                    indent=1,
                    default=str,
                    ensure_ascii=False,
                )
            )
            print(f"results written to {path}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def confirm_timing(cases: list[Case], args, env: dict[str, str]) -> None:
    """Refusals BAD only for taking > 2 s while cases ran in parallel are run again alone.

    With --jobs 2 on 2 cores (and whatever else the machine is doing) a 1.8 s
    refusal can take 2.2 s. A refusal writes nothing, so running it again is
    safe; it stays BAD only if it is also slow alone.
    """
    if args.jobs <= 1:
        return
    slow = [
        c
        for c in cases
        if c.result.get("class") == "BAD"
        and c.result.get("returncode") == 1
        and all(r.startswith("took ") for r in c.result.get("reasons", []))
    ]
    again = []
    for c in slow:
        twin = Case(c.name, c.build, c.expect, c.needs)
        twin.argv, twin.prefixes = c.argv, c.prefixes
        twin.workdir = c.workdir.parent / (c.workdir.name + ".again")
        twin.workdir.mkdir(parents=True, exist_ok=True)
        again.append((c, twin))
    if not again:
        return
    execute([t for _, t in again], 1, args.timeout, env, "timing re-run ")
    for c, twin in again:
        try:
            classify(twin)
        except Exception:  # noqa: BLE001
            continue
        first = c.result["seconds"]
        if twin.result.get("class") == "BAD":
            c.result["reasons"] = [
                r + f" (alone: {twin.result['seconds']:.1f} s)" if r.startswith("took ") else r for r in c.result["reasons"]
            ]
        else:
            c.result.update({k: twin.result[k] for k in ("class", "seconds", "reasons", "returncode", "max_rss_mb")})
            c.result["note"] = f"took {first:.1f} s with {args.jobs} cases at once, {twin.result['seconds']:.1f} s alone (load-sensitive)"


def report(cases: list[Case], root: Path, built: float, total: float, args) -> None:
    w = max(len(c.name) for c in cases)
    w = min(w, 70)
    print(f"coopsim {describe_code()}; {len(cases)} cases; corpus {'kept in ' + str(root) if args.keep else 'in a temporary directory'}")
    print(f"{'case':<{w}}  {'class':<13} {'secs':>6} {'MB':>6}  first stderr line")
    print("-" * (w + 100))
    for c in cases:
        r = c.result
        first = printable(r.get("first_line", "") or ("; ".join(r.get("reasons", [])) if r.get("class") == "SKIP" else ""))
        if len(first) > 200:
            first = first[:197] + "..."
        mb = f"{r['max_rss_mb']:.0f}" if "max_rss_mb" in r else ""
        print(f"{c.name:<{w}}  {r.get('class', '?'):<13} {r.get('seconds', 0):>6.2f} {mb:>6}  {first}")
    bad = [c for c in cases if c.result.get("class") == "BAD"]
    if bad:
        print("\nBAD cases: reasons, and the last line of the traceback with where it was raised")
        for c in bad:
            r = c.result
            print(f"  {c.name}: {'; '.join(r['reasons'])}")
            if r.get("exception"):
                print(f"      {printable(r['exception'])[:200]}")
                print(f"      at {r.get('raised_at', '?')[:200]}")
            elif r.get("last_line") and r.get("last_line") != r.get("first_line"):
                print(f"      last stderr line: {printable(r['last_line'])[:200]}")
        groups: dict[str, list[str]] = {}
        for c in bad:
            groups.setdefault(signature(c.result), []).append(c.name)
        print("\nBAD cases grouped by cause")
        for sig, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"  [{len(members)}] {printable(sig)[:220]}")
            for name in members:
                print(f"        {name}")
    notes = [c for c in cases if c.result.get("note")]
    if notes:
        print("\nNot BAD, but worth a look")
        for c in notes:
            print(f"  {c.name}: {c.result['note']} ({c.result.get('class')})")
    counts: dict[str, int] = {}
    for c in cases:
        counts[c.result.get("class", "?")] = counts.get(c.result.get("class", "?"), 0) + 1
    order = ["ok", "refused", "refused-multi", "BAD", "SKIP"]
    summary = ", ".join(f"{k} {counts[k]}" for k in order + sorted(set(counts) - set(order)) if k in counts)
    print(f"\nSummary: {summary}  ({len(cases)} cases, corpus built in {built:.0f} s, {total:.0f} s in all)")


if __name__ == "__main__":
    sys.exit(main())
