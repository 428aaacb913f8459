"""The sweep report: rankings by objective name, level means in units, honest counts, a self-contained HTML and the tornado chart.

The sweeps here are tiny (two parameters of two levels, two replications, the
``mini.yaml`` fixture, which is smaller than any bundled scenario and has an
hours objective and a share objective), so the whole file runs in seconds.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from conftest import MINI

from coopsim import __version__
from coopsim.cli import main
from coopsim.engine import Comparison, experiment_key, load_scenario
from coopsim.engine.experiments.design import Replication, ReplicationResult
from coopsim.reports.sweep import main_effects, tornado_figure, write_sweep_report

PARAMS = ["--param", "actors.nac.approval=6h,20d", "--param", "channels.un_nato.latency=6h,1d"]
GRID = {"actors.nac.approval": ["6h", "20d"], "channels.un_nato.latency": ["6h", "1d"]}


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click 8.1: keep stderr apart
    except TypeError:
        return CliRunner()  # click >= 8.2 always keeps it apart


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """One CLI sweep of mini.yaml: its output directory and what the command printed."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    result = _runner().invoke(main, ["sweep", str(MINI), *PARAMS, "-n", "2", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def expected_markdown(reused: int = 0) -> str:
    sha = experiment_key(load_scenario(MINI))
    return f"""# Sweep: Mini airlift

4 combinations of the parameters below, 2 replications each (8 runs), with the same seeds at every combination (common random numbers).

| Parameter | What it sets | Levels |
|---|---|---|
| actors.nac.approval | North Atlantic Council approval: time to deliberate on a request this actor approves | 6h, 20d |
| channels.un_nato.latency | un_nato latency | 6h, 1d |

- Scenario: Mini airlift (sha256 {sha[:12]})
- Replications per combination: 2
- Seeds: 1, 2

## Findings

- North Atlantic Council approval (actors.nac.approval) moves “RFA handled promptly” most: 64.0 h at 6h to 240.0 h at 20d (reached in 0 of 4 runs); the target is 72.0 h, lower is better.
- North Atlantic Council approval (actors.nac.approval) moves “Relief delivered” most: 100% at 6h to 0% at 20d; the target is 100%, higher is better.

## RFA handled promptly

Target 72.0 h; lower is better. Measured as rfa_cycle_time: submission to completion of a request for assistance.

| Rank | Parameter | Main effect | Level | Mean | Runs |
|---|---|---|---|---|---|
| 1 | actors.nac.approval | 176.0 h | 6h | 64.0 h | reached in 4 of 4 |
| | | | 20d | 240.0 h | reached in 0 of 4 |
| 2 | channels.un_nato.latency | 9.0 h | 6h | 147.5 h | reached in 2 of 4 |
| | | | 1d | 156.5 h | reached in 2 of 4 |

Where the event was not reached in every run, the mean is a restricted mean: each run that never reached it counts as the whole 240 h window.

## Relief delivered

Target 100%; higher is better. Measured as fill_rate.islamabad: delivered over demanded tonnes at a site.

| Rank | Parameter | Main effect | Level | Mean | Runs |
|---|---|---|---|---|---|
| 1 | actors.nac.approval | 100 points | 6h | 100% | measured in 4 of 4 |
| | | | 20d | 0% | measured in 4 of 4 |
| 2 | channels.un_nato.latency | 0 points (under the 5 points that matters) | 6h | 50% | measured in 4 of 4 |
| | | | 1d | 50% | measured in 4 of 4 |

## Chart

![Parameter effects](charts/tornado.png)

*Parameter effects.* Each blue bar spans the means of the objective's metric at one parameter's levels, with the level written at each end and a dark tick at every level; the widest bar, on top, is the parameter that moves the objective most. The dashed grey line is the objective's target. A level marked (k/n) reached the event, or measured the metric, in only k of its n runs; for a time to an event the unreached runs count as the whole window.

## How to read this

A level's mean is over every run at that level: all combinations of the other parameters, all replications. A parameter's main effect is the spread between its highest and lowest level mean, in the metric's unit. It is a difference of means without a confidence interval: to test one setting against another with paired confidence intervals, make them variants and run coopsim compare.

## Provenance

- scenario_sha256: {sha}
- seeds: 1, 2
- replications: 2
- reused: {reused}
- coopsim_version: {__version__}
"""  # noqa: E501


def test_the_markdown_report_ranks_parameters_per_objective_with_units(swept):
    out, _ = swept
    assert (out / "report" / "sweep.md").read_text(encoding="utf-8") == expected_markdown()


def test_the_command_says_where_the_report_is(swept):
    out, printed = swept
    report = out / "report"
    assert f"Sweep report: {report / 'sweep.html'} and {report / 'sweep.md'}" in printed
    assert sorted(p.name for p in report.iterdir() if not p.name.startswith(".")) == ["charts", "sweep.html", "sweep.json", "sweep.md"]
    assert (report / "charts" / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the terminal table names each objective and gives its reading
    assert "RFA handled promptly  [target 72.0 h; lower is better]" in printed
    assert "  1. actors.nac.approval                  effect    176.0 h   (6h: 64.0 h; 20d: 240.0 h (reached in 0 of 4))" in printed


def test_the_same_sweep_again_reuses_its_runs_and_says_the_same(swept):
    out, _ = swept
    again = _runner().invoke(main, ["sweep", str(MINI), *PARAMS, "-n", "2", "--workers", "1", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "(8 reused)" in again.output
    assert (out / "report" / "sweep.md").read_text(encoding="utf-8") == expected_markdown(reused=8)


class _Resources(HTMLParser):
    """Every URL an HTML page would load or link to, by tag and attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action"):
                self.urls.append((tag, name, value or ""))


def test_the_html_report_is_self_contained(swept):
    out, _ = swept
    html = (out / "report" / "sweep.html").read_text(encoding="utf-8")
    assert re.search(r"https?://", html) is None  # no CDN, font, script or image from the network
    assert "@import" not in html and "url(" not in html
    parser = _Resources()
    parser.feed(html)
    assert [(tag, attr) for tag, attr, _ in parser.urls] == [("img", "src")]  # the tornado chart, and nothing else to fetch
    for _, _, url in parser.urls:
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # the same readings, level labels and units as the Markdown
    assert '<h2 id="objective-obj_cycle">RFA handled promptly</h2>' in html
    assert '<td>20d</td><td class="num">240.0 h</td><td>reached in 0 of 4</td>' in html
    assert '<td>6h</td><td class="num">100%</td><td>measured in 4 of 4</td>' in html
    assert "moves “RFA handled promptly” most: 64.0 h at 6h to 240.0 h at 20d (reached in 0 of 4 runs)" in html


def test_every_markdown_image_is_a_file_beside_it(swept):
    out, _ = swept
    md = (out / "report" / "sweep.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert images == ["charts/tornado.png"]
    assert all((out / "report" / image).is_file() for image in images)


def test_the_tornado_labels_each_bar_with_its_levels_and_draws_the_target():
    s = load_scenario(MINI)
    effects = main_effects(s, _comparison(s), {"actors.nac.approval": ["6h", "2d"], "actors.eadrcc.staff": [1, 2]})
    fig = tornado_figure(effects)
    cycle, fill = fig.axes
    # levels at the ends of each bar, at the level means; a level that did not always reach the event says so
    assert sorted((t.get_text(), t.xy) for t in cycle.texts) == [
        ("1 (3/4), 2 (3/4)", (112.5, 1)),  # levels with the same mean share one label
        ("2d (2/4)", (170.0, 0)),
        ("6h", (55.0, 0)),
    ]
    assert cycle.get_xlabel() == "RFA handled promptly (h, mean at each level; lower is better)"
    assert fill.get_xlabel() == "Relief delivered (%, mean at each level; higher is better)"
    assert [t.get_text() for t in cycle.get_yticklabels()] == ["actors.nac.approval", "actors.eadrcc.staff"]
    targets = [line for line in cycle.get_lines() if line.get_linestyle() == "--"]
    assert [list(line.get_xdata()) for line in targets] == [[72.0, 72.0]]
    assert [line.get_color() for line in targets] == ["#999999"]  # grey, as the caption says
    assert {p.get_facecolor()[:3] for p in cycle.patches} == {(0.0, 0x72 / 255, 0xB2 / 255)}  # blue, as the caption says
    import matplotlib.pyplot as plt

    plt.close(fig)


def _outcome(variant: str, replication: int, cycle: float | None, fill: float | None) -> ReplicationResult:
    metrics = {"rfa_cycle_time": cycle, "fill_rate.islamabad": fill}
    return ReplicationResult(Replication(variant, replication, 1 + replication), metrics, {}, None)


def _comparison(s) -> Comparison:
    """A made-up sweep of mini.yaml: at 2d the request completed in one run of two, and the fill rate was measured in one."""
    fast, slow = "actors.nac.approval=6h,actors.eadrcc.staff=1", "actors.nac.approval=2d,actors.eadrcc.staff=1"
    fast2, slow2 = "actors.nac.approval=6h,actors.eadrcc.staff=2", "actors.nac.approval=2d,actors.eadrcc.staff=2"
    outcomes = (
        _outcome(fast, 0, 50.0, 1.0),
        _outcome(fast, 1, 60.0, 1.0),
        _outcome(slow, 0, 100.0, 0.5),
        _outcome(slow, 1, None, None),
        _outcome(fast2, 0, 50.0, 1.0),
        _outcome(fast2, 1, 60.0, 1.0),
        _outcome(slow2, 0, 100.0, 0.5),
        _outcome(slow2, 1, None, None),
    )
    return Comparison((fast, fast2, slow, slow2), 2, outcomes, 0)


def test_unreached_and_unmeasured_runs_are_counted_not_silently_averaged(tmp_path):
    s = load_scenario(MINI)
    grid = {"actors.nac.approval": ["6h", "2d"], "actors.eadrcc.staff": [1, 2]}
    write_sweep_report(s, _comparison(s), grid, tmp_path / "report", formats=("md",))
    md = (tmp_path / "report" / "sweep.md").read_text(encoding="utf-8")
    # a time to an event: the run that never completed counts as the 240 h window, and the count says so
    assert (
        "| 1 | actors.nac.approval | 115.0 h | 6h | 55.0 h | reached in 4 of 4 |\n"
        "| | | | 2d | 170.0 h | reached in 2 of 4 |\n"
        "| 2 | actors.eadrcc.staff | 0.0 h (under the 6.0 h that matters) | 1 | 112.5 h | reached in 3 of 4 |\n"
        "| | | | 2 | 112.5 h | reached in 3 of 4 |\n\n"
        "Where the event was not reached in every run, the mean is a restricted mean: each run that never reached it counts as the "
        "whole 240 h window.\n"
    ) in md
    # a metric some runs never measured: the mean is over those that did, and the count says how many
    assert (
        "| 1 | actors.nac.approval | 50 points | 6h | 100% | measured in 4 of 4 |\n"
        "| | | | 2d | 50% | measured in 2 of 4 |\n"
        "| 2 | actors.eadrcc.staff | 0 points (under the 5 points that matters) | 1 | 83% | measured in 3 of 4 |\n"
        "| | | | 2 | 83% | measured in 3 of 4 |\n\n"
        "Where some runs did not measure the metric, the mean is over the runs that did.\n"
    ) in md
    assert (
        "- North Atlantic Council approval (actors.nac.approval) moves “RFA handled promptly” most: 55.0 h at 6h to 170.0 h at 2d "
        "(reached in 2 of 4 runs); the target is 72.0 h, lower is better.\n"
        "- North Atlantic Council approval (actors.nac.approval) moves “Relief delivered” most: 100% at 6h to 50% at 2d "
        "(measured in 2 of 4 runs); the target is 100%, higher is better.\n"
    ) in md


def test_a_parameter_that_moves_nothing_is_said_plainly():
    s = load_scenario(MINI)
    grid = {"actors.nac.approval": ["6h", "2d"], "actors.eadrcc.staff": [1, 2]}
    outcomes = tuple(
        _outcome(f"actors.nac.approval={a},actors.eadrcc.staff={b}", i, 50.0, 1.0) for a in ("6h", "2d") for b in (1, 2) for i in (0, 1)
    )
    effects = main_effects(s, Comparison(tuple(dict.fromkeys(o.job.variant for o in outcomes)), 2, outcomes, 0), grid)
    assert [b["reading"] for b in effects] == [
        "No parameter moved “RFA handled promptly”: 50.0 h at every level.",
        "No parameter moved “Relief delivered”: 100% at every level.",
    ]


def test_help_keeps_its_example():
    result = _runner().invoke(main, ["sweep", "--help"])
    assert result.exit_code == 0
    assert "coopsim sweep pakistan-earthquake-2005 --param actors.nac.approval=6h,1d,2d" in result.output
    assert "sweep.html" in result.output


def test_a_failed_replication_is_listed_not_hidden(tmp_path):
    s = load_scenario(MINI)
    grid = {"actors.nac.approval": ["6h", "2d"], "actors.eadrcc.staff": [1, 2]}
    c = _comparison(s)
    failed = ReplicationResult(Replication(c.variants[0], 2, 3), None, None, "ValueError: boom")
    write_sweep_report(s, Comparison(c.variants, 2, (*c.outcomes, failed), 0), grid, tmp_path / "report", formats=("md",))
    md = (tmp_path / "report" / "sweep.md").read_text(encoding="utf-8")
    assert md.endswith("\n## Failed replications\n\n- actors.nac.approval=6h,actors.eadrcc.staff=1, seed 3: ValueError: boom\n")
    assert "| | | | 2d | 170.0 h | reached in 2 of 4 |" in md  # the failed run is not counted as a run that never reached it
