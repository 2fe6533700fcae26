"""Every shipped config validates against the JSON Schema editors use, and loads: the schema
and the loader come from the same models and must never disagree on an official file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from monitor.config import config_json_schema, load_config

ROOT = Path(__file__).resolve().parents[3]


def _configs() -> list[Path]:
    """tradewatch configs under config/ and deploy/: YAML mappings with `sources`."""
    found = []
    for path in sorted([*ROOT.glob("config/**/*.yaml"), *ROOT.glob("deploy/**/*.y*ml")]):
        documents = list(yaml.safe_load_all(path.read_text()))  # Kubernetes files hold several
        data = documents[0] if len(documents) == 1 else None
        if isinstance(data, dict) and "sources" in data:
            found.append(path)
    return found


def _as_editors_see_it(text: str) -> Any:
    # An editor's YAML language server reads 2014-09-01 as a string, not a date.
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def _errors(document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(config_json_schema())
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator.iter_errors(document)]


def test_every_shipped_config_is_found() -> None:
    names = {p.name for p in _configs()}
    assert {"tradewatch.yaml", "tradewatch-ha.yaml", "comtrade.yaml",
            "china-russia-machine-tools.yaml"} <= names


@pytest.mark.parametrize("path", _configs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_config_matches_the_schema(path: Path) -> None:
    assert _errors(_as_editors_see_it(path.read_text())) == []
    text = path.read_text()
    env = {name: "x" * 8 for name in re.findall(r"\$\{([A-Z0-9_]+)\}", text)}
    load_config(path, env=env)  # and the loader accepts it too


def test_kubernetes_configmap_config_matches_the_schema() -> None:
    configmap = yaml.safe_load((ROOT / "deploy/kubernetes/configmap.yaml").read_text())
    assert _errors(_as_editors_see_it(configmap["data"]["tradewatch.yaml"])) == []


@pytest.mark.parametrize("reporter", [156, "CHN", [156, 643], ["CHN", 643]])
def test_scalar_forms_the_loader_takes_are_in_the_schema(reporter: Any) -> None:
    document = {"sources": [{"name": "c", "kind": "comtrade", "reporter": reporter, "partner": 643,
                             "commodities": [8456, "TOTAL"], "start": 2019}]}
    assert _errors(document) == []
