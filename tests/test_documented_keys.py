"""Every config key the README and docs show exists in the JSON Schema (monitor/config/schema.py),
so a reader never copies a key the loader refuses.

Read from the documents: YAML blocks whose top-level keys are config sections (sources, rules,
notify, ...), key by key down to the leaves, and dotted paths in backticks that start with a
section (`http.listen`, `rules.yoy_sharp_fall.detector.threshold`: a name under a list picks one
of its items). A list item with a `kind` is checked against the schema of that kind only. A
detector's parameters depend on its kind, so the schema leaves them open: each `detector`
mapping a block shows is built by the detector library, which refuses unknown parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from detectors import DetectorConfigError, build_detector
from monitor.config import config_json_schema
from tests.conftest import REPO

DOCUMENTS = [REPO / "README.md", REPO / "deploy" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SCHEMA = config_json_schema()
SECTIONS = set(SCHEMA["properties"])
YAML_BLOCK = re.compile(r"^(?P<indent> *)```ya?ml\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL)
DOTTED = re.compile(r"`(?P<path>[a-z_]+(?:\.[A-Za-z0-9_-]+)+)`")
COMMENTED_KEY = re.compile(r"^(?P<indent> *)# (?P<key>[a-z_]+:(?: .*)?)$", re.MULTILINE)
FILE_SUFFIXES = {"py", "md", "yaml", "yml", "json", "csv", "txt"}  # `rules.py` is a file, not a key


def deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def alternatives(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas a value may match: anyOf/oneOf branches, flattened, nulls dropped."""
    node = deref(node)
    branches = node.get("anyOf") or node.get("oneOf")
    if not branches:
        return [node]
    return [alt for branch in branches for alt in alternatives(branch) if alt.get("type") != "null"]


def free_form(node: dict[str, Any]) -> bool:
    """A value with no declared keys (a label map, an annotation): any key is documented."""
    return "properties" not in node and node.get("additionalProperties", True) is not False \
        and not isinstance(node.get("additionalProperties"), dict) and "items" not in node


def child(node: dict[str, Any], key: str, kind: Any = None) -> list[dict[str, Any]]:
    """The schemas of `key` under `node` (empty: the key does not exist there)."""
    found = []
    options = alternatives(node)
    if kind is not None:  # a source or receiver of one kind: that kind's keys only
        typed = [o for o in options if kind in _kinds(o)]
        options = typed or options
    for option in options:
        if "items" in option and not isinstance(option.get("properties"), dict):
            found += child(option["items"], key, kind)  # a name under a list: one of its items
        elif key in option.get("properties", {}):
            found.append(option["properties"][key])
        elif isinstance(option.get("additionalProperties"), dict):
            found.append(option["additionalProperties"])
        elif free_form(option):
            found.append({})
    return found


def _kinds(node: dict[str, Any]) -> set[Any]:
    kind = deref(node).get("properties", {}).get("kind", {})
    return {kind["const"]} if "const" in kind else set(kind.get("enum", []))


def load_block(match: re.Match[str]) -> Any:
    """A YAML block with its commented-out keys (`# timeout: 10s`, an option shown off) put
    back, since a reader uncomments them; as written when that does not parse."""
    body = "\n".join(line[len(match["indent"]):] for line in match["body"].split("\n"))
    try:
        return yaml.safe_load(COMMENTED_KEY.sub(r"\g<indent>\g<key>", body))
    except yaml.YAMLError:
        return yaml.safe_load(body)


def documented_paths() -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """(where, key path, the mapping's kind) for every key the documents show."""
    for document in DOCUMENTS:
        text = document.read_text("utf-8")
        for match in YAML_BLOCK.finditer(text):
            data = load_block(match)
            if isinstance(data, dict) and set(data) & SECTIONS:
                line = text.count("\n", 0, match.start()) + 1
                yield from _walk(f"{document.name}:{line}", data, ())
        for match in DOTTED.finditer(text):
            path = tuple(match["path"].split("."))
            if path[0] in SECTIONS and path[-1] not in FILE_SUFFIXES:
                yield f"{document.name}:{text.count(chr(10), 0, match.start()) + 1}", path, None


def documented_detectors() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, mapping) for every `detector:` mapping in the documents' config blocks."""
    for document in DOCUMENTS:
        text = document.read_text("utf-8")
        for match in YAML_BLOCK.finditer(text):
            data = load_block(match)
            if not (isinstance(data, dict) and set(data) & SECTIONS):
                continue
            where = f"{document.name}:{text.count(chr(10), 0, match.start()) + 1}"
            for rule in data.get("rules") or []:
                if isinstance(rule, dict) and isinstance(rule.get("detector"), dict):
                    yield where, rule["detector"]


def _walk(where: str, data: Any, path: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """Each key with the `kind` of the mapping that holds it (a source's, a receiver's)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield where, (*path, str(key)), data.get("kind")
            yield from _walk(where, value, (*path, str(key)))
    elif isinstance(data, list):
        for item in data:
            yield from _walk(where, item, (*path, "*"))


def exists(path: tuple[str, ...], kind: Any) -> bool:
    nodes: list[dict[str, Any]] = [SCHEMA]
    for depth, key in enumerate(path):
        last = depth == len(path) - 1
        following: list[dict[str, Any]] = []
        for node in nodes:
            items = [o["items"] for o in alternatives(node) if "items" in o]
            if key == "*":
                following += items
            else:
                # a list's item by its name, as `--set rules.NAME.detector.threshold` addresses it
                following += child(node, key, kind if last else None) or items
        if not following:
            return False
        nodes = following
    return True


PATHS = sorted(set(documented_paths()), key=lambda p: (p[0], p[1]))


def test_the_documents_show_config_keys() -> None:
    keys = {path for _, path, _ in PATHS}
    for expected in [("sources", "*", "replay"), ("notify", "route", "routes"), ("store", "url"),
                     ("detection", "executor"), ("http", "listen")]:
        assert expected in keys, expected


@pytest.mark.parametrize(("where", "path", "kind"), PATHS, ids=[f"{w}:{'.'.join(p)}" for w, p, _ in PATHS])
def test_a_documented_key_exists_in_the_schema(where: str, path: tuple[str, ...], kind: Any) -> None:
    assert exists(path, kind), f"{where}: {'.'.join(path)} is no config key (kind {kind})"


@pytest.mark.parametrize("path", [("sources", "*", "colums"), ("rules", "*", "detektor"),
                                  ("rules", "yoy", "detektor"),
                                  ("notify", "route", "receivers"), ("store", "password")])
def test_a_key_that_does_not_exist_is_caught(path: tuple[str, ...]) -> None:
    assert not exists(path, None)


def test_a_list_item_is_addressed_by_name_as_set_paths_do() -> None:
    assert exists(("rules", "yoy_sharp_fall", "detector", "threshold"), None)


def test_a_key_of_another_kind_is_caught() -> None:
    assert exists(("sources", "*", "replay"), "file")
    assert not exists(("sources", "*", "replay"), "comtrade")


DETECTORS = list(documented_detectors())


@pytest.mark.parametrize(("where", "detector"), DETECTORS, ids=[w for w, _ in DETECTORS])
def test_a_documented_detector_has_only_its_kinds_parameters(where: str, detector: dict[str, Any]) -> None:
    params = dict(detector)
    try:
        build_detector(str(params.pop("kind")), params)
    except DetectorConfigError as exc:
        pytest.fail(f"{where}: {exc}")


def test_a_detector_parameter_that_does_not_exist_is_caught() -> None:
    assert DETECTORS, "the README shows a rule with its detector"
    with pytest.raises(DetectorConfigError, match="treshold"):
        build_detector("threshold", {"direction": "below", "treshold": -5.0})
