"""YAML loading that remembers where every value came from.

pydantic reports errors by location (``rules.0.detector.threshold``); users fix files by line.
This module keeps a map from dotted path to line so that every config error names the file,
the line and the path. It also interpolates ``${ENV_VAR}`` so secrets stay out of files.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.config.hints import hint
from monitor.config.limits import MAX_CONFIG_BYTES, LimitExceeded, compose

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Loc = tuple[str | int, ...]
MAX_MESSAGE = 300  # characters of one problem's message


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a config file, located for a human."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return _one_line(text)


def _one_line(text: str) -> str:
    """A key or value from the file may hold any character: keep a problem on one line."""
    if "".join(text.splitlines()) == text and text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ConfigError(Exception):
    """A config file that cannot be used; carries every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def dotted(loc: Loc) -> str:
    """``("rules", 0, "detector")`` -> ``rules[0].detector``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True, slots=True)
class LoadedYaml:
    data: Any
    lines: Mapping[Loc, int]
    file: str
    secrets: frozenset[str] = field(default=frozenset())  # values taken from the environment
    sha256: str = ""  # of the bytes parsed

    def line_of(self, loc: Loc) -> int | None:
        """Line of ``loc`` or of its nearest ancestor that has one."""
        probe = tuple(loc)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


class _Recording(Mapping[str, str]):
    """The environment, remembering every value read from it: those are secrets to mask."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.used: set[str] = set()

    def __getitem__(self, name: str) -> str:
        value = self._env[name]
        self.used.add(value)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


class _Loader(yaml.SafeLoader):
    """Safe loader; kept separate so that changes here never leak into yaml.SafeLoader."""


def load_yaml(path: Path, env: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse ``path`` into plain data plus a line map; raise ConfigError on any problem."""
    recording = _Recording(os.environ if env is None else env)
    file = str(path)
    raw = read_capped(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"cannot read config: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise ConfigError([ConfigProblem(file, None, "", reason)]) from None
    lines: dict[Loc, int] = {}
    problems: list[ConfigProblem] = []
    try:
        root = compose(text)
        data = {} if root is None else _convert(root, (), lines, problems, recording, file)
    except LimitExceeded as exc:
        raise ConfigError([ConfigProblem(file, exc.line + 1, dotted(exc.loc), exc.message)]) from None
    except yaml.reader.ReaderError as exc:  # a control character: located by its offset
        code = exc.character if isinstance(exc.character, int) else 0
        reason = f"invalid YAML: character #x{code:04x} is not allowed"
        raise ConfigError([ConfigProblem(file, text.count("\n", 0, exc.position) + 1, "", reason)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ConfigError([ConfigProblem(file, line, "", f"invalid YAML: {problem}")]) from None
    if problems:
        raise ConfigError(problems)
    return LoadedYaml(data, lines, file, frozenset(recording.used), hashlib.sha256(raw).hexdigest())


def read_capped(path: Path) -> bytes:
    """The file's bytes, refused past MAX_CONFIG_BYTES (read no further than that)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        reason = f"cannot read config: {exc.strerror or exc}"
        raise ConfigError([ConfigProblem(str(path), None, "", reason)]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        reason = f"config file too large: over {MAX_CONFIG_BYTES // 1024} KiB"
        raise ConfigError([ConfigProblem(str(path), None, "", reason)])
    return raw


def _convert(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[ConfigProblem],
    env: Mapping[str, str],
    file: str,
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_Loader.construct_scalar(_Loader(""), key_node))
            if key in out:
                problems.append(
                    ConfigProblem(file, key_node.start_mark.line + 1, dotted((*loc, key)), "duplicate key")
                )
                continue
            out[key] = _convert(value_node, (*loc, key), lines, problems, env, file)
            lines[(*loc, key)] = key_node.start_mark.line + 1  # the key's line, not its value's
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*loc, index), lines, problems, env, file)
            for index, item in enumerate(node.value)
        ]
    try:
        value = _Loader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:  # an unknown !tag, 2014-02-30
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(ConfigProblem(file, lines[loc], dotted(loc), f"invalid value: {reason}"))
        return None
    if isinstance(value, str) and "${" in value:
        return _interpolate(value, loc, lines[loc], problems, env, file)
    return value


def _interpolate(
    text: str,
    loc: Loc,
    line: int,
    problems: list[ConfigProblem],
    env: Mapping[str, str],
    file: str,
) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is not None and (value or default is None):
            return value
        if default is not None:  # as in the shell, `:-` also replaces an empty value
            return default
        problems.append(
            ConfigProblem(file, line, dotted(loc), f"environment variable {name} is not set")
        )
        return ""

    return _ENV_PATTERN.sub(replace, text)


Suggest = Callable[[Loc, str, Any], str]


def problems_from_validation(exc: ValidationError, loaded: LoadedYaml,
                             suggest: Suggest | None = None) -> list[ConfigProblem]:
    """Turn pydantic's errors into located problems, one per error; `suggest(parent, key,
    data)` adds a "did you mean" to unknown keys."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = _data_loc(tuple(error["loc"]), loaded.data, missing=error["type"] == "missing")
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" if loc else "unknown key"
            if loc and suggest is not None and isinstance(loc[-1], str):
                message += suggest(loc[:-1], loc[-1], loaded.data)
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc, message = _tag_problem(loc, error.get("ctx") or {})
        extra = hint(loc, error["type"], error.get("input"))
        if extra:  # pydantic's "valid integer" says less than the hint: the hint replaces it
            message = extra if error["type"].startswith(("int_", "string_")) else f"{message}; {extra}"
        if len(message) > MAX_MESSAGE:  # pydantic repeats the input, however large
            message = message[:MAX_MESSAGE - 3] + "..."
        problems.append(ConfigProblem(loaded.file, loaded.line_of(loc), dotted(loc), message))
    return problems


def _tag_problem(loc: Loc, ctx: Mapping[str, Any]) -> tuple[Loc, str]:
    """A discriminated union (`kind: comtrade`) whose tag is unknown or missing: point at the
    tag and list the kinds, instead of pydantic's wording about discriminators."""
    tag = str(ctx.get("discriminator", "kind")).strip("'")
    if "tag" not in ctx:
        return (*loc, tag), "Field required"
    expected = str(ctx.get("expected_tags", "")).replace("'", "")
    return (*loc, tag), f"unknown {tag} {str(ctx['tag'])!r}" + (f"; known: {expected}" if expected else "")


def _data_loc(loc: Loc, data: Any, missing: bool = False) -> Loc:
    """Drop the parts pydantic adds that are not in the file (union tags, validator names).

    Every part must exist in the data, except the last one of a missing-key error."""
    out: list[str | int] = []
    current = data
    for position, part in enumerate(loc):
        in_dict = isinstance(current, dict) and part in current
        if in_dict or (isinstance(current, list) and isinstance(part, int) and part < len(current)):
            current = current[part]
        elif missing and position == len(loc) - 1:
            current = None
        else:
            continue
        out.append(part)
    return tuple(out)
