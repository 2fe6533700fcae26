"""The Prometheus config, the alert rules and their unit tests, checked by promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_binary
from tests.deploy.support import (
    DEPLOY,
    JOB,
    PROMETHEUS_CONFIG,
    RULES_FILE,
    RULES_TEST_FILE,
    documented_metrics,
    load_yaml,
    load_yaml_documents,
    metric_names,
    rules,
)

ALERTS = {"TradewatchDown", "TradewatchSourceFailing", "TradewatchSourceLate", "TradewatchReleaseOverdue",
          "TradewatchOutboxBacklog", "TradewatchNotificationsFailing", "TradewatchDeliveriesParked"}


def promtool(*args: str, cwd: Path = DEPLOY) -> subprocess.CompletedProcess[str]:
    binary = require_binary("promtool")
    result = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_promtool_check_config() -> None:
    result = promtool("check", "config", str(PROMETHEUS_CONFIG))
    assert "SUCCESS" in result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr


@pytest.mark.slow
def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", str(RULES_FILE))
    assert f"{len(ALERTS)} rules found" in result.stdout + result.stderr


@pytest.mark.slow
def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", str(RULES_TEST_FILE))
    assert "SUCCESS" in result.stdout + result.stderr


def test_config_scrapes_tradewatch_and_loads_the_rules_file() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    [job] = [c for c in config["scrape_configs"] if c["job_name"] == JOB]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert targets == ["tradewatch-1:9470", "tradewatch-2:9470"]
    matched = [p for pattern in config["rule_files"] for p in PROMETHEUS_CONFIG.parent.glob(pattern)]
    assert matched == [RULES_FILE]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


def test_every_alert_exists_with_severity_summary_and_description() -> None:
    by_name = {rule["alert"]: rule for rule in rules()}
    assert set(by_name) == ALERTS
    for name, rule in by_name.items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        assert rule.get("for"), f"{name} fires on a single evaluation"


def test_rules_use_documented_metric_names_only() -> None:
    documented = documented_metrics()
    for rule in rules():
        unknown = metric_names(rule["expr"]) - documented
        assert not unknown, f"{rule['alert']} uses undocumented metrics {sorted(unknown)}"
    assert '{job="tradewatch"}' in next(r["expr"] for r in rules() if r["alert"] == "TradewatchDown")


def test_unit_tests_show_every_alert_firing_and_not_firing() -> None:
    tests = load_yaml(RULES_TEST_FILE)
    rule_files = [(RULES_TEST_FILE.parent / f).resolve() for f in tests["rule_files"]]
    assert rule_files == [RULES_FILE.resolve()]
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == ALERTS, f"never shown firing: {sorted(ALERTS - firing)}"
    assert quiet == ALERTS, f"never shown quiet: {sorted(ALERTS - quiet)}"


def test_schedule_aware_alerts_are_tested_on_every_kind_of_schedule() -> None:
    """Hourly, daily, cron and release-calendar sources, each shown quiet and alerting, and
    the case the six-hour rule got wrong: a daily source a day after its last success."""
    cases: dict[str, tuple[set[str], set[str]]] = {}
    for case in load_yaml(RULES_TEST_FILE)["tests"]:
        series = " ".join(s["series"] for s in case["input_series"])
        interval_values = " ".join(s["values"] for s in case["input_series"]
                                   if s["series"].startswith("tradewatch_source_poll_interval_seconds"))
        for check in case.get("alert_rule_test", []):
            if check["alertname"] not in {"TradewatchSourceLate", "TradewatchReleaseOverdue"}:
                continue
            if "next_release" in series:
                kind = "release"
            elif "3600x" in interval_values:
                kind = "hourly"
            elif interval_values.startswith("86400x"):
                kind = "daily"
            else:
                kind = "cron"  # an interval that changes with the gaps between cron runs
            quiet, firing = cases.setdefault(kind, (set(), set()))
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert set(cases) == {"hourly", "daily", "cron", "release"}
    for kind, (quiet, firing) in cases.items():
        alert = "TradewatchReleaseOverdue" if kind == "release" else "TradewatchSourceLate"
        assert alert in quiet and alert in firing, kind
    [daily] = [c for c in load_yaml(RULES_TEST_FILE)["tests"]
               if c["name"] == "a daily source 23 h after its last success does not alert"]
    quiet = {"eval_time": "23h", "alertname": "TradewatchSourceLate", "exp_alerts": []}
    assert quiet in daily["alert_rule_test"]


def test_prometheusrule_for_the_operator_carries_the_same_groups() -> None:
    [rule] = load_yaml_documents(DEPLOY / "kubernetes" / "prometheusrule.yaml")
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert rule["spec"]["groups"] == load_yaml(RULES_FILE)["groups"]


@pytest.mark.parametrize("path", ["alertmanager/alertmanager.yml"])
def test_alertmanager_routes_to_a_defined_receiver(path: str) -> None:
    config = load_yaml(DEPLOY / path)
    receivers = {r["name"] for r in config["receivers"]}

    def walk(route: dict[str, object]) -> None:
        receiver = route.get("receiver")
        assert receiver is None or receiver in receivers, receiver
        for child in route.get("routes", []) or []:  # type: ignore[union-attr]
            walk(child)

    assert config["route"]["receiver"] in receivers
    walk(config["route"])
