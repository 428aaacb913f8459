"""The scenario language: YAML with positions, the validated model, loading, patches, lint, MSEL and the bundled library.

The ground floor of the engine, with :mod:`coopsim.engine.log`: it imports
nothing else of the engine. A scenario file becomes a frozen
:class:`~coopsim.engine.scenario.model.Scenario` in three steps (parse,
validate, patch), and every problem on the way is a ``file:line:col`` line.
"""
