"""The bundled scenario library, installed with the package.

A scenario can be named by path or, for bundled ones, by name
(``pakistan-earthquake-2005``), so a new user can run one straight after
``pip install``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from coopsim.engine.scenario.source import read_yaml_file


@dataclass(frozen=True, slots=True)
class BundledScenario:
    name: str
    title: str
    path: Path


def _directory() -> Path:
    return Path(str(resources.files("coopsim.scenarios")))


def bundled_scenarios() -> list[BundledScenario]:
    """Every bundled scenario, by name, with its title from the file."""
    found = []
    for path in sorted(_directory().glob("*.yaml")):
        head = read_yaml_file(path, "a bundled scenario")[0].data
        info = head.get("scenario") if isinstance(head, dict) else None
        title = info.get("name", "") if isinstance(info, dict) else ""
        found.append(BundledScenario(path.stem, title, path))
    return found


def resolve(name_or_path: str | Path) -> Path:
    """A path as given, or the bundled scenario of that name when no such file exists."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in {".yaml", ".yml"} and path.parent != Path("."):
        return path
    bundled = _directory() / f"{path.stem}.yaml"
    return bundled if bundled.exists() else path
