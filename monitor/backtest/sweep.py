"""`--set PATH=V1,V2,...`: parameter sweeps over the config, validated like the real thing.

PATH is dotted through the YAML: mapping keys by name, list items by index or by their
`name` (`rules.yoy_sharp_fall.detector.threshold`). Values are YAML scalars separated by
commas (commas inside [...] or {...} do not split). Several --set give every combination.
Each combination is the loaded YAML with the values put in, validated again by the same
pydantic models and cross-checks as `load_config`, so a sweep can never run a config the
daemon would refuse.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from monitor.config import ConfigError, LoadedConfig, LoadedYaml, load_yaml, validate_data


class OverrideError(ValueError):
    """A --set that cannot be applied or gives an invalid config; names the override."""


@dataclass(frozen=True, slots=True)
class Override:
    path: str
    values: tuple[Any, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    """One value of one override, as the sweep table shows it."""

    path: str
    value: Any
    text: str


@dataclass(frozen=True, slots=True)
class Variant:
    """One combination of override values and the config it gives."""

    assignments: tuple[Assignment, ...]
    loaded: LoadedConfig

    def label(self) -> str:
        return ", ".join(f"{a.path}={a.text}" for a in self.assignments)


def parse_override(text: str) -> Override:
    """`rules.NAME.detector.threshold=-3,-5,-10` -> path and parsed values."""
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path or not raw.strip():
        raise OverrideError(f"--set {text}: expected PATH=VALUE[,VALUE...], e.g. "
                            "rules.NAME.detector.threshold=-3,-5,-10")
    texts = tuple(part.strip() for part in _split(raw))
    if any(not part for part in texts):
        raise OverrideError(f"--set {text}: empty value in {raw!r}")
    values = []
    for part in texts:
        try:
            values.append(yaml.safe_load(part))
        except yaml.YAMLError as exc:
            raise OverrideError(f"--set {text}: cannot read value {part!r}: {exc}") from None
    return Override(path, tuple(values), texts)


def _split(raw: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in raw:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def variants(loaded: LoadedConfig, overrides: Sequence[Override],
             source: LoadedYaml | None = None) -> list[Variant]:
    """Every combination, each validated; the first bad one raises OverrideError. `source`
    is the config file as read already (it is read here otherwise)."""
    source = load_yaml(loaded.path) if source is None else source
    out = []
    for combo in itertools.product(*[[Assignment(o.path, v, t) for v, t in zip(o.values, o.texts,
                                                                                 strict=True)]
                                     for o in overrides]):
        data = copy.deepcopy(source.data)
        for assignment in combo:
            data = apply(data, assignment.path, assignment.value, f"{assignment.path}={assignment.text}")
        label = ", ".join(f"{a.path}={a.text}" for a in combo)
        out.append(Variant(tuple(combo), validate(loaded, source, data, label)))
    return out


def apply(data: Any, path: str, value: Any, label: str) -> Any:
    """Put `value` at the dotted `path` of plain YAML data (mutated and returned).

    Missing mapping keys are created (the models then say whether they are allowed); a list
    item that is neither an index nor a name there is an error listing what there is."""
    parts = path.split(".")
    node = data
    i = 0
    while i < len(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            index, used = _list_index(node, parts, i, label)
            i += used
            if i == len(parts):
                node[index] = value
                return data
            node = node[index]
            continue
        if not isinstance(node, dict):
            done = ".".join(parts[:i])
            raise OverrideError(f"--set {label}: {done} is a value, not a mapping or list")
        key = parts[i]
        if last:
            node[key] = value
            return data
        node = node.setdefault(key, {})
        i += 1
    return data


def _list_index(items: list[Any], parts: Sequence[str], i: int, label: str) -> tuple[int, int]:
    """(index, segments used): a name may contain dots, so the longest match wins."""
    for j in range(len(parts), i, -1):
        name = ".".join(parts[i:j])
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get("name") == name:
                return index, j - i
    if parts[i].isdigit() and int(parts[i]) < len(items):
        return int(parts[i]), 1
    where = ".".join(parts[:i]) or "the config"
    names = [str(item["name"]) for item in items if isinstance(item, dict) and "name" in item]
    known = f"known names: {', '.join(names)}" if names else f"{len(items)} items"
    raise OverrideError(f"--set {label}: no {where} item named {parts[i]!r} ({known})")


def validate(loaded: LoadedConfig, source: LoadedYaml, data: Any, label: str) -> LoadedConfig:
    """The same checks as load_config, on modified data; errors keep the file's lines."""
    try:
        config = validate_data(LoadedYaml(data, source.lines, source.file))
    except ConfigError as exc:
        raise OverrideError(f"--set {label} gives an invalid config:\n{exc}") from None
    return replace(loaded, config=config)


def touched_rules(loaded: LoadedConfig, overrides: Sequence[Override]) -> list[str]:
    """Names of the rules the overrides change (`rules.NAME...` or `rules.N...`)."""
    names = [rule.name for rule in loaded.config.rules]
    out: list[str] = []
    for override in overrides:
        parts = override.path.split(".")
        if parts[0] != "rules" or len(parts) < 2:
            continue
        for j in range(len(parts), 1, -1):
            if ".".join(parts[1:j]) in names:
                out.append(".".join(parts[1:j]))
                break
        else:
            if parts[1].isdigit() and int(parts[1]) < len(names):
                out.append(names[int(parts[1])])
    return list(dict.fromkeys(out))
