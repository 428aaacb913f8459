"""Hostile and broken input, at every door: one located line, exit 1, quickly and in bounded memory.

Each case is a class of input that once hung coopsim, crashed it, or passed
silently: alias bombs of every shape and place, deep nesting, oversized
files, scalars the YAML type system cannot construct, workbooks that are not
workbooks, spreadsheet formulas, live links in Markdown, and semantic
mistakes (trigger cycles, reversed windows, absurd durations). The bombs and
the oversized file run in a child process with an address-space limit, so a
regression that expands them shows up as a failure rather than a swapping
machine; the generous timeout only tells a hang from an answer.
"""

from __future__ import annotations

import json
import re
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINI

from coopsim.cli import main
from coopsim.engine import load_scenario

MINI_TEXT = MINI.read_text(encoding="utf-8")
BOMB_VALUES = (
    "the document holds more than 100,000 values, counting those its aliases repeat "
    "(a scenario-sized document; a YAML alias bomb is refused)"
)
TOO_DEEP = "mappings and lists nest more than 100 levels deep (the few levels of nesting a scenario needs)"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def laughs(levels: int = 9, mapping: bool = False, indent: str = "") -> str:
    """A "billion laughs": each level repeats the one before nine times."""
    lines = [f"{indent}l0: &l0 " + ("{a: lol, b: lol}" if mapping else "[lol, lol, lol, lol, lol, lol, lol, lol, lol]")]
    for i in range(1, levels):
        refs = [f"*l{i - 1}"] * 9
        body = "{" + ", ".join(f"k{j}: {r}" for j, r in enumerate(refs)) + "}" if mapping else "[" + ", ".join(refs) + "]"
        lines.append(f"{indent}l{i}: &l{i} {body}")
    return "\n".join(lines) + "\n"


def coopsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command line in a child process limited to 1 GB of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        [sys.executable, "-m", "coopsim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        preexec_fn=limit,
    )


def one_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# -- alias bombs, deep nesting, oversized files ----------------------------------------------------


def test_a_billion_laughs_of_every_shape_and_place_is_refused_in_one_line(tmp_path):
    top = tmp_path / "laughs.yaml"
    top.write_text(laughs() + MINI_TEXT)
    assert one_line(coopsim("validate", "laughs.yaml", cwd=tmp_path)) == f"laughs.yaml:6:10: {BOMB_VALUES}"  # the alias over budget

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(laughs(levels=8, mapping=True) + MINI_TEXT)
    assert one_line(coopsim("validate", "mapping.yaml", cwd=tmp_path)).startswith("mapping.yaml:6:")

    in_variant = tmp_path / "variant.yaml"
    in_variant.write_text(MINI_TEXT.replace("variants:\n", "variants:\n  bomb:\n    patch:\n" + laughs(indent="      "), 1))
    assert re.fullmatch(rf"variant\.yaml:\d+:\d+: {re.escape(BOMB_VALUES)}", one_line(coopsim("validate", "variant.yaml", cwd=tmp_path)))

    (tmp_path / "choices.yaml").write_text(laughs() + "decisions: {}\n")
    refused = one_line(coopsim("run", str(MINI), "--decisions", "choices.yaml", "--out", "run", cwd=tmp_path))
    assert refused == f"choices.yaml:6:10: {BOMB_VALUES}"
    assert not (tmp_path / "run").exists()

    levels = [f"&{c} [{', '.join(['*' + p] * 10)}]" for p, c in zip("abcdefg", "bcdefgh", strict=True)]
    inline = "[" + ", ".join(["&a [x, x, x, x, x, x, x, x, x, x]", *levels]) + "]"
    refused = one_line(coopsim("run", str(MINI), "--set", f"scenario.sources={inline}", cwd=tmp_path))
    assert re.fullmatch(rf"--set scenario\.sources=\[&a \[x, x, x.*\.\.\.:1:\d+: {re.escape(BOMB_VALUES)}", refused)


def test_one_long_string_repeated_by_aliases_is_refused_by_the_text_budget(tmp_path):
    path = tmp_path / "strings.yaml"
    path.write_text('big: &b "' + "x" * 1_000_000 + '"\nmany: [' + ", ".join(["*b"] * 2000) + "]\n" + MINI_TEXT)
    assert one_line(coopsim("validate", "strings.yaml", cwd=tmp_path)) == (
        "strings.yaml:2:36: the document holds more than 8 MB of text, counting what its aliases repeat "
        "(a scenario-sized document; a YAML alias bomb is refused)"
    )


def test_deep_nesting_is_refused_where_it_goes_too_deep(tmp_path):
    (tmp_path / "flow.yaml").write_text("deep: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert one_line(coopsim("validate", "flow.yaml", cwd=tmp_path)) == f"flow.yaml:1:1006: {TOO_DEEP}"  # where libyaml's scan stops
    (tmp_path / "block.yaml").write_text("".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "v\n")
    assert one_line(coopsim("--input-limit", "20MB", "validate", "block.yaml", cwd=tmp_path)) == f"block.yaml:101:101: {TOO_DEEP}"
    override = "scenario.name=" + "[" * 20_000
    refused = one_line(coopsim("run", str(MINI), "--set", override, cwd=tmp_path))
    assert refused == f"--set {override[:57]}...:1:1015: {TOO_DEEP}"  # the label is cut short; the column counts in the whole value
    refused = one_line(coopsim("run", str(MINI), "--set", "a." * 5000 + "b=1", cwd=tmp_path))
    assert refused == (
        "--set a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a...:1:1: "
        "the patch reaches more than 100 levels deep (a path of a few dotted names)"
    )


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    with (tmp_path / "huge.yaml").open("wb") as fh:
        fh.truncate(50 << 20)  # 50 MB, sparse: the size alone must refuse it
    expected = (
        "huge.yaml:1:1: the file is 50 MB, over the input limit of 4 MB (a smaller file, or a higher limit: coopsim --input-limit 8MB ...)"
    )
    assert one_line(coopsim("validate", "huge.yaml", cwd=tmp_path)) == expected
    assert one_line(coopsim("run", str(MINI), "--decisions", "huge.yaml", cwd=tmp_path)) == expected
    assert one_line(coopsim("msel", "import", "huge.yaml", "--into", str(MINI), cwd=tmp_path)) == expected
    raised = coopsim("--input-limit", "60MB", "validate", "huge.yaml", cwd=tmp_path)
    assert one_line(raised).startswith("huge.yaml:1:1: character '\\x00' is not allowed in YAML")


# -- scalars the YAML type system cannot construct ----------------------------------------------


@pytest.mark.parametrize(
    ("written", "line"),
    [
        ("start: 2009-13-45", "invalid timestamp '2009-13-45': month must be in 1..12"),
        ("start: 2005-02-30T25:61:00Z", "invalid timestamp '2005-02-30T25:61:00Z': day is out of range for month"),
        ("start: !!timestamp soon", "invalid timestamp 'soon': not a date"),
        ("seed: !!int x", "invalid int 'x': not a whole number"),
        ("seed: !!float abc", "invalid float 'abc': not a number"),
        ("seed: !!bool maybe", "invalid bool 'maybe': not true or false"),
    ],
)
def test_a_scalar_its_type_cannot_take_is_a_located_line(runner, tmp_path, written, line):
    key = written.split(":")[0]
    old = next(x for x in MINI_TEXT.splitlines() if x.strip().startswith(f"{key}:"))
    path = tmp_path / "bad.yaml"
    path.write_text(MINI_TEXT.replace(old, "  " + written, 1))
    number = MINI_TEXT.splitlines().index(old) + 1
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    col = len("  " + key + ": ") + 1
    assert result.stderr.splitlines()[0].startswith(f"{path}:{number}:{col}: {line} (")


# -- semantic mistakes that used to pass -----------------------------------------------------------


def test_triggers_in_a_cycle_a_reversed_window_and_an_absurd_duration_are_errors(runner, tmp_path):
    cycle = MINI_TEXT.replace(
        "injects:\n",
        "injects:\n"
        "  - {seq: 8, trigger: {inject: 9}, to: [un_ocha], description: first}\n"
        "  - {seq: 9, trigger: {inject: 8}, to: [un_ocha], description: second}\n",
        1,
    )
    (tmp_path / "cycle.yaml").write_text(cycle)
    line = cycle.splitlines().index("  - {seq: 8, trigger: {inject: 9}, to: [un_ocha], description: first}") + 1
    result = runner.invoke(main, ["validate", str(tmp_path / "cycle.yaml")])
    assert result.stderr == (
        f"{tmp_path / 'cycle.yaml'}:{line}:23: triggers wait on each other in a cycle (inject 8 -> inject 9 -> inject 8), "
        "so none of them can ever happen (a trigger that starts from a time, a request, a fact, or an inject outside the cycle)\n"
    )
    clo = "liaison=[{id: clo, name: NATO liaison, from: eadrcc, at: un_ocha, absent: [{from: 23d, until: 20d}]}]"
    result = runner.invoke(main, ["run", str(MINI), "--set", clo])
    assert result.exit_code == 1
    assert result.stderr.endswith(": the window ends at 480h, before it starts at 552h (expected until after from)\n")
    for absurd in ("1e20d", "100000000000000000000d", "1e400d"):
        result = runner.invoke(main, ["run", str(MINI), "--set", f"scenario.duration={absurd}"])
        assert result.stderr == (
            f"--set scenario.duration={absurd}:1:19: scenario.duration: '{absurd}' is over 100 years "
            "(expected a duration of at most 100 years, such as 30d or 2w)\n"
        )


def test_a_cycle_broken_by_a_decision_release_is_not_an_error(vary):
    def edit(d):
        d["injects"] += [
            {"seq": 8, "trigger": {"inject": 9}, "to": ["un_ocha"], "description": "first"},
            {"seq": 9, "trigger": {"inject": 8}, "to": ["un_ocha"], "description": "second"},
        ]
        d["decision_points"][0]["options"][1]["action"] = {"release_inject": 8}
        d["decision_points"][0]["options"][1].pop("patch", None)

    assert [i.seq for i in vary(edit).injects][-2:] == [8, 9]


# -- spreadsheets ---------------------------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_one_line(runner, tmp_path):
    (tmp_path / "msel.xlsx").write_text("seq,scenario_time\n1,1h\n")
    result = runner.invoke(main, ["msel", "import", str(tmp_path / "msel.xlsx"), "--into", str(MINI)])
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'msel.xlsx'}:1: not an Excel workbook (expected an .xlsx file saved by a spreadsheet)\n"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formulas_in_scenario_text_never_run_in_a_spreadsheet_and_round_trip(runner, tmp_path, suffix):
    payloads = ["=cmd|' /C calc'!A0", '@HYPERLINK("http://x")']
    scenario = tmp_path / "s.yaml"
    text = MINI_TEXT.replace("description: Earthquake damage assessment arrives", f"description: {json.dumps(payloads[0])}", 1)
    text = text.replace("description: OCHA asks NATO for airlift", f"description: {json.dumps(payloads[1])}", 1)
    text = text.replace("expected_action: Submit RFA", 'expected_action: "\'quoted already"', 1)
    scenario.write_text(text)
    assert [i.description for i in load_scenario(scenario).injects] == payloads
    sheet = tmp_path / f"msel{suffix}"
    assert runner.invoke(main, ["msel", "export", str(scenario), "--out", str(sheet)]).exit_code == 0
    if suffix == ".csv":
        cells = [c for row in sheet.read_text().splitlines() for c in row.split(",")]
        assert not any(c.lstrip('"').startswith(("=", "+", "-", "@", "\t")) for c in cells)
    else:
        from openpyxl import load_workbook

        book = load_workbook(sheet)
        header = [c.value for c in book.active[1]]
        cells = [(header[c.column - 1], c) for row in book.active.iter_rows(min_row=2) for c in row if c.value is not None]
        assert all(type(c.value) is int for name, c in cells if name in ("seq", "day"))  # numbers, which cannot be formulas
        assert all(c.data_type == "s" and c.quotePrefix for name, c in cells if name not in ("seq", "day"))
        assert all(c.data_type == "s" for c in book.active[1])
    assert runner.invoke(main, ["msel", "import", str(sheet), "--into", str(scenario)]).exit_code == 0
    back = load_scenario(scenario).injects
    assert [i.description for i in back] == payloads and back[1].expected_action == "'quoted already"


def test_msel_export_never_replaces_what_it_did_not_export(runner, tmp_path):
    scenario = tmp_path / "my-exercise.yaml"
    scenario.write_text(MINI_TEXT)
    result = runner.invoke(main, ["msel", "export", str(MINI), "--out", str(scenario)])
    assert result.stderr == f"{scenario}: exists and is not an MSEL export; coopsim never replaces it (expected a new file name)\n"
    assert scenario.read_text() == MINI_TEXT
    out = tmp_path / "msel.csv"
    assert runner.invoke(main, ["msel", "export", str(MINI), "--out", str(out)]).exit_code == 0
    again = runner.invoke(main, ["msel", "export", str(MINI), "--out", str(out)])
    assert again.stderr == f"{out}: holds an earlier MSEL export (expected a new file name, or --replace to write over it)\n"
    assert runner.invoke(main, ["msel", "export", str(MINI), "--out", str(out), "--replace"]).exit_code == 0


# -- Markdown that stays text ---------------------------------------------------------------------


def test_scenario_text_never_becomes_a_live_link_or_markup_in_the_markdown_report(runner, tmp_path):
    hostile = "[click me](javascript:alert(1)) <img src=x onerror=alert(1)> ![x](http://evil/x.png)"
    scenario = tmp_path / "s.yaml"
    described = MINI_TEXT.replace("description: A small UN request for NATO airlift, for tests.", f"description: {json.dumps(hostile)}")
    scenario.write_text(described)
    assert runner.invoke(main, ["run", str(scenario), "--out", str(tmp_path / "run"), "--report"]).exit_code == 0
    md = (tmp_path / "run" / "report" / "report.md").read_text()
    assert "\\[click me\\](javascript&#58;alert(1)) &lt;img src=x onerror=alert(1)&gt; !\\[x\\](http://evil/x.png)" in md
    assert "](javascript:" not in md and "<img" not in md and "![x]" not in md


# -- output directories of experiments -----------------------------------------------------------


def test_compare_writes_only_into_its_own_archive_and_names_a_damaged_one(runner, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "draft.txt").write_text("mine")
    result = runner.invoke(main, ["compare", str(MINI), "-n", "1", "--workers", "1", "--out", str(notes)])
    assert result.stderr == f"{notes}: is not empty and was not made by coopsim; it is never written into (expected a new directory)\n"
    out = tmp_path / "cmp"
    assert runner.invoke(main, ["compare", str(MINI), "-n", "1", "--workers", "1", "--out", str(out)]).exit_code == 0
    (out / "results.sqlite").write_bytes(b"this is not a database, whatever its name says" * 100)
    for leftover in ("results.sqlite-wal", "results.sqlite-shm"):
        (out / leftover).unlink(missing_ok=True)
    result = runner.invoke(main, ["compare", str(MINI), "-n", "1", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{out / 'results.sqlite'}: not a coopsim results archive, or damaged (file is not a database) (expected a new --out directory)\n"
    )
    with sqlite3.connect(tmp_path / "other.sqlite") as db:
        db.execute("CREATE TABLE results (a)")
    sweep = tmp_path / "sweep"
    result = runner.invoke(main, ["sweep", str(MINI), "--param", "actors.nac.staff=1,2", "-n", "1", "--workers", "1", "--out", str(out)])
    assert result.stderr == f"{out}: holds a coopsim comparison output, not a sweep archive (expected a new directory)\n"
    assert not sweep.exists()


# -- run directories read by report ---------------------------------------------------------------


def test_a_run_directory_forged_or_damaged_in_any_file_is_one_line(runner, tmp_path):
    run_dir = tmp_path / "run"
    assert runner.invoke(main, ["run", str(MINI), "--out", str(run_dir)]).exit_code == 0
    manifest = json.loads((run_dir / "manifest.json").read_text())

    def forged(name: str, text: str) -> str:
        """Write ``text`` into ``name`` and the manifest's checksum to match, as a forger would; the report's one line."""
        import hashlib

        (run_dir / name).write_text(text)
        m = json.loads(json.dumps(manifest))
        m["sha256"][name] = hashlib.sha256(text.encode()).hexdigest()
        (run_dir / "manifest.json").write_text(json.dumps(m))
        result = runner.invoke(main, ["report", str(run_dir)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert len(result.stderr.splitlines()) == 1
        return result.stderr.strip()

    log = (run_dir / "events.jsonl").read_text()
    metrics = (run_dir / "metrics.json").read_text()
    damaged = f"{run_dir / 'events.jsonl'}:1: not a complete record (the log is truncated or damaged)"
    assert forged("events.jsonl", "[" * 100_000 + "\n" + log) == damaged
    bad_type = log.replace('"t":1.0,', '"t":"soon",', 1)
    assert bad_type != log
    assert forged("events.jsonl", bad_type).startswith(f"{run_dir / 'events.jsonl'}:1: not a complete record")
    (run_dir / "events.jsonl").write_text(log)
    too_deep = f"{run_dir / 'metrics.json'}: JSON nested too deeply to read (expected the JSON coopsim wrote)"
    assert forged("metrics.json", "[" * 100_000) == too_deep
    assert forged("metrics.json", '{"values": {"x": "fast"}, "objectives": []}') == (
        f"{run_dir / 'metrics.json'}: values.x: input should be a valid number (expected the file as coopsim wrote it)"
    )
    (run_dir / "metrics.json").write_text(metrics)
    (run_dir / "manifest.json").write_text(json.dumps({**manifest, "records": "45"}))
    result = runner.invoke(main, ["report", str(run_dir)])
    wrong = "records: input should be a valid integer (expected the file as coopsim wrote it)"
    assert result.stderr == f"{run_dir / 'manifest.json'}: {wrong}\n"
