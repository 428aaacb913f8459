"""Tabletop play at the table: the Table, seat views, exact resume, and the facilitator's console."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pexpect
import pytest
import yaml
from click.testing import CliRunner
from conftest import MINI

from coopsim.cli import main
from coopsim.engine import Decision, ScriptedDecider, load_scenario, run
from coopsim.engine.tabletop.session import Session, play
from coopsim.engine.tabletop.table import Tabletop

LEAK = {
    "seq": 3,
    "contingency": True,
    "type": "information",
    "to": ["un_ocha"],
    "description": "A journalist passes OCHA the NATO flight schedule",
    "fact": "flights",
    "objective": "obj_cycle",
}


@pytest.fixture
def leaky(vary):
    """mini.yaml with a contingency inject that hands OCHA the NATO flight schedule."""
    return vary(lambda d: d["injects"].append(LEAK))


def facts(view) -> list[tuple[str, list[tuple[str, float, str]]]]:
    return [(f.fact, [(k.actor, k.since, k.source) for k in f.known_by]) for f in view.facts]


def lines(records) -> list[str]:
    return [r.json_line() for r in records]


def surge(point, situation) -> Decision:
    return Decision("surge", "Alice (nac seat)", "faster loading")


# -- seats ------------------------------------------------------------------------------------


def test_a_un_seat_cannot_see_a_nato_fact_not_releasable_to_the_un(leaky):
    table = Tabletop(leaky, Session())
    table.advance_to(60)
    # SHAPE's flight schedule (operational, restricted) went to the NAC; the agreement covers only humanitarian facts
    assert [(r.actor, r.fact, r.to) for r in table.records if r.kind == "fact_withheld"] == [("shape", "flights", "un_ocha")]
    assert facts(table.view()) == [
        ("damage", [("un_ocha", 2.0, "SIMCELL"), ("eadrcc", 10.0, "un_ocha")]),
        ("flights", [("shape", 48.0, "shape"), ("nac", 50.0, "shape")]),
    ]
    assert facts(table.view("un_ocha")) == [("damage", [("un_ocha", 2.0, "SIMCELL")])]
    assert facts(table.view("nac")) == [("flights", [("nac", 50.0, "shape")])]

    # the facilitator leaks it to OCHA: OCHA now holds it, but its seat still may not be shown it
    table.release(3)
    table.go_on()
    table.go_on()
    assert table.world.knowledge["un_ocha"]["flights"] == (61.0, "SIMCELL", 0)
    assert ("un_ocha", 61.0, "SIMCELL") in dict(facts(table.view()))["flights"]
    assert facts(table.view("un_ocha")) == [("damage", [("un_ocha", 2.0, "SIMCELL")])]


def test_a_seat_view_follows_agreements_by_the_table_clock(vary):
    # the NATO seat holds OCHA's damage assessment only while the agreement is in force (until 20h)
    table = Tabletop(vary(lambda d: d["agreements"][0].update(valid_until="20h")), Session())
    table.advance_to(11)
    assert [f.fact for f in table.view("eadrcc").facts] == ["damage"]
    table.advance_to(21)  # a quiet stretch: the last event was at 14h
    assert (table.simulation.now, table.view("eadrcc").t) == (14.0, 21.0)
    assert table.view("eadrcc").facts == ()


def test_a_seat_sees_its_own_injects_requests_and_assets(leaky):
    table = Tabletop(leaky, Session())
    table.advance_to(30)
    ocha, shape = table.view("un_ocha"), table.view("shape")
    assert [(i.seq, i.released, i.expected_action) for i in ocha.injects] == [(1, 1.0, ""), (2, 2.0, "Submit RFA")]
    assert shape.injects == ()
    assert [(r.request, r.state) for r in ocha.requests] == [("airlift", "in_progress")]
    assert ocha.assets == () and [(a.asset, a.busy, a.units) for a in shape.assets] == [("c17", 2, 2)]


# -- the table --------------------------------------------------------------------------------


def test_a_session_played_at_the_table_is_the_run_its_decisions_script_gives(leaky):
    table = Tabletop(leaky, Session(), ask=surge)
    stops = []
    while not table.finished:
        table.go_on()
        stops.append(table.clock)
    assert stops == [1.0, 2.0, 26.0, 240.0]  # two injects, the decision, the end
    assert table.session.decisions["dp_priority"].option == "surge" and table.session.decisions["dp_priority"].t == 26.0
    script = {"dp_priority": {"option": "surge", "by": "Alice (nac seat)", "rationale": "faster loading"}}
    scripted = run(leaky, decider=ScriptedDecider(script), keep_records=True).records
    assert lines(table.records) == lines(scripted)


def test_advancing_in_small_steps_gives_the_same_log_as_running_straight_through(leaky):
    table = Tabletop(leaky, Session())
    t = 0
    while not table.finished:
        t += 7
        table.advance_to(t)
    assert t == 77  # nothing happens after the last delivery, so the run is over then
    assert lines(table.records) == lines(run(leaky, keep_records=True).records)


def test_a_saved_session_resumes_exactly_where_it_stopped(leaky, tmp_path):
    saved: list[Session] = []
    first = Tabletop(leaky, Session(), ask=surge, save=saved.append)
    first.go_on()
    first.go_on()
    first.observe("OCHA asked before the assessment was shared", "obj_cycle")
    first.advance_to(30.5)  # the decision is taken on the way
    first.release(3)
    first.go_on()
    kept = first.session
    kept.save(tmp_path / "s.yaml")
    first.advance_to(100)
    first.go_on()

    def nobody(point, situation):
        raise AssertionError("a recorded decision was asked again")

    resumed = Tabletop(leaky, Session.from_file(tmp_path / "s.yaml"), ask=nobody)
    assert (resumed.clock, resumed.steps, resumed.replayed) == (kept.at.t, kept.at.step, (1, 1))
    assert lines(resumed.records) == lines(first.records)[: len(resumed.records)]
    resumed.advance_to(100)
    resumed.go_on()
    assert lines(resumed.records) == lines(first.records)

    # and the scripted replay of the finished session writes the same log
    result = play(leaky, first.session, tmp_path / "run", replications=0)
    assert (tmp_path / "run" / "events.jsonl").read_text().splitlines(keepends=True) == lines(first.records)
    assert result.manifest["records"] == len(first.records)


def test_every_change_is_saved_as_it_happens(leaky):
    saved: list[Session] = []
    table = Tabletop(leaky, Session(), ask=surge, save=saved.append)
    table.advance_to(30)
    table.observe("noted")
    kinds = [
        ("decision" if len(s.decisions) > len(p.decisions) else "observation" if len(s.observations) > len(p.observations) else "pause")
        for p, s in zip([Session(), *saved], saved, strict=False)
    ]
    assert kinds == ["decision", "pause", "observation"]
    assert saved[-1].observations[-1].t == 30.0


def test_quitting_at_a_decision_stops_the_run_and_asks_nobody_else(vary):
    def two_points(d):
        second = dict(d["decision_points"][0], id="dp_second", name="Second")
        d["decision_points"].append(second)

    asked = []

    def quit_(point, situation):
        asked.append(point.id)
        raise KeyboardInterrupt

    table = Tabletop(vary(two_points), Session(), ask=quit_)
    with pytest.raises(KeyboardInterrupt):
        table.advance_to(100)
    assert asked == ["dp_priority"]


def test_a_scripted_release_is_planned_not_replayed_by_advancing(leaky, tmp_path):
    (tmp_path / "s.yaml").write_text("releases:\n  - {inject: 3, t: 36h}\n")
    table = Tabletop(leaky, Session.from_file(tmp_path / "s.yaml"), ask=surge)
    assert (table.clock, table.steps) == (0.0, 0)  # play starts at the start
    assert table.contingencies() == {}  # inject 3 is already planned
    while not table.finished:
        table.go_on()
    assert table.released[3] == 36.0
    play(leaky, table.session, tmp_path / "run", replications=0)
    assert (tmp_path / "run" / "events.jsonl").read_text().splitlines(keepends=True) == lines(table.records)


def test_nothing_can_be_released_after_the_end(leaky):
    table = Tabletop(leaky, Session())
    table.advance_to(10_000)
    assert table.finished and table.contingencies() == {}
    with pytest.raises(ValueError, match="the run has ended"):
        table.release(3)


def test_the_session_document_reads_back_as_written(leaky, tmp_path):
    table = Tabletop(leaky, Session(seats=("un_ocha",)), ask=surge)
    table.advance_to(1 / 3)
    table.release(3)
    table.observe('Quote "this" [and that]', "obj_fill", by="Ana")
    table.session.save(tmp_path / "s.yaml")
    back = Session.from_file(tmp_path / "s.yaml")
    assert back.model_dump() == table.session.model_dump()
    assert back.releases[0].t == 1 / 3  # exactly, through the text


# -- the facilitator's console ------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def play_args(tmp_path: Path, *more: str) -> list[str]:
    return ["play", str(MINI), "--session", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"), "-n", "2", "--workers", "1", *more]


def test_wrong_answers_at_the_prompts_are_asked_again(runner, tmp_path):
    typed = "\n".join(
        ["zzz", "", "", "", "fast", "", "2", "", "  ", "surge is faster", "", "a soon", "o", "9", "1", "", "Slow start", "", "q"]
    )
    result = runner.invoke(main, play_args(tmp_path, "--as", "un_ocha"), input=typed + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Unknown command 'zzz'." in out
    assert "No 'fast' here. Choose a number 1-2, or one of: standard, surge." in out
    assert "Nothing entered. Choose a number 1-2, or one of: standard, surge." in out
    assert out.count("A rationale is required") == 2
    assert "Cannot read 'soon' as a time; write it like 36h, 2d, or +6h from now." in out
    assert "No '9' here. Choose a number 1-2, or one of: obj_cycle, obj_fill; or just Enter." in out
    assert "An observation needs some text" in out
    assert f"Session saved to {tmp_path / 's.yaml'}\n" in out
    session = Session.from_file(tmp_path / "s.yaml")
    assert session.decisions["dp_priority"].model_dump() == {"option": "surge", "by": "nac seat", "rationale": "surge is faster", "t": 26.0}
    assert [(o.objective, o.text, o.t) for o in session.observations] == [("obj_cycle", "Slow start", 26.0)]
    assert session.seats == ("un_ocha",) and session.at.t == 26.0
    assert not (tmp_path / "out").exists()  # quit before the end: no report yet


def test_end_of_input_saves_and_quits_and_the_session_resumes(runner, tmp_path):
    # the input ends at the rationale prompt: re-asked, then saved without the half-made decision
    first = runner.invoke(main, play_args(tmp_path), input="\n\n\nsurge\n")
    assert first.exit_code == 0, first.output
    assert first.output.count("(Ctrl-D: nothing entered. Type q to save and quit") == 2
    assert "Input ended." in first.output
    assert Session.from_file(tmp_path / "s.yaml").decisions == {}

    second = runner.invoke(main, play_args(tmp_path), input="\nstandard\nkeep it simple\nBo\n\n\n")
    assert second.exit_code == 0, second.output
    assert "Resumed from" in second.output and "DECISION dp_priority" in second.output
    assert "Report in" in second.output
    decision = Session.from_file(tmp_path / "s.yaml").decisions["dp_priority"]
    assert (decision.option, decision.by) == ("standard", "Bo (nac seat)")
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "keep it simple" in report and "Counterfactuals" in report


def test_the_facilitator_releases_an_inject_draws_a_chart_and_views_a_seat(runner, tmp_path, mini_data):
    mini_data["injects"].append(LEAK)
    scenario = tmp_path / "leaky.yaml"
    scenario.write_text(yaml.safe_dump(mini_data, sort_keys=False))
    typed = ["a 36h", "2", "faster", "", "r", "2", "3", "", "v un_ocha", "v unhcr", "g", "7", "", "q"]
    args = ["play", str(scenario), "--session", str(tmp_path / "s.yaml"), "--as", "un_ocha"]
    result = runner.invoke(main, args, input="\n".join(typed) + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "No '2' here. Choose one of: 3; or just Enter." in out
    assert "Inject 3 released at t=36.0h" in out
    assert "Inject 3 | released 36.0h | information by message | SIMCELL -> un_ocha | objective obj_cycle | contingency" in out
    assert "What un_ocha sees at t=36.0h" in out
    assert "No organisation 'unhcr'. One of: un_ocha, eadrcc, nac, shape" in out
    chart = tmp_path / "s-charts" / "request_gantt-t36h.png"
    assert "Request lifecycle" in out and str(chart) in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    session = Session.from_file(tmp_path / "s.yaml")
    assert [(r.inject, r.t) for r in session.releases] == [(3, 36.0)] and session.releases[0].step > 0


def test_typed_text_is_kept_as_typed_never_read_as_markup(runner, tmp_path):
    typed = ["a 100h", "2", "[/x] because [bold]", "[Col. Brandt]", "o", "", "[/x]", "", "r", "q"]
    result = runner.invoke(main, play_args(tmp_path), input="\n".join(typed) + "\n")
    assert result.exit_code == 0, result.output
    assert "What nac sees at t=26.0h" in result.output  # the decision's own time, though the clock was heading for 100h
    assert "The run has ended; nothing can be released now." in result.output
    session = Session.from_file(tmp_path / "s.yaml")
    assert (session.decisions["dp_priority"].rationale, session.decisions["dp_priority"].by) == (
        "[/x] because [bold]",
        "[Col. Brandt] (nac seat)",
    )
    assert session.observations[0].text == "[/x]"


def test_a_session_keeps_its_variant_and_seed_when_resumed(runner, tmp_path):
    first = runner.invoke(main, play_args(tmp_path, "--variant", "slow_channel", "--seed", "7"), input="q\n")
    assert first.exit_code == 0, first.output
    session = Session.from_file(tmp_path / "s.yaml")
    assert (session.variant, session.seed) == ("slow_channel", 7)
    second = runner.invoke(main, play_args(tmp_path), input="\n\n\nq\n")
    assert "Variant: slow_channel; seed 7." in second.output
    assert "DECISION dp_priority" in second.output and "at t=44.0h" in second.output  # the slow channel delays it from 26h


def test_play_refuses_what_it_cannot_do(runner, tmp_path):
    (tmp_path / "s.yaml").write_text("seed: 5\nat: {t: 1h, step: 5}\n")
    cases = {
        ("--script", str(tmp_path / "s.yaml"), "--as", "un_ocha"): "--script plays a whole session without a terminal; "
        "--session and --as are for play at the table",
        ("--session", str(tmp_path / "s.yaml"), "--seed", "6"): f"{tmp_path / 's.yaml'}: the session was recorded with seed 5; "
        "resume it without --seed",
        ("--session", str(tmp_path / "new.yaml"), "--as", "un_ocha,unhcr"): "--as: no organisation 'unhcr' in the scenario "
        "(one of: un_ocha, eadrcc, nac, shape)",
    }
    for args, error in cases.items():
        result = runner.invoke(main, ["play", str(MINI), *args])
        assert result.exit_code == 1 and result.stderr.strip() == error, result.output


def test_an_earlier_session_is_never_overwritten_by_a_new_one(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "mini-session.yaml").write_text("decisions: {}\n")
    result = runner.invoke(main, ["play", str(MINI)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "runs/mini-session.yaml holds an earlier session: resume it with --session runs/mini-session.yaml, "
        "or start another with --session NEW.yaml"
    )


# -- at a real terminal --------------------------------------------------------------------------


def spawn(where: Path, *args: str, term: str | None = "dumb", size: tuple[int, int] = (24, 40)):
    """The console at a real terminal (a pty) of ``size`` (rows, columns), with ``TERM`` set to ``term`` or unset."""
    env = {k: v for k, v in os.environ.items() if k not in ("TERM", "COLUMNS", "LINES")}
    if term is not None:
        env["TERM"] = term
    return pexpect.spawn(
        sys.executable,
        ["-m", "coopsim", *play_args(where, *args)],
        cwd=where,
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=size,
    )


def words(text: str) -> str:
    """A pattern for prose the console may wrap at any width: the words in order, any whitespace between them."""
    return r"\s+".join(re.escape(w) for w in text.split())


@pytest.fixture
def long_dir(tmp_path) -> Path:
    """A directory whose path is long whatever the machine's temporary directory: a path the console must never break."""
    where = tmp_path / ("a-folder-with-a-long-name-like-a-shared-drive-" * 2) / ("exercise-2026-nato-un-tabletop-" * 2)
    where.mkdir(parents=True)
    assert len(str(where)) > 150
    return where


@pytest.mark.parametrize("term", ["dumb", None], ids=["TERM=dumb", "TERM-unset"])
def test_a_session_killed_mid_way_resumes_and_ends_as_if_never_stopped(long_dir, term):
    tmp_path = long_dir
    child = spawn(tmp_path, term=term)
    child.expect("command> ")
    child.sendcontrol("d")  # Ctrl-D at a terminal: re-asked, nothing lost
    child.expect(words("(Ctrl-D: nothing entered"))
    child.expect("command> ")
    for _ in range(3):
        child.sendline("")
        child.expect(r"(command|option).*> ")
    child.sendline("surge")
    child.expect("rationale.*> ")
    child.sendcontrol("d")
    child.expect("rationale.*> ")
    child.sendline("Faster loading")
    child.expect("decided by.*> ")
    child.sendline("Alice")
    child.expect("command> ")
    child.sendline("o")
    child.expect("objective.*> ")
    child.sendline("obj_cycle")
    child.expect("observation> ")
    child.sendline("Loading was the bottleneck")
    child.expect("observed by.*> ")
    child.sendline("")
    child.expect("command> ")
    child.kill(signal.SIGKILL)  # the power goes at the table
    child.wait()

    child = spawn(tmp_path, term=term, size=(24, 30))  # a narrower terminal still: the path stays whole on one line
    child.expect_exact(f"Resumed from {tmp_path / 's.yaml'} at t=26.0h")
    child.expect("command> ")
    child.sendline("a 300h")
    child.expect(words("press Enter to write"))
    child.expect("command> ")
    child.sendline("")
    child.expect_exact(f"Report in {tmp_path / 'out' / 'report'}/")
    child.expect(pexpect.EOF)

    session = Session.from_file(tmp_path / "s.yaml")
    assert [o.text for o in session.observations] == ["Loading was the bottleneck"]
    script = {"dp_priority": {"option": "surge", "by": "Alice (nac seat)", "rationale": "Faster loading"}}
    never_stopped = run(load_scenario(MINI), decider=ScriptedDecider(script), keep_records=True)
    assert (tmp_path / "out" / "events.jsonl").read_text().splitlines(keepends=True) == lines(never_stopped.records)


def test_the_resume_command_is_printed_whole_at_any_width(long_dir):
    child = spawn(long_dir, size=(24, 20))
    child.expect("command> ")
    child.sendline("q")
    child.expect(pexpect.EOF)
    said = child.before.replace("\r\n", "\n")
    assert f"\nSession saved to {long_dir / 's.yaml'}\nResume with:\n" in said
    assert f"\n  coopsim play {MINI} --session {long_dir / 's.yaml'}\n" in said
