"""Grafana provisioning and dashboards: valid, wired to the provisioned data sources, and
querying only metrics tradewatch documents."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.support import (
    BUILTIN_VARIABLES,
    DASHBOARD_PROVIDERS_DIR,
    DASHBOARDS,
    DATASOURCES_DIR,
    DEPLOY,
    INFINITY_TYPE,
    PROMETHEUS_TYPE,
    dashboard_queries,
    dashboard_variables,
    documented_metrics,
    iter_panels,
    load_dashboard,
    load_yaml,
    metric_names,
    parse_label_values,
    provisioned_datasources,
    variables_used,
)

SCHEMA = Path(__file__).parent / "schemas" / "grafana-dashboard.jsonschema.json"
EXPECTED_DASHBOARDS = {"tradewatch-ops.json", "tradewatch-trade.json"}


def test_the_two_dashboards_are_there() -> None:
    assert {p.name for p in DASHBOARDS} == EXPECTED_DASHBOARDS


def test_datasources_provision_prometheus_and_the_json_api() -> None:
    files = sorted(DATASOURCES_DIR.glob("*.y*ml"))
    assert files
    sources = [s for f in files for s in load_yaml(f)["datasources"]]
    assert all(load_yaml(f)["apiVersion"] == 1 for f in files)
    by_type = {s["type"]: s for s in sources}
    assert set(by_type) == {PROMETHEUS_TYPE, INFINITY_TYPE}
    assert by_type[PROMETHEUS_TYPE]["url"] == "http://prometheus:9090"
    assert by_type[PROMETHEUS_TYPE].get("isDefault") is True
    api = by_type[INFINITY_TYPE]
    assert api["url"] == "http://tradewatch:9470"
    assert api["url"] in api["jsonData"]["allowedHosts"]
    assert len({s["uid"] for s in sources}) == len(sources) == 2


def test_compose_installs_the_infinity_plugin_and_mounts_the_provisioning() -> None:
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    grafana = compose["services"]["grafana"]
    assert INFINITY_TYPE in grafana["environment"]["GF_INSTALL_PLUGINS"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in grafana["volumes"] if m.startswith("./")}
    assert mounts["/etc/grafana/provisioning/datasources"] == "./grafana/provisioning/datasources"
    assert mounts["/etc/grafana/provisioning/dashboards"] == "./grafana/provisioning/dashboards"
    files = sorted(DASHBOARD_PROVIDERS_DIR.glob("*.y*ml"))
    [provider] = [p for f in files for p in load_yaml(f)["providers"]]
    assert provider["type"] == "file"
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).parent.as_posix() == provider["options"]["path"]
    assert Path(home).name in EXPECTED_DASHBOARDS


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_valid(path: Path) -> None:
    dashboard = load_dashboard(path)
    assert dashboard["uid"] == path.stem
    assert dashboard["title"].startswith("tradewatch")
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    panels = list(iter_panels(dashboard["panels"]))
    assert panels
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["type"] and panel["title"], panel
        grid = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= set(grid) and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        if panel["type"] != "row":
            assert panel["targets"], f"panel {panel['title']!r} has no query"


def test_dashboard_uids_are_unique() -> None:
    uids = [load_dashboard(p)["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))


def datasource_refs(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every `datasource` reference anywhere in a dashboard, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource" and isinstance(value, dict):
                yield where, value
            else:
                yield from datasource_refs(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from datasource_refs(item, f"{where}[{index}]")


def datasource_variables(dashboard: dict[str, Any]) -> dict[str, str]:
    """name -> plugin id of the dashboard's data-source variables."""
    return {v["name"]: v["query"] for v in dashboard["templating"]["list"] if v["type"] == "datasource"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_datasource_is_a_template_variable_of_its_type(path: Path) -> None:
    """No fixed uid: a dashboard imported into any Grafana picks its data sources by type."""
    dashboard = load_dashboard(path)
    variables = datasource_variables(dashboard)
    assert variables.get("datasource") == PROMETHEUS_TYPE
    refs = list(datasource_refs(dashboard))
    assert len(refs) > 5
    for where, ref in refs:
        if ref == {"type": "grafana", "uid": "-- Grafana --"}:  # Grafana's own annotations
            continue
        match = re.fullmatch(r"\$\{(\w+)\}", ref.get("uid", ""))
        assert match, f"{path.name}{where}: fixed data source uid {ref.get('uid')!r}"
        assert variables.get(match.group(1)) == ref["type"], f"{path.name}{where}: {ref}"
    for panel in iter_panels(dashboard["panels"]):
        if panel["type"] != "row":
            assert panel["datasource"]["uid"].startswith("${"), panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_inputs_ask_for_each_data_source_on_import(path: Path) -> None:
    """Grafana's import asks for every `__inputs` entry and puts the choice where the
    `${DS_...}` placeholder stands: here, the data-source variables' current values."""
    dashboard = load_dashboard(path)
    inputs = {i["name"]: i for i in dashboard["__inputs"]}
    assert all(i["type"] == "datasource" for i in inputs.values())
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "datasource":
            continue
        [name] = re.findall(r"\$\{(DS_\w+)\}", variable["current"]["value"])
        assert inputs[name]["pluginId"] == variable["query"], variable["name"]
    assert {i["pluginId"] for i in inputs.values()} == set(datasource_variables(dashboard).values())
    required = {(r["type"], r["id"]) for r in dashboard["__requires"]}
    assert {("datasource", i["pluginId"]) for i in inputs.values()} <= required
    panels = {p["type"] for p in iter_panels(dashboard["panels"]) if p["type"] != "row"}
    assert {("panel", t) for t in panels} <= required


def grafana_schema() -> dict[str, Any]:
    """The vendored schema, with one correction: Grafana's CUE declares an override's
    `matcher.options` and `properties[].value` as any value (`_`), which the generated JSON
    Schema narrows to objects; Grafana's own byName matcher takes a string there."""
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    definitions = schema["definitions"]
    assert definitions["MatcherConfig"]["properties"]["options"].get("type") == "object"
    definitions["MatcherConfig"]["properties"]["options"] = {}
    assert definitions["DynamicConfigValue"]["properties"]["value"].get("type") == "object"
    definitions["DynamicConfigValue"]["properties"]["value"] = {}
    return schema


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_matches_grafanas_published_schema(path: Path) -> None:
    """Grafana's dashboard schema (grafana-foundation-sdk's JSON Schema, vendored with its
    licence under tests/deploy/schemas/). `__inputs` and `__requires` belong to the export
    format, which Grafana's import strips before the model is read."""
    dashboard = {k: v for k, v in load_dashboard(path).items() if k not in ("__inputs", "__requires")}
    validator = jsonschema.Draft7Validator(grafana_schema())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
              for e in validator.iter_errors(dashboard)]
    assert errors == []


def test_the_schema_refuses_what_grafana_would_not_read() -> None:
    """The vendored schema is strict enough to fail: a sanity check of the check above."""
    validator = jsonschema.Draft7Validator(grafana_schema())
    dashboard = {k: v for k, v in load_dashboard(DASHBOARDS[0]).items()
                 if k not in ("__inputs", "__requires")}
    broken = [{**dashboard, "panels": [{**dashboard["panels"][1], "gridPos": {"x": "left"}}]},
              {**dashboard, "templating": {"list": [{"name": "x"}]}},
              {**dashboard, "schemaVersion": "39"},
              {**dashboard, "annotationz": []}]
    for document in broken:
        assert list(validator.iter_errors(document)), document.keys()


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_alert_episodes_are_annotations_on_history_panels(path: Path) -> None:
    dashboard = load_dashboard(path)
    [episodes] = [a for a in dashboard["annotations"]["list"] if a["name"].startswith("Alert episodes")]
    assert episodes["enable"] is True
    panels = {p["id"]: p for p in iter_panels(dashboard["panels"])}
    shown_on = episodes["filter"]["ids"]
    assert shown_on and all(panels[i]["type"] == "timeseries" for i in shown_on)
    if episodes["datasource"]["type"] == PROMETHEUS_TYPE:
        assert "tradewatch_alerts{" in episodes["expr"] and 'alertstate="firing"' in episodes["expr"]
    else:
        target = episodes["target"]
        assert target["url"].startswith("/api/v1/alerts?") and "series=${series}" in target["url"]
        columns = {c["text"]: c for c in target["columns"]}
        assert columns["time"]["type"] == columns["timeEnd"]["type"] == "timestamp"
        assert {"title", "text"} <= set(columns)
        assert any(panels[i]["title"].startswith("History") for i in shown_on)


def test_provisioning_serves_every_data_source_variable() -> None:
    """Provisioned Grafana: each variable finds exactly one data source of its type (the
    Prometheus one the default), so the dashboards open filled without choosing."""
    provisioned = list(provisioned_datasources().values())
    for path in DASHBOARDS:
        for plugin in datasource_variables(load_dashboard(path)).values():
            assert provisioned.count(plugin) == 1, (path.name, plugin)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_prometheus_target_has_an_expression_on_documented_metrics(path: Path) -> None:
    documented = documented_metrics()
    queries = dashboard_queries(path)
    expressions = [q for q in queries if q.kind == "expr"]
    assert expressions, "no Prometheus queries collected"
    for query in expressions:
        assert query.text.strip(), f"{query.where}: empty expression"
        unknown = {m for m in metric_names(query.text) if m.startswith("tradewatch_")} - documented
        assert not unknown, f"{query.where}: undocumented metrics {sorted(unknown)}"
    for query in queries:
        if query.kind == "label_values":
            selector, _label = parse_label_values(query.text)
            assert selector and metric_names(selector) <= documented, query.where


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_variable_used_is_defined(path: Path) -> None:
    defined = dashboard_variables(path) | set(BUILTIN_VARIABLES)
    for query in dashboard_queries(path):
        missing = variables_used(query.text) - defined
        assert not missing, f"{query.where}: undefined variables {sorted(missing)}"
    titles = [p["title"] for p in iter_panels(load_dashboard(path)["panels"])]
    for title in titles:
        assert variables_used(title) <= defined, title


def test_key_panels_of_the_ops_dashboard() -> None:
    expressions = [q.text for q in dashboard_queries(DEPLOY / "grafana/dashboards/tradewatch-ops.json")
                   if q.kind == "expr"]
    text = "\n".join(expressions)
    assert "sum by (alertstate) (tradewatch_alerts{" in text
    for quantile in ("0.5", "0.9", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (source, le) " \
               "(rate(tradewatch_source_poll_duration_seconds_bucket{" in text
    for metric in ("tradewatch_source_up", "tradewatch_source_errors_total", "tradewatch_cycles_total",
                   "tradewatch_outbox_pending", "tradewatch_outbox_oldest_age_seconds",
                   "tradewatch_notifications_total", "tradewatch_source_last_success_timestamp_seconds"):
        assert metric in text, metric
    assert "sum by (source, reason)" in text
    assert "outcome" in text


def test_trade_dashboard_reads_history_through_the_json_api() -> None:
    path = DEPLOY / "grafana/dashboards/tradewatch-trade.json"
    queries = dashboard_queries(path)
    infinity = [q for q in queries if q.kind == "infinity"]
    history = [q for q in infinity if q.text == "/api/v1/series/${series}"]
    assert len(history) == 1
    target = history[0].target
    assert target is not None
    assert (target["type"], target["source"], target["root_selector"]) == ("json", "url", "data.points")
    columns = {c["selector"]: c["type"] for c in target["columns"]}
    assert columns["time"] == "timestamp" and columns["value"] == "number"
    assert all(q.text.startswith("/api/v1/") for q in infinity)
    assert "series" in dashboard_variables(path)
    [series_variable] = [q for q in queries if q.where.endswith("variable series")]
    assert parse_label_values(series_variable.text)[1] == "series"
    expressions = "\n".join(q.text for q in queries if q.kind == "expr")
    for metric in ("tradewatch_series_value", "tradewatch_series_yoy_percent", "tradewatch_alerts"):
        assert metric in expressions, metric
