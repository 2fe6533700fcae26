"""What the deploy tests share: the files under deploy/ and the queries they contain."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES_FILE = PROMETHEUS_DIR / "rules" / "tradewatch.rules.yml"
RULES_TEST_FILE = PROMETHEUS_DIR / "tests" / "tradewatch.rules.test.yml"
GRAFANA_DIR = DEPLOY / "grafana"
DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
DATASOURCES_DIR = GRAFANA_DIR / "provisioning" / "datasources"
DASHBOARD_PROVIDERS_DIR = GRAFANA_DIR / "provisioning" / "dashboards"
METRICS_DOC = REPO / "docs" / "metrics.md"
JOB = "tradewatch"

PROMETHEUS_TYPE = "prometheus"
INFINITY_TYPE = "yesoreyeram-infinity-datasource"

# Grafana's built-in interval variables and what the tests put in their place.
BUILTIN_VARIABLES = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::[\w]+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<selector>.+),\s*)?(?P<label>\w+)\s*\)\s*$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_METRIC = re.compile(r"\b(tradewatch_[a-z0-9_]+|process_[a-z0-9_]+|python_[a-z0-9_]+)\b")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def load_dashboard(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def provisioned_datasources() -> dict[str, str]:
    """uid -> type of every data source in grafana/provisioning/datasources/."""
    found: dict[str, str] = {}
    for path in sorted(DATASOURCES_DIR.glob("*.y*ml")):
        for source in load_yaml(path).get("datasources", []):
            found[source["uid"]] = source["type"]
    return found


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


@dataclass(frozen=True)
class Query:
    """One query of a dashboard or of the rules file, with where it came from."""

    where: str
    kind: str  # "expr", "label_values" or "infinity"
    text: str
    target: dict[str, Any] | None = None


def target_datasource(panel: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    return target.get("datasource") or panel.get("datasource") or {}


def dashboard_queries(path: Path) -> list[Query]:
    dashboard = load_dashboard(path)
    found: list[Query] = []
    for panel in iter_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            source = target_datasource(panel, target)
            where = f"{path.name}: panel {panel.get('title')!r} target {target.get('refId')}"
            if source.get("type") == PROMETHEUS_TYPE:
                found.append(Query(where, "expr", target.get("expr", ""), target))
            elif source.get("type") == INFINITY_TYPE:
                found.append(Query(where, "infinity", target.get("url", ""), target))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        source = annotation.get("datasource") or {}
        where = f"{path.name}: annotation {annotation.get('name')!r}"
        if source.get("type") == PROMETHEUS_TYPE:
            found.append(Query(where, "expr", annotation.get("expr", "")))
        elif source.get("type") == INFINITY_TYPE:
            found.append(Query(where, "infinity", annotation["target"].get("url", ""), annotation["target"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query)
        found.append(Query(f"{path.name}: variable {variable['name']}", "label_values", text))
    return found


def all_dashboard_queries() -> list[Query]:
    return [query for path in DASHBOARDS for query in dashboard_queries(path)]


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES_FILE)["groups"] for rule in group["rules"]]


def rule_queries() -> list[Query]:
    return [Query(f"{RULES_FILE.name}: {rule.get('alert') or rule.get('record')}", "expr", rule["expr"])
            for rule in rules()]


def dashboard_variables(path: Path) -> set[str]:
    return {v["name"] for v in load_dashboard(path).get("templating", {}).get("list", [])}


def variables_used(text: str) -> set[str]:
    return {next(g for g in match.groups() if g) for match in _VARIABLE.finditer(text)}


def concrete(text: str, values: dict[str, str] | None = None) -> str:
    """Grafana's variables replaced: built-in intervals by durations, template variables by
    `values` (default `.*`, which every dashboard uses inside `=~` matchers)."""
    values = values or {}

    def replace(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        return BUILTIN_VARIABLES.get(name, values.get(name, ".*"))

    return _VARIABLE.sub(replace, text)


def parse_label_values(text: str) -> tuple[str | None, str]:
    """`label_values(selector, label)` or `label_values(label)` -> (selector, label)."""
    match = _LABEL_VALUES.match(text)
    assert match, f"not a label_values() query: {text!r}"
    return match.group("selector"), match.group("label")


def metric_names(expr: str) -> set[str]:
    """tradewatch_*, process_* and python_* metric names in a PromQL expression."""
    return set(_METRIC.findall(_STRING.sub('""', expr)))


def documented_metrics() -> set[str]:
    """Metric names in docs/metrics.md tables; a histogram brings its _bucket, _count, _sum."""
    names: set[str] = set()
    for line in METRICS_DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2:
            continue
        match = re.fullmatch(r"`(tradewatch_[a-z0-9_]+)`", cells[0])
        if not match:
            continue
        name = match.group(1)
        names.add(name)
        if "histogram" in cells[1:3]:
            names.update({f"{name}_bucket", f"{name}_count", f"{name}_sum"})
    return names


def infinity_path(target: dict[str, Any], values: dict[str, str]) -> str:
    return concrete(str(target["url"]), values)


def select(document: Any, selector: str) -> Any:
    """A dotted root selector (`data.points`) applied to a JSON document."""
    for part in filter(None, selector.split(".")):
        document = document[part]
    return document


# -- Dockerfile ---------------------------------------------------------------------------------
def dockerfile_instructions(path: Path = DEPLOY / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1]:]


def healthcheck_command() -> list[str]:
    [(_, args)] = [i for i in dockerfile_instructions() if i[0] == "HEALTHCHECK"]
    exec_form = args[args.index("CMD ") + 4:]
    command = json.loads(exec_form)
    assert isinstance(command, list) and all(isinstance(c, str) for c in command)
    return command
