"""Loading a config file: YAML with lines, schema validation and the cross-references between
sections (duplicate names, unknown receivers and sources), every problem reported together in
file order, with "did you mean" for a misspelt key or name."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from monitor.config.mirrors import mirror_problems
from monitor.config.model import Config
from monitor.config.templates import LINK_TEMPLATES, template_problem
from monitor.config.yamlfile import (
    ConfigError,
    ConfigProblem,
    LoadedYaml,
    dotted,
    load_yaml,
    problems_from_validation,
)
from monitor.secrets import Masker


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A validated config and where it came from (relative paths resolve against `base_dir`).

    `secrets` are the values taken from the environment through `${VAR}`: whatever prints a
    URL, an error or a log line masks them."""

    config: Config
    path: Path
    base_dir: Path
    sha256: str
    secrets: frozenset[str] = frozenset()

    def resolve(self, path: str) -> str:
        if "://" in path or Path(path).is_absolute():
            return path
        return str((self.base_dir / path).resolve())

    @property
    def store_url(self) -> str:
        store = self.config.store
        return store.url or f"sqlite:///{self.resolve(store.path)}"


def load_config(path: Path | str, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Load, interpolate, validate and cross-check; raise ConfigError listing every problem
    (schema errors and cross-reference errors together, in file order)."""
    path = Path(path)
    loaded = load_yaml(path, env)
    if not isinstance(loaded.data, dict):
        problem = ConfigProblem(loaded.file, loaded.line_of(()), "", "the config must be a mapping")
        raise ConfigError([problem])
    try:
        config = validate_data(loaded)
    except ConfigError as exc:  # a message may quote a value that came from the environment
        mask = Masker(loaded.secrets)
        raise ConfigError([replace(p, message=mask(p.message)) for p in exc.problems]) from None
    return LoadedConfig(config, path, path.resolve().parent, loaded.sha256, loaded.secrets)


def validate_data(located: LoadedYaml) -> Config:
    """Schema and cross-reference checks of parsed (possibly modified) config data; raise
    ConfigError with every problem, located by the file's lines, in file order."""
    problems = _cross_check(located.data, located)
    config = None
    try:
        config = Config.model_validate(located.data)
    except ValidationError as exc:
        problems += problems_from_validation(exc, located, suggest=_suggest_key)
    if config is not None and not problems:
        problems += [ConfigProblem(located.file, located.line_of(loc), dotted(loc), message)
                     for loc, message in mirror_problems(config)]
    if problems or config is None:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.path)))
    if not config.sources:  # an empty file validates; a daemon that watches nothing is a mistake
        line = located.line_of(("sources",)) or 1
        raise ConfigError([ConfigProblem(located.file, line, "sources", "no sources: nothing to watch")])
    return config


def _root_route(root: dict[str, Any], loaded: LoadedYaml) -> list[ConfigProblem]:
    """Alertmanager's rules for the root route: it takes every alert, so it has no matchers
    and nothing after it to `continue` to."""
    problems = []
    for key in ("match", "match_re", "matchers"):
        if root.get(key):
            loc = ("notify", "route", key)
            problems.append(ConfigProblem(loaded.file, loaded.line_of(loc), dotted(loc),
                                          "the root route must not have any matchers: it takes every alert"))
    if root.get("continue") is True:
        loc = ("notify", "route", "continue")
        problems.append(ConfigProblem(loaded.file, loaded.line_of(loc), dotted(loc),
                                      "the root route cannot have `continue`: it has no siblings"))
    return problems


def _cross_check(data: dict[str, Any], loaded: LoadedYaml) -> list[ConfigProblem]:
    """References between parts of the file, checked on the raw data so they are reported
    together with schema errors: duplicate names, unknown receivers, unknown sources."""
    problems: list[ConfigProblem] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(ConfigProblem(loaded.file, loaded.line_of(loc), dotted(loc), message))

    def items(*loc: str) -> list[tuple[int, dict[str, Any]]]:
        node: Any = data
        for part in loc:
            node = node.get(part) if isinstance(node, dict) else None
        return [(i, item) for i, item in enumerate(node) if isinstance(item, dict)] \
            if isinstance(node, list) else []

    names: dict[tuple[str, ...], set[str]] = {}
    for section in (("sources",), ("rules",), ("notify", "receivers"), ("hierarchies",)):
        seen: set[str] = set()
        for index, item in items(*section):
            name = item.get("name")
            if isinstance(name, str) and name in seen:
                problem((*section, index, "name"), f"duplicate name {name!r}")
            if isinstance(name, str):
                seen.add(name)
        names[section] = seen
    notify = data.get("notify")
    receivers = names[("notify", "receivers")] if isinstance(notify, dict) and "receivers" in notify \
        else {"console"}  # the default receiver list

    def walk(route: Any, loc: tuple[str | int, ...]) -> None:
        if not isinstance(route, dict):
            return
        receiver = route.get("receiver")
        if isinstance(receiver, str) and receiver not in receivers:
            problem((*loc, "receiver"), f"unknown receiver {receiver!r}{_did_you_mean(receiver, receivers)}"
                    f"; known: {', '.join(sorted(receivers)) or 'none'}")
        children = route.get("routes")
        for index, child in enumerate(children if isinstance(children, list) else []):
            walk(child, (*loc, "routes", index))

    if isinstance(notify, dict) and isinstance(notify.get("route"), dict):
        if notify["route"].get("receiver") is None:
            problem(("notify", "route"), "the root route needs a receiver")
        problems.extend(_root_route(notify["route"], loaded))
        walk(notify["route"], ("notify", "route"))
    elif isinstance(notify, dict):
        walk({"receiver": "console"}, ("notify", "route"))  # the default route
    for loc, text in _templates(data):
        message = template_problem(text)
        if message:
            problem(loc, message)
    sources = names[("sources",)]
    hierarchies = names[("hierarchies",)]
    for index, rule in items("rules"):
        drill = rule.get("drill")
        along = drill.get("along") if isinstance(drill, dict) else drill
        if isinstance(along, str) and along not in hierarchies:
            problem(("rules", index, "drill"),
                    f"unknown hierarchy {along!r}{_did_you_mean(along, hierarchies)}; "
                    f"known: {', '.join(sorted(hierarchies)) or 'none (declare them under hierarchies)'}")
        select = rule.get("select")
        wanted = select.get("source") if isinstance(select, dict) else None
        for name in [wanted] if isinstance(wanted, str) else wanted if isinstance(wanted, list) else []:
            if isinstance(name, str) and name not in sources:
                problem(("rules", index, "select", "source"),
                        f"unknown source {name!r}{_did_you_mean(name, sources)}; "
                        f"known: {', '.join(sorted(sources)) or 'none'}")
    return problems


def _templates(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every template in the file and where it is: rules' annotations, receivers' links."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    rules = data.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        annotations = rule.get("annotations") if isinstance(rule, dict) else None
        for key, text in (annotations.items() if isinstance(annotations, dict) else ()):
            if isinstance(text, str):
                found.append((("rules", index, "annotations", key), text))
    notify = data.get("notify")
    receivers = notify.get("receivers") if isinstance(notify, dict) else None
    for index, receiver in enumerate(receivers if isinstance(receivers, list) else []):
        for kind in ("slack", "slack_webhook"):
            body = receiver.get(kind) if isinstance(receiver, dict) else None
            for key in LINK_TEMPLATES:
                text = body.get(key) if isinstance(body, dict) else None
                if isinstance(text, str):
                    found.append((("notify", "receivers", index, kind, key), text))
    return found


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _suggest_key(parent: tuple[str | int, ...], key: str, data: Any) -> str:
    """" (did you mean 'detector'?)" for a misspelt key, from the model at `parent`."""
    model = _model_at(parent, data)
    if model is None:
        return ""
    keys = {field.alias or name for name, field in model.model_fields.items()}
    return _did_you_mean(key, keys)


def _model_at(loc: tuple[str | int, ...], data: Any) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `loc` (unions resolved by `kind`)."""
    annotation: Any = Config
    node = data
    for part in loc:
        annotation = _narrow(annotation, node)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if args else None
            node = node[part] if isinstance(node, list) and part < len(node) else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items() if (f.alias or n) == part), None)
            annotation = field.annotation if field is not None else None
            node = node.get(part) if isinstance(node, dict) else None
        else:
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
            node = node.get(part) if isinstance(node, dict) else None
        if annotation is None:
            return None
    annotation = _narrow(annotation, node)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _narrow(annotation: Any, node: Any) -> Any:
    """Unwrap Annotated and Optional; pick the union member whose `kind` matches the data."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(annotation) if m is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        kind = node.get("kind") if isinstance(node, dict) else None
        for model in models:
            field = model.model_fields.get("kind")
            if field is not None and kind in typing.get_args(field.annotation):
                return model
        return models[0] if models else (members[0] if members else annotation)
    return annotation
