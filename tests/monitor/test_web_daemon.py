"""`tradewatch run --web.config.file` and `check` as processes: a bad web config is exit 2
naming the file and the field, and a real Prometheus scrapes the daemon over TLS with basic
auth (and is refused with the wrong password)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import require_binary
from tests.deploy.test_stack import free_port, stop_process, wait_until
from tests.tls import PASSWORD, USER, Pki, make_pki, write_web_config

pytestmark = pytest.mark.slow

CONFIG = """
store: {path: state/tradewatch.db}
http: {listen: "127.0.0.1:0"%s}
sources:
  - name: rosstat_russia_china
    kind: file
    path: demo://russia_china_monthly_2006_2021_russian_fcs.csv
    frequency: M
    period_column: period
    labels: {reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}
    columns:
      ru_exports_to_cn_musd: {flow: export}
    replay: {start: 2014-09, every: 1s}
rules: []
notify:
  receivers: [{name: console, console: {}}]
  route: {receiver: console}
"""


def tradewatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={**os.environ, "PYTHONPATH": str(Path.cwd())})


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def config_file(directory: Path, web_key: str | None = None) -> Path:
    path = directory / "tradewatch.yaml"
    path.write_text(CONFIG % (f", web_config_file: {web_key}" if web_key else ""))
    return path


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_bad_web_config_is_exit_2_naming_file_and_field(pki: Pki, command: str) -> None:
    directory = pki.cert.parent
    bad = directory / "bad-web.yml"
    bad.write_text("tls_server_config:\n  cert_file: server.pem\n  key_file: missing.key\n")
    result = tradewatch(command, "--config", str(config_file(directory)), "--web.config.file", str(bad),
                        cwd=directory)
    assert result.returncode == 2, result.stderr
    assert f"{bad}: tls_server_config.key_file: no such file" in result.stderr
    assert "Traceback" not in result.stderr and "serving metrics" not in result.stdout


def test_check_validates_the_web_config_of_the_config_file(pki: Pki) -> None:
    directory = pki.cert.parent
    write_web_config(directory / "web.yml", pki, {USER: PASSWORD})
    result = tradewatch("check", "--config", str(config_file(directory, "web.yml")), cwd=directory)
    assert result.returncode == 0, result.stderr
    assert f"{directory / 'web.yml'}: ok (web config: TLS TLS12+, 1 basic-auth user)" in result.stdout
    (directory / "other.yml").write_text("basic_auth_users: {a: b}\n")
    result = tradewatch("check", "--config", str(config_file(directory, "other.yml")), cwd=directory)
    assert result.returncode == 2 and "basic_auth_users.a: not a bcrypt hash" in result.stderr


class Daemon:
    def __init__(self, config: Path, log: Path, *args: str) -> None:
        self._log = log.open("w")
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config), *args],
            stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=config.parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(Path.cwd())})
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in self.process.stdout or ()],
                         daemon=True).start()
        deadline = time.monotonic() + 60
        while True:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"daemon did not start:\n{log.read_text()}") from None
                continue
            if "serving metrics at" in line:
                self.url = line.rsplit(" ", 1)[-1].strip()
                return

    def stop(self) -> int:
        code = stop_process(self.process)
        self._log.close()
        return code


@pytest.fixture
def daemon(pki: Pki, tmp_path: Path) -> Iterator[Daemon]:
    web = write_web_config(pki.cert.parent / "daemon-web.yml", pki, {USER: PASSWORD})
    running = Daemon(config_file(tmp_path), tmp_path / "tradewatch.log", "--web.config.file", str(web))
    yield running
    assert running.stop() == 0, running.log.read_text()


def test_prometheus_scrapes_over_tls_with_basic_auth(daemon: Daemon, pki: Pki, tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    assert daemon.url.startswith("https://127.0.0.1:")
    target = daemon.url.removeprefix("https://").removesuffix("/metrics")

    def job(name: str, password: str) -> dict[str, Any]:
        return {"job_name": name, "scheme": "https", "scrape_interval": "1s", "scrape_timeout": "1s",
                "tls_config": {"ca_file": str(pki.ca), "server_name": "localhost"},
                "basic_auth": {"username": USER, "password": password},
                "static_configs": [{"targets": [target]}]}

    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                                      "scrape_configs": [job("tradewatch", PASSWORD),
                                                         job("wrong_password", "nope")]}))
    promtool = require_binary("promtool")
    checked = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            def targets() -> dict[str, dict[str, Any]] | None:
                active = client.get("/api/v1/targets").json()["data"]["activeTargets"]
                found = {t["labels"]["job"]: t for t in active if t["health"] != "unknown"}
                return found if len(found) == 2 else None

            found = wait_until(targets, "both targets scraped", timeout=60)
            assert found["tradewatch"]["health"] == "up", found["tradewatch"]["lastError"]
            assert found["wrong_password"]["health"] == "down"
            assert "401" in found["wrong_password"]["lastError"]

            def build_info() -> list[Any]:
                query = 'tradewatch_build_info{job="tradewatch"}'
                body = client.get("/api/v1/query", params={"query": query})
                result: list[Any] = body.json()["data"]["result"]
                return result

            wait_until(build_info, "tradewatch_build_info scraped over TLS", timeout=30)
    finally:
        stop_process(process)
        log.close()


@pytest.mark.parametrize("listen", ["[::1]:0", ":0"])
def test_ipv6_and_every_interface_listen_forms(tmp_path: Path, listen: str) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    running = Daemon(config_file(tmp_path), tmp_path / "tradewatch.log", "--listen", listen)
    try:
        port = int(running.url.rsplit(":", 1)[1].split("/")[0])
        hosts = ["[::1]"] if listen.startswith("[") else ["127.0.0.1", "[::1]"]
        if listen.startswith(":") and not socket.has_dualstack_ipv6():
            hosts = ["127.0.0.1"]
        assert running.url.startswith("http://[::")  # the bound IPv6 address, bracketed
        for host in hosts:
            response = httpx.get(f"http://{host}:{port}/metrics", timeout=10)
            assert response.status_code == 200 and "tradewatch_build_info" in response.text, host
    finally:
        assert running.stop() == 0, running.log.read_text()
