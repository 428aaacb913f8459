"""The authoring guide's YAML snippets are real scenario fragments.

Every ```yaml block in ``docs/authoring-guide.md`` is merged into the
``tests/data/mini.yaml`` scenario (list sections are appended to, the
``scenario`` and ``variants`` mappings are merged key by key) and the result
must load. Deliberately broken examples in the guide are fenced as ```text so
they are not checked here.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from coopsim.engine import loads_scenario
from coopsim.engine.scenario.model import Scenario

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "authoring-guide.md"
MINI = Path(__file__).parent / "data" / "mini.yaml"

_FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_MAPPING_SECTIONS = {"scenario", "variants"}


def _guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _yaml_blocks() -> list[tuple[int, str]]:
    """The guide's ```yaml blocks as (line number of the fence, text)."""
    text = _guide_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _FENCE.finditer(text)]


BLOCKS = _yaml_blocks()


def _merge(base: dict, snippet: dict) -> dict:
    merged = copy.deepcopy(base)
    for section, value in snippet.items():
        if section in _MAPPING_SECTIONS and isinstance(value, dict):
            merged.setdefault(section, {})
            merged[section] = {**(merged[section] or {}), **value}
        elif isinstance(value, list):
            merged[section] = list(merged.get(section) or []) + value
        else:
            merged[section] = value  # let validation say what is wrong
    return merged


def test_guide_has_enough_snippets():
    assert len(BLOCKS) >= 12, f"only {len(BLOCKS)} yaml blocks in {GUIDE}"


def test_guide_mentions_every_section():
    text = _guide_text()
    missing = [name for name in Scenario.model_fields if f"`{name}`" not in text]
    assert not missing, f"the guide never mentions the sections {missing}"


@pytest.mark.parametrize(
    ("number", "line", "snippet"),
    [(n, line, s) for n, (line, s) in enumerate(BLOCKS, 1)],
    ids=[f"snippet{n}-line{line}" for n, (line, _) in enumerate(BLOCKS, 1)],
)
def test_snippet_loads_into_mini(number: int, line: int, snippet: str):
    data = yaml.safe_load(snippet)
    assert isinstance(data, dict), f"snippet {number} (line {line}) is not a mapping of sections"
    unknown = set(data) - set(Scenario.model_fields)
    assert not unknown, f"snippet {number} (line {line}) has unknown sections {sorted(unknown)}"
    merged = _merge(yaml.safe_load(MINI.read_text(encoding="utf-8")), data)
    scenario = loads_scenario(yaml.safe_dump(merged, sort_keys=False), source=f"guide snippet {number}")
    for section, value in data.items():
        if isinstance(value, list) and section != "routes":
            key = "seq" if section == "injects" else "id"
            for entity in value:
                assert entity[key] in scenario.by_id[section], f"snippet {number}: {section} {entity[key]!r} did not load"
