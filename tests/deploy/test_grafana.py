"""Grafana provisioning and dashboards: valid, wired to the provisioned data sources, and
querying only metrics tradewatch documents."""

from __future__ import annotations

from pathlib import Path

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
    target_datasource,
    variables_used,
)

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


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_datasource_is_a_provisioned_one(path: Path) -> None:
    provisioned = provisioned_datasources()
    dashboard = load_dashboard(path)
    for panel in iter_panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        source = panel["datasource"]
        assert provisioned.get(source["uid"]) == source["type"], panel["title"]
        for target in panel["targets"]:
            used = target_datasource(panel, target)
            assert provisioned.get(used["uid"]) == used["type"], (panel["title"], target["refId"])
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            source = variable["datasource"]
            assert provisioned.get(source["uid"]) == source["type"], variable["name"]


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
