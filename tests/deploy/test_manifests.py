"""The Dockerfile, the compose file, the Kubernetes manifests, the systemd unit and the example
config: consistent with each other and with the daemon, and free of secrets."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.deploy.support import (
    DEPLOY,
    JOB,
    dockerfile_instructions,
    final_stage,
    healthcheck_command,
    load_yaml,
    load_yaml_documents,
)

CONFIG_PATH = "/etc/tradewatch/tradewatch.yaml"
STATE_DIR = "/var/lib/tradewatch"
PORT = 9470
KUBERNETES = DEPLOY / "kubernetes"
HA_CONFIG = DEPLOY / "tradewatch-ha.yaml"
REPLICAS = ("tradewatch-1", "tradewatch-2")
MANY = {"Service"}  # kinds with more than one manifest, keyed kind/name


# -- Dockerfile -------------------------------------------------------------------------------
def test_dockerfile_builds_a_slim_python_311_image_from_the_lock_file() -> None:
    instructions = dockerfile_instructions()
    args = {a.split("=")[0]: a.split("=")[1] for k, a in instructions if k == "ARG" and "=" in a}
    version = tuple(int(p) for p in args["PYTHON_VERSION"].split("."))
    assert version >= (3, 11)
    for keyword, value in instructions:
        if keyword == "FROM":
            assert re.match(r"python:\$\{PYTHON_VERSION\}-slim(-\w+)?( AS \w+)?$", value), value
    assert any(k == "COPY" and "uv.lock" in shlex.split(a) for k, a in instructions)
    assert any(k == "RUN" and "uv sync --locked --no-editable" in a for k, a in instructions)
    assert not any(k == "RUN" and "pip install ." in a for k, a in instructions), "installs bypass uv.lock"


def test_dockerfile_copies_only_files_that_exist_and_are_not_ignored() -> None:
    ignored = {line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for keyword, args in dockerfile_instructions():
        if keyword != "COPY" or args.startswith("--from"):
            continue
        *sources, _destination = shlex.split(args)
        for source in sources:
            assert (REPO / source).exists(), source
            assert source.rstrip("/") not in ignored and source.split("/")[0] not in ignored, source


def test_dockerfile_runtime_stage_is_non_root_with_volume_config_port_and_healthcheck() -> None:
    stage = final_stage(dockerfile_instructions())
    values = {}
    for keyword, args in stage:
        values.setdefault(keyword, []).append(args)
    [user] = values["USER"]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "run as a numeric non-root user (runAsNonRoot checks it)"
    assert any(f"--uid {uid}" in run for run in values["RUN"])
    assert STATE_DIR in json.loads(values["VOLUME"][0])
    assert any(f"TRADEWATCH_CONFIG={CONFIG_PATH}" in env for env in values["ENV"])
    assert f"deploy/tradewatch.yaml {CONFIG_PATH}" in values["COPY"]
    assert values["EXPOSE"] == [str(PORT)]
    assert json.loads(values["ENTRYPOINT"][0]) == ["tradewatch"]
    assert json.loads(values["CMD"][0]) == ["run", "--listen", f"0.0.0.0:{PORT}"]
    assert values["STOPSIGNAL"] == ["SIGTERM"]
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert f"http://127.0.0.1:{PORT}/-/healthy" in command[2]
    assert "curl" not in values["HEALTHCHECK"][0] and "wget" not in values["HEALTHCHECK"][0]


# -- docker compose ---------------------------------------------------------------------------
def test_compose_runs_two_replicas_on_postgres_with_existing_mounts_and_pinned_images() -> None:
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    services = compose["services"]
    assert set(services) == {"postgres", *REPLICAS, "prometheus", "alertmanager", "grafana"}
    declared_volumes = set(compose["volumes"])
    for name, service in services.items():
        image = service.get("image", "")
        if name not in REPLICAS:
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image"
        for mount in service.get("volumes", []):
            source, target = mount.split(":")[:2]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared_volumes, f"{name}: volume {source} not declared"
            assert target.startswith("/")
    ports = set()
    for name in REPLICAS:
        replica = services[name]
        build = replica["build"]
        dockerfile = (DEPLOY / build["context"] / build["dockerfile"]).resolve()
        assert dockerfile == (DEPLOY / "Dockerfile").resolve()
        assert replica["volumes"] == [f"./tradewatch-ha.yaml:{CONFIG_PATH}:ro"], "the state is in PostgreSQL"
        assert "tradewatch" in replica["networks"]["default"]["aliases"]  # Grafana's API data source
        environment = replica["environment"]
        for secret in ("SLACK_BOT_TOKEN", "TRADEWATCH_API_TOKEN", "TRADEWATCH_DB_PASSWORD"):
            assert environment[secret].startswith("${"), secret
        [mapping] = replica["ports"]
        assert mapping.endswith(f":{PORT}")
        ports.add(mapping)
    assert len(ports) == 2 and f"{PORT}:{PORT}" in ports
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${TRADEWATCH_DB_PASSWORD")


def test_compose_start_order_is_health_gated() -> None:
    services = load_yaml(DEPLOY / "docker-compose.yml")["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    for name in REPLICAS:
        assert services[name]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "HEALTHCHECK" in {keyword for keyword, _ in dockerfile_instructions()}  # the replicas' check
    for name in ("prometheus", "grafana"):
        gates = services[name]["depends_on"]
        assert isinstance(gates, dict), f"{name}: depends_on with conditions"
        assert all(gate["condition"] in {"service_healthy", "service_started"} for gate in gates.values())
    assert {services["prometheus"]["depends_on"][r]["condition"] for r in REPLICAS} == {"service_healthy"}
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert services["prometheus"]["healthcheck"]["test"][-1].endswith("/-/ready")


def test_compose_prometheus_scrapes_every_replica() -> None:
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    [job] = [c for c in config["scrape_configs"] if c["job_name"] == JOB]
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert targets == [f"{name}:{PORT}" for name in REPLICAS]


def test_compose_mounts_prometheus_rules_where_the_config_looks_for_them() -> None:
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    prometheus = compose["services"]["prometheus"]
    mounts = dict(reversed(m.split(":")[:2]) for m in prometheus["volumes"])
    config_in_container = next(
        a.split("=", 1)[1] for a in prometheus["command"] if a.startswith("--config.file"))
    assert mounts[config_in_container] == "./prometheus/prometheus.yml"
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    config_dir = Path(config_in_container).parent
    for pattern in config["rule_files"]:
        rules_dir = (config_dir / pattern).parent.as_posix()
        assert mounts[rules_dir] == "./prometheus/rules"
    alertmanager = compose["services"]["alertmanager"]
    config_file = next(a.split("=", 1)[1] for a in alertmanager["command"] if a.startswith("--config.file"))
    assert dict(reversed(m.split(":")[:2]) for m in alertmanager["volumes"])[config_file] == (
        "./alertmanager/alertmanager.yml")


def compose_command() -> list[str] | None:
    """`docker compose` (v2) or `docker-compose` (v1), whichever validates files here."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.mark.slow
def test_compose_file_is_valid_for_docker_compose() -> None:
    """Only where a compose client is installed (it needs no daemon to check a file)."""
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` installed")
    result = subprocess.run([*command, "-f", str(DEPLOY / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, timeout=60, cwd=DEPLOY)
    assert result.returncode == 0, result.stdout + result.stderr


# -- the example config -----------------------------------------------------------------------
@pytest.mark.slow
def test_example_config_is_valid_and_keeps_state_on_the_volume() -> None:
    result = subprocess.run([sys.executable, "-m", "monitor", "check", "--config",
                             str(DEPLOY / "tradewatch.yaml")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    config = load_yaml(DEPLOY / "tradewatch.yaml")
    assert config["store"]["path"].startswith(STATE_DIR + "/")
    assert config["http"]["listen"] == f"0.0.0.0:{PORT}"


@pytest.mark.slow
def test_ha_config_is_valid_and_on_postgresql_with_the_password_from_the_environment() -> None:
    config = load_yaml(HA_CONFIG)
    url = config["store"]["url"]
    assert url.startswith("postgresql+psycopg://") and "${TRADEWATCH_DB_PASSWORD}" in url
    assert "path" not in config["store"]
    assert config["http"]["listen"] == f"0.0.0.0:{PORT}"
    without = subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(HA_CONFIG)],
                             capture_output=True, text=True, timeout=120,
                             env={k: v for k, v in os.environ.items() if k != "TRADEWATCH_DB_PASSWORD"})
    assert without.returncode == 2 and "TRADEWATCH_DB_PASSWORD is not set" in without.stderr
    result = subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(HA_CONFIG)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TRADEWATCH_DB_PASSWORD": "not-a-real-one"})
    assert result.returncode == 0, result.stderr


# -- Kubernetes -------------------------------------------------------------------------------
def manifests() -> dict[str, dict[str, Any]]:
    """kind -> the one manifest of that kind, from every file the kustomization lists."""
    kustomization = load_yaml(KUBERNETES / "kustomization.yaml")
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    found: dict[str, dict[str, Any]] = {}
    for name in sorted(listed):
        for doc in load_yaml_documents(KUBERNETES / name):
            assert {"apiVersion", "kind", "metadata"} <= set(doc), name
            key = doc["kind"] if doc["kind"] not in MANY else f"{doc['kind']}/{doc['metadata']['name']}"
            assert key not in found, f"two {key} manifests"
            found[key] = doc
    return found


def test_kubernetes_has_every_manifest_and_no_secret() -> None:
    kinds = set(manifests())
    assert kinds == {"Deployment", "Service/tradewatch", "Service/postgres",
                     "StatefulSet", "PodDisruptionBudget", "ConfigMap", "ServiceMonitor", "PrometheusRule"}


def test_every_yaml_file_under_deploy_parses() -> None:
    files = sorted(DEPLOY.rglob("*.y*ml"))
    assert len(files) >= 15
    for path in files:
        assert load_yaml_documents(path), path


def test_deployment_probes_resources_security_and_volumes() -> None:
    found = manifests()
    deployment = found["Deployment"]
    spec = deployment["spec"]
    assert spec["replicas"] == 2, "one active replica and one standing by"
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]
    labels = pod["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    pod_security = pod["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0
    [container] = pod["spec"]["containers"]
    assert container["image"] in {i["name"] for i in load_yaml(KUBERNETES / "kustomization.yaml")["images"]}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": PORT}
    assert container["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": "http"}
    # A healthy standby is ready (it can take over), so drains and rolling updates proceed.
    assert container["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    assert container["resources"]["limits"]["memory"]
    assert container["args"][:1] == ["run"] and f"0.0.0.0:{PORT}" in container["args"]
    env = {e["name"]: e for e in container["env"]}
    assert env["TRADEWATCH_CONFIG"]["value"] == CONFIG_PATH
    for name in ("SLACK_BOT_TOKEN", "TRADEWATCH_API_TOKEN", "TRADEWATCH_DB_PASSWORD"):
        token = env[name]
        assert "value" not in token
        assert token["valueFrom"]["secretKeyRef"]["name"] and token["valueFrom"]["secretKeyRef"]["key"]
    for item in container["env"]:
        if re.search("TOKEN|SECRET|PASSWORD|KEY", item["name"]):
            assert "value" not in item, f"{item['name']} must come from a Secret"
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert set(mounts.values()) <= set(volumes)
    assert volumes[mounts["/etc/tradewatch"]]["configMap"]["name"] == found["ConfigMap"]["metadata"]["name"]
    assert STATE_DIR not in mounts and not any("persistentVolumeClaim" in v for v in volumes.values())
    assert "/tmp" in mounts, "a read-only root filesystem needs a writable /tmp"


def test_services_and_servicemonitor_reach_the_pods() -> None:
    found = manifests()
    pod_labels = found["Deployment"]["spec"]["template"]["metadata"]["labels"]
    service = found[f"Service/{JOB}"]  # the job label the rules select
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["publishNotReadyAddresses"] is True, "a standby is scraped too"
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == "http" and port["port"] == PORT
    monitor = found["ServiceMonitor"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selector = monitor["spec"]["selector"]["matchLabels"].items()
    assert selector <= service["metadata"]["labels"].items()
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == port["name"] and endpoint["path"] == "/metrics"


def test_pod_disruption_budget_keeps_one_replica() -> None:
    found = manifests()
    budget = found["PodDisruptionBudget"]
    assert budget["apiVersion"] == "policy/v1"
    assert budget["spec"]["maxUnavailable"] == 1 and "minAvailable" not in budget["spec"]
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"  # a standby is not ready
    pod_labels = found["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert found["Deployment"]["spec"]["replicas"] > budget["spec"]["maxUnavailable"]


def test_postgres_statefulset_serves_the_store_url() -> None:
    found = manifests()
    postgres = found["StatefulSet"]
    service = found["Service/postgres"]
    assert postgres["spec"]["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["selector"].items() <= postgres["spec"]["template"]["metadata"]["labels"].items()
    [container] = postgres["spec"]["template"]["spec"]["containers"]
    assert ":" in container["image"] and not container["image"].endswith(":latest")
    env = {e["name"]: e for e in container["env"]}
    password = env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]
    [tradewatch] = found["Deployment"]["spec"]["template"]["spec"]["containers"]
    tradewatch_env = {e["name"]: e for e in tradewatch["env"]}
    assert tradewatch_env["TRADEWATCH_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == password
    assert "pg_isready" in container["readinessProbe"]["exec"]["command"]
    [claim] = postgres["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    url = yaml.safe_load(found["ConfigMap"]["data"]["tradewatch.yaml"])["store"]["url"]
    user, database = env["POSTGRES_USER"]["value"], env["POSTGRES_DB"]["value"]
    port = service["spec"]["ports"][0]["port"]
    assert url == (f"postgresql+psycopg://{user}:${{TRADEWATCH_DB_PASSWORD}}@{service['metadata']['name']}:"
                   f"{port}/{database}")


def test_configmap_carries_the_ha_config() -> None:
    configmap = manifests()["ConfigMap"]
    [(name, text)] = configmap["data"].items()
    assert f"/etc/tradewatch/{name}" == CONFIG_PATH
    assert yaml.safe_load(text) == load_yaml(HA_CONFIG)


@pytest.mark.slow
def test_configmap_config_passes_tradewatch_check(tmp_path: Path) -> None:
    [(name, text)] = manifests()["ConfigMap"]["data"].items()
    config = tmp_path / name
    config.write_text(text)
    result = subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(config)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TRADEWATCH_DB_PASSWORD": "not-a-real-one"})
    assert result.returncode == 0, result.stderr


# -- systemd ----------------------------------------------------------------------------------
UNIT = DEPLOY / "systemd" / "tradewatch.service"


def unit_settings(path: Path = UNIT) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, line
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_systemd_unit_runs_the_daemon_as_a_dedicated_user() -> None:
    service = unit_settings()["Service"]
    one = {key: values[-1] for key, values in service.items()}
    assert one["Type"] == "simple"
    assert one["User"] == "tradewatch" and one["Group"] == "tradewatch"
    assert one["StateDirectory"] == "tradewatch"
    assert any(value.lstrip("-").startswith("/etc/tradewatch/") for value in service["EnvironmentFile"])
    assert one["Restart"] == "on-failure"
    assert one["KillSignal"] == "SIGTERM"
    assert one["TimeoutStopSec"]
    assert one["RestartPreventExitStatus"] == "2"
    assert " run " in one["ExecStart"] and one["ExecStart"].split()[0].endswith("/tradewatch")
    environment = dict(value.split("=", 1) for value in service["Environment"])
    assert environment["TRADEWATCH_CONFIG"] == CONFIG_PATH
    assert unit_settings()["Install"]["WantedBy"] == ["multi-user.target"]
    store = load_yaml(DEPLOY / "tradewatch.yaml")["store"]["path"]
    assert store.startswith(f"/var/lib/{one['StateDirectory']}/")


@pytest.mark.slow
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    # The unit as installed, with its executable pointing at this checkout's.
    tradewatch = Path(sys.executable).with_name("tradewatch")
    unit = tmp_path / "tradewatch.service"
    unit.write_text(UNIT.read_text().replace("/opt/tradewatch/bin/tradewatch", str(tradewatch)))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr)


# -- secrets ----------------------------------------------------------------------------------
SECRET_PATTERNS = [
    re.compile(r"xox[abposr]-[0-9A-Za-z-]{10,}"),              # Slack tokens
    re.compile(r"hooks\.slack\.com/services/T[0-9A-Z]+/"),      # Slack incoming webhooks
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
]


def test_no_secret_values_are_committed() -> None:
    files = [p for p in DEPLOY.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name == ".env" or p.suffix == ".env"], "env files hold secrets"
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), f"{path.relative_to(REPO)} looks like it holds a secret"
        if path.suffix in {".yaml", ".yml"}:
            for doc in load_yaml_documents(path):
                if isinstance(doc, dict):
                    assert doc.get("kind") != "Secret", f"{path.relative_to(REPO)} commits a Secret"
    example = (DEPLOY / "systemd" / "tradewatch.env.example").read_text()
    assert all(line.startswith("#") or not line.strip() for line in example.splitlines())
