"""The command line: help with examples, one-line errors without tracebacks, runs that write their outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coopsim.cli import main

MINI = Path(__file__).parent / "data" / "mini.yaml"
REPO = Path(__file__).parent.parent
HEAVY = {"simpy", "pydantic", "matplotlib", "numpy"}

BAD_STAFF_LINE = "13:67: actors.shape.staff: got 'two' (expected a whole number)"


@pytest.fixture
def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click 8.1: keep stderr apart
    except TypeError:
        return CliRunner()  # click >= 8.2 always keeps it apart


@pytest.fixture
def bad_file(tmp_path) -> Path:
    text = MINI.read_text(encoding="utf-8")
    assert text.count("military: true, staff: 2") == 1
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("military: true, staff: 2", "military: true, staff: two"), encoding="utf-8")
    return path


def assert_one_line_error(result, line: str) -> None:
    """Exit status 1, exactly ``line`` on stderr, nothing on stdout, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception
    assert result.stderr == line + "\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


# -- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["validate"],
        ["run"],
        ["scenarios"],
        ["schema"],
        ["report"],
        ["compare"],
        ["check-decisions"],
        ["sweep"],
        ["new"],
        ["msel"],
        ["msel", "export"],
        ["msel", "import"],
        ["play"],
    ],
    ids=lambda c: " ".join(c) or "group",
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help_with_an_example(runner, command, flag):
    result = runner.invoke(main, [*command, flag])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    assert "Example" in result.output


def test_group_help_lists_every_command(runner):
    result = runner.invoke(main, ["--help"])
    commands = result.output.split("Commands:", 1)[1]
    assert [line.split()[0] for line in commands.strip().splitlines()] == [
        "check-decisions",
        "compare",
        "msel",
        "new",
        "play",
        "report",
        "run",
        "scenarios",
        "schema",
        "serve",
        "sweep",
        "validate",
    ]


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert "0.1.0" in result.output


# -- validate -------------------------------------------------------------------------------


def test_validate_good_file_prints_ok(runner):
    result = runner.invoke(main, ["validate", str(MINI)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok  {MINI}: Mini airlift (4 actors, 2 injects, ")
    assert result.stderr == ""


def test_validate_bad_file_prints_the_problem_line(runner, bad_file):
    result = runner.invoke(main, ["validate", str(bad_file)])
    assert_one_line_error(result, f"{bad_file}:{BAD_STAFF_LINE}")


def test_validate_reports_bad_files_and_passes_good_ones(runner, bad_file):
    result = runner.invoke(main, ["validate", str(bad_file), str(MINI)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"ok  {MINI}: ")
    assert result.stderr == f"{bad_file}:{BAD_STAFF_LINE}\n"


def test_validate_missing_file(runner, tmp_path):
    missing = tmp_path / "nowhere.yaml"
    result = runner.invoke(main, ["validate", str(missing)])
    assert_one_line_error(result, f"{missing}:1:1: cannot read the file: No such file or directory (a readable YAML file)")


def test_validate_bad_file_in_a_real_process_has_no_traceback(bad_file):
    proc = subprocess.run([sys.executable, "-m", "coopsim", "validate", str(bad_file)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == f"{bad_file}:{BAD_STAFF_LINE}\n"
    assert "Traceback" not in proc.stdout + proc.stderr


# -- run ------------------------------------------------------------------------------------


def test_run_prints_rated_objectives_and_writes_outputs(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(MINI), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".coopsim", "events.jsonl", "manifest.json", "metrics.json", "scenario.yaml"]

    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    objectives = {o["name"]: o for o in metrics["objectives"]}
    assert set(objectives) == {"RFA handled promptly", "Relief delivered"}
    lines = result.stdout.splitlines()
    assert "Objectives (HSEEP: P performed, S some challenges, M major challenges, U unable)" in lines
    for name, objective in objectives.items():
        # Each objective is printed once, with the rating that metrics.json records.
        [line] = [line for line in lines if re.match(rf"^  [PSMU]  {re.escape(name)} +{re.escape(objective['metric'])} = ", line)]
        assert line.split()[0] == objective["rating"]
    assert "  P  RFA handled promptly  rfa_cycle_time = 61.0 h (target 72.0 h)" in lines

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outcome"]["status"] == "completed"
    assert manifest["seed"] == 1  # the scenario's own seed
    events = [json.loads(line) for line in (out / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(events) == manifest["records"] > 0


def test_run_with_a_bad_set_value(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(MINI), "--out", str(out), "--set", "actors.nac.staff=abc"])
    assert_one_line_error(
        result,
        "--set actors.nac.staff=abc:1:18: actors.nac.staff: got 'abc' (expected a whole number)",
    )
    assert not out.exists()


def test_run_with_a_bad_file(runner, tmp_path, bad_file):
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(bad_file), "--out", str(out)])
    assert_one_line_error(result, f"{bad_file}:{BAD_STAFF_LINE}")
    assert not out.exists()


def decisions_file(tmp_path: Path, choice: str) -> Path:
    path = tmp_path / "decisions.yaml"
    path.write_text(f"decisions:\n  dp_priority: {choice}\n", encoding="utf-8")
    return path


def decisions_taken(out: Path) -> list[dict]:
    events = [json.loads(line) for line in (out / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    return [e for e in events if e["kind"] == "decision_taken"]


def test_run_with_decisions_records_the_scripted_choice(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(MINI), "--out", str(out), "--decisions", str(decisions_file(tmp_path, "surge"))])
    assert result.exit_code == 0, result.output
    [taken] = decisions_taken(out)
    assert (taken["decision"], taken["option"], taken["by"]) == ("dp_priority", "surge", "script")


def test_run_without_decisions_takes_the_default(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(MINI), "--out", str(out)])
    assert result.exit_code == 0, result.output
    [taken] = decisions_taken(out)
    assert (taken["decision"], taken["option"], taken["by"]) == ("dp_priority", "standard", "default")


def test_run_with_decisions_naming_an_unknown_option(runner, tmp_path):
    out = tmp_path / "run"
    script = decisions_file(tmp_path, "fast")
    result = runner.invoke(main, ["run", str(MINI), "--out", str(out), "--decisions", str(script)])
    assert_one_line_error(result, f"{script}:2:16: dp_priority has no option 'fast' (one of: standard, surge)")
    assert not out.exists()


# -- schema and scenarios -------------------------------------------------------------------


def test_schema_prints_json_schema(runner):
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert {"scenario", "actors"} <= set(schema["properties"])
    assert "actors" in schema["required"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_scenarios_lists_without_error(runner):
    result = runner.invoke(main, ["scenarios"])
    assert result.exit_code == 0, result.output


# -- python -m coopsim and import cost ------------------------------------------------------


def test_python_m_coopsim_help():
    proc = subprocess.run([sys.executable, "-m", "coopsim", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: ")
    assert "Example" in proc.stdout


def imported_packages(*args: str) -> set[str]:
    """Top-level packages imported by ``python -X importtime -m coopsim ARGS``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "coopsim", *args], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            if module != "imported package":
                names.add(module.split(".")[0])
    return names


def test_help_does_not_import_the_engine_dependencies():
    imported = imported_packages("--help")
    assert "coopsim" in imported and "click" in imported  # the parse found the imports
    assert not imported & HEAVY, f"--help imported {sorted(imported & HEAVY)}"


def test_import_check_sees_heavy_imports_when_they_happen():
    # Control for the test above: validating really does import pydantic.
    assert "pydantic" in imported_packages("validate", str(MINI))


# -- output directories: every run keeps its own --------------------------------------------------


def test_every_run_keeps_its_own_directory_unless_replacing_is_asked_for(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "choices.yaml").write_text("decisions:\n  dp_priority: surge\n")

    def outputs(*args: str) -> str:
        result = runner.invoke(main, ["run", str(MINI), *args])
        assert result.exit_code == 0, result.output
        return re.search(r"Outputs in (\S+)/:", result.stdout).group(1)

    assert outputs() == "runs/mini-s1"
    assert outputs() == "runs/mini-s1-2"  # a plain re-run never replaces the first
    decided = outputs("--decisions", "choices.yaml")
    assert re.fullmatch(r"runs/mini-s1-[0-9a-f]{8}", decided)
    assert outputs("--set", "actors.nac.approval=6h") not in (decided, "runs/mini-s1")
    assert outputs("--variant", "slow_channel", "--seed", "3") == "runs/mini-slow_channel-s3"
    assert outputs("--replace") == "runs/mini-s1"
    assert {"mini-s1", "mini-s1-2", decided.split("/")[1]} <= {p.name for p in (tmp_path / "runs").iterdir()}
    manifest = json.loads((tmp_path / decided / "manifest.json").read_text())
    assert manifest["decisions"] == [{"point": "dp_priority", "option": "surge", "by": "script", "t": 26.0}]

    again = runner.invoke(main, ["run", str(MINI), "--out", "runs/mini-s1"])
    assert_one_line_error(again, "runs/mini-s1: holds an earlier run (expected a new directory, or --replace to write over it)")


def test_long_work_shows_progress_on_a_terminal_and_none_in_a_pipe(tmp_path):
    import pexpect

    args = ["-m", "coopsim", "compare", str(MINI), "-n", "40", "--workers", "1", "--out", str(tmp_path / "a")]
    child = pexpect.spawn(sys.executable, args, env={**os.environ, "TERM": "xterm"}, encoding="utf-8", timeout=120, dimensions=(24, 100))
    child.expect(r"replications.*\d+/\d+")  # the progress display: done of total
    child.expect(pexpect.EOF)
    assert "Comparison report in" in child.before
    piped = subprocess.run([sys.executable, *args[:-1], str(tmp_path / "b")], capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""  # nothing of a progress display reaches a pipe
