"""The coopsim engine: scenario format, SimPy model, records and metrics.

The engine is pure: it never imports click, matplotlib, jinja2 or the reports
layer. Its public API, for the command line and for notebooks::

    from coopsim.engine import load_scenario, run
    scenario = load_scenario("pakistan-earthquake-2005", variant="no_liaison")
    result = run(scenario, seed=7, out="runs/pk-7")
    result.metrics.values["rfa_cycle_time"]
"""

from coopsim.engine.experiments.design import Comparison, compare, sweep
from coopsim.engine.log.outputs import OutputDirError
from coopsim.engine.metrics.measurer import Metrics, ObjectiveRating
from coopsim.engine.run import Outcome, RunResult, run
from coopsim.engine.scenario.catalog import bundled_scenarios
from coopsim.engine.scenario.load import apply_override, apply_variant, load_scenario, loads_scenario
from coopsim.engine.scenario.model import Scenario
from coopsim.engine.scenario.source import Problem, ScenarioError
from coopsim.engine.sim.deciders import Decider, Decision, DefaultDecider, ScriptedDecider, Situation

__all__ = [
    "Comparison",
    "Decider",
    "Decision",
    "DefaultDecider",
    "Metrics",
    "ObjectiveRating",
    "Outcome",
    "OutputDirError",
    "Problem",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScriptedDecider",
    "Situation",
    "apply_override",
    "apply_variant",
    "bundled_scenarios",
    "compare",
    "load_scenario",
    "loads_scenario",
    "run",
    "sweep",
]
