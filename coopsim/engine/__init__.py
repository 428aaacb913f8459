"""The coopsim engine: its public API, the only door the layers above (reports, CLI, console, web) use.

The engine is pure: it never imports click, matplotlib, jinja2, rich or the
reports layer. Inside it, imports point one way, from the ground floor up:

* :mod:`~coopsim.engine.scenario`: the scenario language (YAML with positions,
  the model, loading, patches, lint, MSEL, the bundled library);
* :mod:`~coopsim.engine.log`: records, sinks, output directories, reading a run back;
* :mod:`~coopsim.engine.sim`: the SimPy model;
* :mod:`~coopsim.engine.metrics`: metrics and objective ratings;
* :mod:`~coopsim.engine.run`: the phases of one run;
* :mod:`~coopsim.engine.experiments`: comparisons, sweeps, counterfactuals, executors, the archive;
* :mod:`~coopsim.engine.tabletop`: sessions, the table, seat views.

For the command line and for notebooks::

    from coopsim.engine import load_scenario, run
    scenario = load_scenario("pakistan-earthquake-2005", variant="no_liaison")
    result = run(scenario, seed=7, out="runs/pk-7")
    result.metrics.values["rfa_cycle_time"]
"""

from coopsim.engine.experiments.archive import ARCHIVE_FILES, Archive, ArchiveError
from coopsim.engine.experiments.comparison import Comparison, compare, counterfactuals, sweep
from coopsim.engine.experiments.decisions import MOVE, Effect, PointCheck, check_decisions
from coopsim.engine.experiments.design import BASELINE, experiment_key, factorial, key_of, point_label, sweep_grid
from coopsim.engine.experiments.executors import DaskMissing, dask_executor
from coopsim.engine.experiments.export import ExportError, PandasMissing, export, export_target
from coopsim.engine.experiments.stats import Interval, Paired, mean_ci, paired, paired_by_replication
from coopsim.engine.log import records
from coopsim.engine.log.causes import ACTIONABLE, Blocked, CriticalPath, Step, critical_path
from coopsim.engine.log.lifecycle import MOVES, Part, Phase, PhaseSpan, RequestTrack, RequestTracks
from coopsim.engine.log.outputs import (
    OutputDirError,
    claim_dir,
    default_run_dir,
    fresh_dir,
    run_dir_name,
    staged,
    why_not,
)
from coopsim.engine.log.records import Record
from coopsim.engine.log.results import Metrics, ObjectiveRating
from coopsim.engine.log.rundir import Manifest, RunData, RunDirError, RunRecords, SessionData, in_progress, read_run
from coopsim.engine.run import Outcome, RunResult, Simulation, run
from coopsim.engine.scenario.calendar import Calendar, Moment
from coopsim.engine.scenario.catalog import bundled_scenarios
from coopsim.engine.scenario.durations import UNIT_HOURS, duration_text, parse_duration
from coopsim.engine.scenario.files import parse_size, set_limits
from coopsim.engine.scenario.lint import warnings as lint
from coopsim.engine.scenario.load import apply_override, apply_variant, load_scenario, loads_scenario
from coopsim.engine.scenario.metric_names import METRICS, better, split_metric
from coopsim.engine.scenario.model import DecisionPoint, Objective, Scenario
from coopsim.engine.scenario.msel import (
    MselError,
    MselExportError,
    check_target,
    derived_mismatches,
    export_rows,
    import_rows,
    read_sheet,
    trigger_in_words,
    write_sheet,
)
from coopsim.engine.scenario.names import Names
from coopsim.engine.scenario.problems import Problem, ScenarioError, printable
from coopsim.engine.sim.deciders import Decider, Decision, DefaultDecider, ScriptedDecider, Situation
from coopsim.engine.tabletop.seats import FACILITATOR, Knower, View
from coopsim.engine.tabletop.session import Place, Session, SessionError, open_session, play, play_dir
from coopsim.engine.tabletop.table import Tabletop

__all__ = [
    "ACTIONABLE",
    "ARCHIVE_FILES",
    "Archive",
    "ArchiveError",
    "BASELINE",
    "Blocked",
    "Calendar",
    "CriticalPath",
    "Step",
    "Comparison",
    "Effect",
    "ExportError",
    "PandasMissing",
    "export",
    "export_target",
    "MOVE",
    "PointCheck",
    "check_decisions",
    "critical_path",
    "DaskMissing",
    "Decider",
    "Decision",
    "DecisionPoint",
    "DefaultDecider",
    "FACILITATOR",
    "Interval",
    "Knower",
    "METRICS",
    "MOVES",
    "Manifest",
    "Metrics",
    "Moment",
    "MselError",
    "MselExportError",
    "Names",
    "Objective",
    "ObjectiveRating",
    "Outcome",
    "OutputDirError",
    "Paired",
    "Part",
    "Place",
    "Phase",
    "PhaseSpan",
    "Problem",
    "Record",
    "RequestTrack",
    "RequestTracks",
    "RunData",
    "RunDirError",
    "RunRecords",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScriptedDecider",
    "Session",
    "SessionData",
    "SessionError",
    "Simulation",
    "Situation",
    "Tabletop",
    "UNIT_HOURS",
    "View",
    "apply_override",
    "apply_variant",
    "better",
    "bundled_scenarios",
    "check_target",
    "claim_dir",
    "compare",
    "counterfactuals",
    "dask_executor",
    "default_run_dir",
    "derived_mismatches",
    "trigger_in_words",
    "duration_text",
    "experiment_key",
    "key_of",
    "paired_by_replication",
    "export_rows",
    "factorial",
    "fresh_dir",
    "import_rows",
    "in_progress",
    "lint",
    "load_scenario",
    "loads_scenario",
    "mean_ci",
    "paired",
    "parse_duration",
    "parse_size",
    "open_session",
    "play",
    "play_dir",
    "point_label",
    "printable",
    "read_run",
    "read_sheet",
    "records",
    "run",
    "run_dir_name",
    "set_limits",
    "split_metric",
    "staged",
    "sweep",
    "sweep_grid",
    "why_not",
    "write_sheet",
]
