"""The coopsim engine: scenario format, SimPy model, records and metrics.

The engine is pure: it never imports click, matplotlib, jinja2 or the reports
layer. Its public API, for the command line and for notebooks::

    from coopsim.engine import load_scenario, run
    scenario = load_scenario("pakistan-earthquake-2005", variant="no_liaison")
    result = run(scenario, seed=7, out="runs/pk-7")
    result.metrics.values["rfa_cycle_time"]
"""

from .catalog import bundled_scenarios
from .deciders import Decider, Decision, DefaultDecider, ScriptedDecider, Situation
from .document import Problem, ScenarioError
from .experiment import Comparison, compare, sweep
from .loader import apply_override, apply_variant, load_scenario, loads_scenario
from .metrics import Metrics, ObjectiveRating
from .outputs import OutputDirError
from .run import Outcome, RunResult, run
from .schema import Scenario

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
