"""Patches: how a variant, a decision option or ``--set`` changes a scenario.

A patch is a mapping merged deeply into the scenario's data:

* a mapping merges into a mapping, key by key;
* a mapping merges into a list of entities *by id*, so ``{actors: {un_ocha:
  {staff: 4}}}`` changes one actor and leaves the others alone, and an id
  mapped to ``null`` removes that entity;
* anything else (a scalar, a list) replaces what was there;
* a key containing dots is a path: ``actors.un_ocha.staff: 4`` is the same as
  the nested form above. In a list, a segment names an item by its ``id`` (an
  inject by its ``seq``), or else by its position.

Patches apply to plain data before validation, so a bad patch is reported with
the same ``file:line:col`` as any other mistake: positions of patched values
are carried over from where the patch itself was written.
"""

from __future__ import annotations

import copy
from typing import Any

from coopsim.engine.scenario.files import limits
from coopsim.engine.scenario.problems import Problem, ScenarioError, shown
from coopsim.engine.scenario.source import Document, Path_


def expand_dotted(patch: dict[str, Any]) -> dict[str, Any]:
    """Turn dotted keys into nested mappings: ``{"a.b": 1}`` becomes ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for key, value in patch.items():
        parts = str(key).split(".")
        target = out
        for part in parts[:-1]:
            nxt = target.get(part)
            if not isinstance(nxt, dict):
                nxt = target[part] = {}
            target = nxt
        if isinstance(value, dict):
            value = expand_dotted(value)
        last = parts[-1]
        if isinstance(target.get(last), dict) and isinstance(value, dict):
            target[last] = {**target[last], **value}
        else:
            target[last] = value
    return out


def apply_patch(data: Any, patch: dict[str, Any]) -> Any:
    """Return a deep copy of ``data`` with ``patch`` merged in (see module docs)."""
    return _merge(copy.deepcopy(data), expand_dotted(patch), (), None)


def apply_located_patch(doc: Document, patch: dict[str, Any], patch_doc: Document, patch_path: Path_) -> Document:
    """Apply a patch written at ``patch_path`` of ``patch_doc`` to ``doc``.

    The result keeps ``doc``'s positions for what the patch did not touch and
    takes ``patch_doc``'s positions for what it wrote, so validation errors in
    patched values point at the patch.

    Raises:
        ScenarioError: a path in the patch names a list item that does not exist.
    """
    _check_depth(patch, patch_doc, patch_path)
    result = Document(doc.source, None, dict(doc.values), dict(doc.keys))
    moves: list[tuple[Path_, Path_]] = []
    problems: list[Problem] = []

    def note(target: Path_, written_at: Path_) -> None:
        moves.append((target, written_at))

    located = _Located(patch_doc, patch_path, note, problems)
    result.data = _merge(copy.deepcopy(doc.data), expand_dotted(patch), (), located)
    if problems:
        raise ScenarioError(problems)
    result.removed = [(list_path, ident, patch_doc.position(written, key=True)) for list_path, ident, written in located.removed]
    for target, written_at in moves:
        _drop_prefix(result.values, target)
        _drop_prefix(result.keys, target)
        for table_from, table_to in ((patch_doc.values, result.values), (patch_doc.keys, result.keys)):
            for p, pos in table_from.items():
                if p[: len(written_at)] == written_at:
                    table_to[target + p[len(written_at) :]] = pos
        result.values.setdefault(target, patch_doc.position(written_at))
    return result


def _check_depth(patch: Any, patch_doc: Document, patch_path: Path_) -> None:
    """Refuse a patch whose dotted keys reach deeper than any document may nest (``a.b.c...`` thousands deep)."""
    limit = limits().max_depth
    todo: list[tuple[Any, Path_, int]] = [(patch, (), 0)]
    while todo:
        node, keys, depth = todo.pop()
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            deeper = depth + str(key).count(".") + 1
            if deeper > limit:
                pos = patch_doc.position(patch_path + keys + (key,), key=True)
                raise ScenarioError([Problem(pos, f"the patch reaches more than {limit} levels deep", "a path of a few dotted names")])
            todo.append((value, keys + (key,), deeper))


class _Located:
    """Tracks where in the patch document each merged value was written."""

    def __init__(self, doc: Document, base: Path_, note, problems: list[Problem]):
        self.doc, self.base, self.note, self.problems = doc, base, note, problems
        self.removed: list[tuple[Path_, Any, Path_]] = []  # (list path, id removed, where the patch says so)

    def written_at(self, patch_keys: Path_) -> Path_:
        # Dotted keys were expanded, so look for the longest written key that
        # joins the leading segments with dots.
        for n in range(len(patch_keys), 0, -1):
            head = ".".join(str(k) for k in patch_keys[:n])
            candidate = self.base + (head,) + tuple(patch_keys[n:])
            if candidate in self.doc.values:
                return candidate
        return self.base + tuple(patch_keys)


def _merge(target: Any, patch: Any, patch_keys: Path_, located: _Located | None, path: Path_ = ()) -> Any:
    if isinstance(patch, dict) and isinstance(target, dict):
        for key, value in patch.items():
            sub = path + (key,)
            if key in target and isinstance(value, dict) and isinstance(target[key], (dict, list)):
                target[key] = _merge(target[key], value, patch_keys + (key,), located, sub)
            else:
                target[key] = copy.deepcopy(value)
                if located:
                    located.note(sub, located.written_at(patch_keys + (key,)))
        return target
    if isinstance(patch, dict) and isinstance(target, list):
        for key, value in patch.items():
            index = _find_item(target, key)
            if index is None:
                if located:
                    pos = located.doc.position(located.written_at(patch_keys + (key,)), key=True)
                    ids = ", ".join(str(_name(item, i)) for i, item in enumerate(target)) or "none"
                    located.problems.append(Problem(pos, f"patch names {shown(key)}, which is not in this list", f"one of: {ids}"))
                    continue
                raise KeyError(f"patch names {key!r}, which is not in this list")
            if value is None:
                if located:
                    located.removed.append((path, target[index].get("id", index), located.written_at(patch_keys + (key,))))
                del target[index]
                continue
            sub = path + (index,)
            if isinstance(value, dict) and isinstance(target[index], (dict, list)):
                target[index] = _merge(target[index], value, patch_keys + (key,), located, sub)
            else:
                target[index] = copy.deepcopy(value)
                if located:
                    located.note(sub, located.written_at(patch_keys + (key,)))
        return target
    return copy.deepcopy(patch)


def _name(item: Any, index: int) -> Any:
    """How a patch names a list item: its ``id``, an inject's ``seq``, or else its position."""
    if isinstance(item, dict):
        for field in ("id", "seq"):
            if item.get(field) is not None:
                return item[field]
        if {"from", "to", "mode"} <= set(item):
            return f"{item['from']}-{item['to']}-{item['mode']}"
    return index


def _find_item(items: list[Any], key: Any) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, dict) and any(item.get(f) is not None and str(item[f]) == str(key) for f in ("id", "seq")):
            return i
    for i, item in enumerate(items):  # a route without an id goes by FROM-TO-MODE, as in metrics and messages
        if isinstance(item, dict) and item.get("id") is None and f"{item.get('from')}-{item.get('to')}-{item.get('mode')}" == str(key):
            return i
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        index = int(key)
        if 0 <= index < len(items):
            return index
    return None


def _drop_prefix(table: dict[Path_, Any], prefix: Path_) -> None:
    for p in [p for p in table if p[: len(prefix)] == prefix]:
        del table[p]
