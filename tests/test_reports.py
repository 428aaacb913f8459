"""The after-action report: reading run directories, ODCR rules, and the Markdown/JSON outputs."""

from __future__ import annotations

import json
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINI

from coopsim.cli import main
from coopsim.engine import ScenarioError, load_scenario, run
from coopsim.engine.log.records import FactWithheld, Incident
from coopsim.engine.log.rundir import RunDirError, read_run
from coopsim.reports.aar import core_capability
from coopsim.reports.markdown import SECTIONS
from coopsim.reports.odcr import Evidence, Lesson, lesson
from coopsim.reports.write import write_report

PARTS = {"transit": 8.0, "queue": 1.0, "processing": 4.0, "rework": 0.0, "approval": 40.0, "transport": 10.0}


def evidence(scenario, records=(), values=None, detail=None, cycle: float | None = None) -> Evidence:
    """Evidence for the lesson rules: a run made of ``records``, with the airlift request's parts as PARTS if ``cycle``."""
    from dataclasses import replace

    from coopsim.engine import Metrics, Part, RequestTrack, RequestTracks, in_progress

    run_data = in_progress(Path("."), scenario, records, Metrics(values or {}, (), detail or {}), 240.0)
    if cycle is not None:
        tracks = RequestTracks()
        tracks["airlift"] = RequestTrack("airlift", parts={Part(k): v for k, v in PARTS.items()}, submitted=3.0, completed=3.0 + cycle)
        run_data = replace(run_data, requests=tracks)
    return Evidence(run_data)


@pytest.fixture
def mini():
    return load_scenario(MINI)


def _objective(scenario, oid):
    return scenario.by_id["objectives"][oid]


def test_approval_dominated_cycle_is_put_on_the_approver(mini):
    ev = evidence(mini, values={"rfa_cycle_time": 63.0}, cycle=63.0)
    assert lesson(_objective(mini, "obj_cycle"), "S", 63.0, ev) == Lesson(
        objective="obj_cycle",
        kind="improvement",
        observation="RFA handled promptly: 63.0 h against a target of 72.0 h; rated S.",
        discussion="The request airlift took 63.0 h from submission to completion: transit 8.0 h, queue 1.0 h, processing 4.0 h, "
        "approval 40.0 h, transport 10.0 h. The largest part was approval (63%).",
        conclusion="Deliberation at nac set the pace of the response.",
        recommendation="Agree criteria under which nac pre-authorises such requests.",
        responsible="North Atlantic Council, NATO",
        capability="Planning",
        responsible_actor="nac",
    )


def test_a_rated_p_objective_is_a_strength_to_sustain(mini):
    x = lesson(_objective(mini, "obj_cycle"), "P", 63.0, evidence(mini, cycle=63.0))
    assert x.kind == "strength"
    assert x.conclusion == "Performed without challenges: deliberation at nac set the pace of the response."
    # a strength sustains what worked: it never advises adding or changing what was not a constraint
    assert x.recommendation == (
        "Sustain: record the arrangements behind this objective as a good practice and keep them in the next exercise."
    )


def test_withheld_fact_is_traced_to_the_agreement(mini):
    objective = mini.objectives[0].model_copy(
        update={"id": "obj_info", "name": "OCHA knows the flights", "metric": "info_latency.flights.un_ocha"}
    )
    withheld = FactWithheld(48.0, 30, "shape", "flights", "un_ocha", "no agreement in force releases class 'operational' from NATO to UN")
    x = lesson(objective, "U", None, evidence(mini, (withheld,), detail={"facts": {}}))
    assert (x.discussion, x.conclusion, x.recommendation, x.responsible, x.capability) == (
        "SHAPE did not pass “Flight schedule” (operational, restricted) to UN OCHA at 48.0 h: "
        "no agreement in force releases class 'operational' from NATO to UN.",
        "The operational information was not releasable to UN OCHA under the agreements in force.",
        "Extend an information-sharing arrangement to cover 'operational' information up to restricted.",
        "SHAPE, NATO",
        "Planning",
    )
    assert x.observation == (
        "OCHA knows the flights: not reached in this run (target 72.0 h); rated U. UN OCHA never received “Flight schedule”:"
        " SHAPE withheld it at 48.0 h, since no agreement in force releases class 'operational' from NATO to UN."
    )


def test_incidents_call_for_escorts(mini):
    objective = mini.objectives[0].model_copy(update={"id": "obj_safe", "name": "No attacks", "metric": "incidents"})
    hits = tuple(Incident(50.0 + i, i, "shape", "c17", f"trip{i}", "airlift", "coast", False, 40.0) for i in range(2))
    x = lesson(objective, "U", 2.0, evidence(mini, hits))
    assert x.discussion == "2 incident(s) in transit, 2 on coast; 2 of them unescorted; 80 t lost and carried again."
    assert x.recommendation == "Escort loaded transits on coast, and hold sailings until an escort is free."


def test_the_planners_recommendation_is_kept_apart_from_the_finding(mini):
    # the planners' standing advice may name what already exists, or another cause: it never replaces the finding
    objective = _objective(mini, "obj_cycle").model_copy(update={"recommendation": "Post a liaison officer at OCHA."})
    x = lesson(objective, "S", 90.0, evidence(mini, cycle=90.0))
    assert x.planners_note == "Post a liaison officer at OCHA."
    assert x.recommendation == "Agree criteria under which nac pre-authorises such requests."


@pytest.mark.parametrize("name", ["pakistan-earthquake-2005", "somalia-wfp-escort-2008"])
def test_report_has_every_section_row_and_lesson(name, tmp_path):
    run(load_scenario(name), out=tmp_path / "run")
    out = write_report(tmp_path / "run")
    md = (out / "report.md").read_text()
    doc = json.loads((out / "report.json").read_text())
    for section in SECTIONS:
        assert f"## {section}" in md
    scenario = load_scenario(name)
    for o in scenario.objectives:
        assert f"| {o.name} | {core_capability(o)} | {o.metric} |" in md
    assert len(doc["lessons"]) == len(scenario.objectives)
    assert len(doc["timeline"]) == len(doc["appendices"]["msel"]) == len(scenario.injects)
    assert 3 <= len(doc["executive_summary"]) <= 6
    assert {p["capability"] for p in doc["improvement_plan"]} <= {"Planning", "Organization", "Equipment", "Training", "Exercise"}
    assert doc["appendices"]["provenance"]["seed"] == scenario.scenario.seed


def test_scenario_text_is_escaped(vary, tmp_path):
    def edit(d):
        d["scenario"]["description"] = "Relief <script>alert('x')</script> & more | pipes"
        d["injects"][0]["description"] = "<img src=x onerror=alert(1)>"

    run(vary(edit), out=tmp_path / "run")
    md = (write_report(tmp_path / "run") / "report.md").read_text()
    assert "<script>" not in md and "<img" not in md
    assert "Relief &lt;script&gt;alert('x')&lt;/script&gt; &amp; more \\| pipes" in md


def test_missing_or_damaged_run_files_are_named(vary, tmp_path):
    with pytest.raises(RunDirError, match="no such run directory"):
        read_run(tmp_path / "nothing")
    run(vary(lambda d: None), out=tmp_path / "run")
    log = tmp_path / "run" / "events.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:-1]))
    with pytest.raises(RunDirError, match=r"events.jsonl: has changed since the run wrote it \(its sha256 is not the one manifest.json"):
        read_run(tmp_path / "run")
    # a run written before the manifest kept checksums is still checked line by line
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    del manifest["sha256"]
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunDirError, match=r"events.jsonl: holds 45 records but the manifest says 46 \(truncated\?\)"):
        read_run(tmp_path / "run")
    log.write_text("".join(lines[:-1]) + lines[-1][:20])
    with pytest.raises(RunDirError, match=r"events.jsonl:46: not a complete record"):
        read_run(tmp_path / "run")
    (tmp_path / "run" / "metrics.json").write_text("{")
    with pytest.raises(RunDirError, match=r"metrics.json: not readable JSON"):
        read_run(tmp_path / "run")
    (tmp_path / "run" / "metrics.json").write_text('{"values": [], "objectives": []}')
    with pytest.raises(RunDirError, match=r"metrics.json: values: input should be a valid dictionary \(expected the file as coopsim"):
        read_run(tmp_path / "run")
    (tmp_path / "run" / "manifest.json").unlink()
    with pytest.raises(RunDirError, match=r"manifest.json: missing"):
        read_run(tmp_path / "run")


def test_report_command(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(MINI), "--out", str(tmp_path / "run"), "--report"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "run" / "report").iterdir()) == [
        ".coopsim",
        "charts",
        "report.html",
        "report.json",
        "report.md",
    ]
    bad = runner.invoke(main, ["report", str(tmp_path / "nope")])
    assert bad.exit_code == 1
    assert bad.output.strip() == f"{tmp_path / 'nope'}: no such run directory (expected the --out directory of `coopsim run`)"
    assert "Traceback" not in bad.output


class _Page(HTMLParser):
    """Collects what a reader sees: section ids, table rows, images and any script."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.scripts, self.rows, self.handlers = [], [], 0, 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "script":
            self.scripts += 1
        elif tag == "tr":
            self.rows += 1
        self.handlers += [k for k in attrs if k.startswith("on")]


@pytest.mark.parametrize("name", ["pakistan-earthquake-2005", "somalia-wfp-escort-2008"])
def test_html_report_is_self_contained_with_every_section_row_and_chart(name, tmp_path):
    scenario = load_scenario(name)
    run(scenario, out=tmp_path / "run")
    out = write_report(tmp_path / "run")
    page = _Page()
    page.feed((out / "report.html").read_text())
    assert page.sections == ["overview", "summary", "objectives", "lessons", "timeline", "decisions", "improvement-plan", "appendices"]
    assert len(page.images) == 6 and all(src.startswith("data:image/png;base64,") for src in page.images)
    doc = json.loads((out / "report.json").read_text())
    header_rows = 4 + bool(doc["decisions"]) + bool(doc["improvement_plan"])
    overview_rows = 10  # the HSEEP exercise overview: name, dates, scope, mission areas, ..., point of contact
    expected_rows = (
        len(doc["objectives"])
        + len(doc["timeline"])
        + len(doc["decisions"])
        + len(doc["improvement_plan"])
        + len(doc["appendices"]["msel"])
        + len(doc["appendices"]["event_summary"])
        + header_rows
        + overview_rows
    )
    assert page.rows == expected_rows
    assert page.scripts == 0 and page.handlers == []
    assert "http" not in (out / "report.html").read_text().split("<body>")[0]  # nothing fetched from the network


def test_html_escapes_scenario_text(vary, tmp_path):
    def edit(d):
        d["scenario"]["description"] = "Relief <script>alert('x')</script>"
        d["injects"][0]["description"] = "<img src=x onerror=alert(1)>"

    run(vary(edit), out=tmp_path / "run")
    html = (write_report(tmp_path / "run", formats=("html",)) / "report.html").read_text()
    page = _Page()
    page.feed(html)
    assert page.scripts == 0 and page.handlers == [] and len(page.images) == 6
    assert "Relief &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_charts_are_png_images_of_a4_width(tmp_path):
    from coopsim.engine.log.rundir import read_run
    from coopsim.reports.charts import DPI, WIDTH_IN, draw_all

    run(load_scenario("somalia-wfp-escort-2008"), out=tmp_path / "run")
    charts = draw_all(read_run(tmp_path / "run"))
    assert [c.name for c in charts] == [
        "request_gantt",
        "delay_waterfall",
        "delivered_vs_demand",
        "information_latency",
        "asset_utilisation",
        "message_flow",
    ]
    for c in charts:
        assert c.png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", c.png[16:24])
        assert width == round(WIDTH_IN * DPI) and 200 < height < 2000, c.name
        assert len(c.png) > 10_000, c.name  # something was drawn
        assert c.title and c.caption.endswith(".")


def test_times_in_the_report_are_calendar_dates_with_local_time_where_a_zone_is_set():
    from coopsim.reports.summary import calendar

    assert calendar("2008-09-25T00:00:00+00:00")(14.0) == "25 Sep 2008 14:00 UTC (day 1, 14.0 h)"
    nairobi = calendar("2008-09-25T00:00:00Z", "Africa/Nairobi")  # UTC+3
    assert nairobi(14.0) == "25 Sep 2008 14:00 UTC, 17:00 local (day 1, 14.0 h)"
    assert nairobi(47.5) == "26 Sep 2008 23:30 UTC, 02:30 local on 27 Sep (day 2, 47.5 h)"
    assert calendar("2005-10-10T05:00:00+05:00")(0.0) == "10 Oct 2005 00:00 UTC (day 1, 0.0 h)"  # an offset start is turned to UTC


def test_an_unknown_time_zone_is_one_located_line(mini_data):
    from conftest import scenario_from

    mini_data["scenario"]["timezone"] = "Africa/Atlantis"
    with pytest.raises(ScenarioError) as caught:
        scenario_from(mini_data)
    assert str(caught.value).endswith(
        "scenario.timezone: unknown time zone 'Africa/Atlantis' (expected an IANA name such as Africa/Nairobi or Asia/Karachi)"
    )


def test_the_report_carries_its_handling_banner_contents_and_a4_print_layout(tmp_path):
    s = load_scenario("somalia-wfp-escort-2008")
    run(s, out=tmp_path / "run")
    out = write_report(tmp_path / "run")
    html = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert html.count('<div class="banner') == 2 and "EXERCISE EXERCISE EXERCISE" in html
    assert md.startswith("**EXERCISE EXERCISE EXERCISE**") and md.rstrip().endswith("**EXERCISE EXERCISE EXERCISE**")
    for anchor in ("overview", "summary", "objectives", "lessons", "timeline", "decisions", "improvement-plan", "appendices"):
        assert f'<a href="#{anchor}">' in html and f'<section id="{anchor}">' in html
    assert "@page { size: A4;" in html and "break-before: page" in html
    assert "Scenario time starts 25 Sep 2008 00:00 UTC, 03:00 local (day 1, 0.0 h) (Africa/Nairobi)" in html
