"""How fast the web pages answer, against a plain JSON API call (or the command) for the
same data, over real HTTP on loopback.

    PYTHONPATH=. python bench/ui.py [--repeat 5] [--alerts 20000] [--series 100000]

1. Tune: a threshold changed on the demo config (its whole history in a fresh store), for
   the page's first rule (two sources whose histories were stored at different times, so
   values of one become visible after their period) and for a guarded rule,
   POST /ui/tune/run, against the same run in-process (Tuner.run) and against the command
   `tradewatch backtest --set ... --format json` (a cold process). Target: under 1 s.
2. Alerts: GET /ui/ over 20,000 alerts (page 1 and page 20 of 500 rows; ?limit=0, every row), grouped
   by the routing tree with silence and inhibition marks, against GET /api/v1/alerts.
   Target: under 2 s.
3. Series search: GET /ui/series?q=... over 100,000 stored series, against GET
   /api/v1/series (every series' newest value, unfiltered). Target: under 2 s.

Median wall times of `--repeat` runs, and each as a ratio of its peer.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repo's `detectors`, not bench/detectors.py

from monitor.alerts.lifecycle import Alert, Status  # noqa: E402
from monitor.api import Api  # noqa: E402
from monitor.app import App  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.http import HttpServer, build_app  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.silences import SilenceStore  # noqa: E402
from monitor.ui import Ui  # noqa: E402
from monitor.ui.tune import TuneRequest  # noqa: E402

NOW = datetime(2024, 6, 1, tzinfo=UTC)
# The page's first rule (two sources in one group) and the rule with materiality guards.
RULES = ("yoy_consecutive_decline", "yoy_sharp_fall")
COUNTRIES = [f"C{k:02d}" for k in range(60)]


def median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def line(name: str, seconds: float, peer_name: str, peer: float, target: float | None = None) -> None:
    goal = f"  (target < {target:g} s: {'met' if seconds < target else 'MISSED'})" if target else ""
    print(f"  {name:44} {seconds:7.3f} s   {peer_name:34} {peer:7.3f} s   ratio {seconds / peer:6.2f}{goal}")


def bench_tune(folder: Path, repeat: int) -> None:
    text = (ROOT / "config" / "tradewatch.yaml").read_text()
    text = re.sub(r"path: \.\./var/demo\.db", f"path: {folder / 'demo.db'}", text)
    text = re.sub(r"listen: 127\.0\.0\.1:9470", "listen: 127.0.0.1:0", text)
    text = re.sub(r"\n\s*replay: .*", "", text)  # the whole history in the store
    config = folder / "demo.yaml"
    config.write_text(text)
    app = App(load_config(config))
    app.run_once()
    url = app.start().removesuffix("/metrics")
    values = iter(f"-{10 + k % 20}" for k in range(10_000))
    ui = Ui(app.store, app.book, lambda: app.runtime.loaded, lambda: NOW)
    print("Tune: a rule's threshold changed, demo config (whole history)")
    try:
        for rule in RULES:
            path = f"rules.{rule}.detector.threshold"
            httpx.post(f"{url}/ui/tune/run", data={"rule": rule, path: "-12"}, timeout=120)  # warm
            page = median(lambda rule=rule, path=path: httpx.post(
                f"{url}/ui/tune/run", timeout=120, data={"rule": rule, path: next(values)}), repeat)
            ui.tuner.run(TuneRequest(rule, values={path: "-12"}))
            inproc = median(lambda rule=rule, path=path: ui.tuner.run(
                TuneRequest(rule, values={path: next(values)})), repeat)
            argv = [sys.executable, "-m", "monitor", "backtest", "--config", str(config), "--rule", rule,
                    "--set", f"{path}=-15", "--format", "json"]
            cli = median(lambda argv=argv: subprocess.run(argv, check=True, capture_output=True, cwd=ROOT),
                         max(1, repeat // 2))
            line(f"POST /ui/tune/run ({rule})", page, "tradewatch backtest --set (process)", cli, 1.0)
            line(f"POST /ui/tune/run ({rule})", page, "Tuner.run in-process", inproc)
    finally:
        app.stop()


class Book:
    """The alert book's read side, holding generated alerts."""

    def __init__(self, alerts: list[Alert]) -> None:
        self._alerts = alerts

    def alerts(self, statuses: Any = None) -> list[Alert]:
        return [a for a in self._alerts if statuses is None or a.status in statuses]


def make_alerts(n: int) -> list[Alert]:
    out = []
    for k in range(n):
        rule = f"rule_{k % 5}"
        labels = {"alertname": rule, "series": f"s{k:06d}",
                  "severity": "critical" if k % 7 == 0 else "warning", "reporter": COUNTRIES[k % 60],
                  "partner": COUNTRIES[(k // 60) % 60], "team": "policy"}
        status = Status.PENDING if k % 10 == 0 else Status.FIRING
        sentence = (f"{labels['reporter']}'s imports from {labels['partner']} fell 25.0% YoY in 2024-05, "
                    "below the -20% threshold.")
        out.append(Alert(f"{k:016x}", rule, labels["series"], labels, labels["severity"], status, 1,
                         "2024-05", "2024-03", -25.0, -20.0, sentence, NOW, NOW, None, NOW))
    return out


ROUTED = """
store: {{path: {store}}}
sources:
  - name: demo
    kind: file
    path: demo://russia_china_monthly_2006_2021_russian_fcs.csv
    period_column: period
    labels: {{reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}}
    columns: {{ru_exports_to_cn_musd: {{flow: export}}}}
rules:
  - {{name: rule_0, detector: {{kind: threshold, direction: below, threshold: -20}}}}
notify:
  receivers: [{{name: desk, console: {{}}}}, {{name: pager, console: {{}}}}]
  route:
    receiver: desk
    group_by: [alertname]
    routes:
      - {{receiver: pager, matchers: [severity="critical"], group_by: [alertname, reporter]}}
  inhibit_rules:
    - {{source_matchers: [severity="critical"], target_matchers: [severity="warning"], equal: [reporter]}}
"""


def serve(store: Store, book: Book, config: Path) -> tuple[HttpServer, str]:
    loaded = load_config(config)
    ui = Ui(store, book, lambda: loaded, lambda: NOW)  # type: ignore[arg-type]
    api = Api(store, book, lambda: NOW)  # type: ignore[arg-type]
    server = HttpServer("127.0.0.1", 0, build_app(lambda e, s: [], lambda: (True, ""), lambda: (True, ""),
                                                  api, ui=ui))
    server.start()
    host, port = server.address
    return server, f"http://{host}:{port}"


def bench_alerts(folder: Path, n: int, repeat: int) -> None:
    config = folder / "alerts.yaml"
    config.write_text(ROUTED.format(store=folder / "alerts.db"))
    store = Store(f"sqlite:///{folder / 'alerts.db'}")
    for k in range(5):
        SilenceStore(store).add([f'reporter="{COUNTRIES[k]}"'], NOW - timedelta(hours=1),
                                NOW + timedelta(days=1), "bench", "bench", NOW - timedelta(hours=1))
    server, url = serve(store, Book(make_alerts(n)), config)
    try:
        get = lambda path: httpx.get(url + path, timeout=120)  # noqa: E731
        api = median(lambda: get("/api/v1/alerts"), repeat)
        page = median(lambda: get("/ui/"), repeat)
        middle = median(lambda: get("/ui/?page=20"), repeat)
        every = median(lambda: get("/ui/?limit=0"), repeat)
        filtered = median(lambda: get('/ui/?filter=partner%3D~%22C0.*%22'), repeat)
        size = len(get("/ui/?limit=0").content)
    finally:
        server.stop()
        store.close()
    print(f"Alerts page: {n:,} alerts, two route nodes, 5 silences, 1 inhibit rule")
    line("GET /ui/ (page 1, 500 rows)", page, "GET /api/v1/alerts", api, 2.0)
    line("GET /ui/?page=20 (rows 9,501-10,000)", middle, "GET /api/v1/alerts", api, 2.0)
    line(f"GET /ui/?limit=0 (every row, {size / 1e6:.1f} MB)", every, "GET /api/v1/alerts", api, 2.0)
    line("GET /ui/?filter=partner=~C0.*", filtered, "GET /api/v1/alerts", api, 2.0)


def bench_series(folder: Path, n: int, repeat: int) -> None:
    store = Store(f"sqlite:///{folder / 'series.db'}")
    k = np.arange(n)
    labels = pd.DataFrame({"reporter": np.array(COUNTRIES, dtype=object)[k % 60],
                           "partner": np.array(COUNTRIES, dtype=object)[(k // 60) % 60],
                           "flow": np.where(k % 2 == 0, "import", "export").astype(object),
                           "commodity": np.array([f"{8400 + c % 100}" for c in k // 3600], dtype=object)})
    ids = (labels["reporter"] + "-" + labels["partner"] + "/" + labels["flow"] + "/" + labels["commodity"]
           + "/" + pd.Series(k).astype(str))
    periods = ["2024-03", "2024-04", "2024-05"]
    frame = pd.concat([labels.assign(series=ids, period=p, value=np.float64(100 + i))
                       for i, p in enumerate(periods)], ignore_index=True)
    frame["unit"] = "USD"
    start = time.perf_counter()
    store.ingest(frame, NOW, "M")
    built = time.perf_counter() - start
    config = folder / "series.yaml"
    config.write_text(ROUTED.format(store=folder / "series.db"))
    server, url = serve(store, Book([]), config)
    try:
        get = lambda path: httpx.get(url + path, timeout=300)  # noqa: E731
        api = median(lambda: get("/api/v1/series"), max(1, repeat // 2))
        narrow = median(lambda: get('/ui/series?q=reporter%3D%22C07%22%2C+flow%3D%22import%22'), repeat)
        regex = median(lambda: get('/ui/series?q=series%3D~%22C1.*-C2.*%22'), repeat)
        every = median(lambda: get("/ui/series"), repeat)
        later = median(lambda: get("/ui/series?page=300"), repeat)
    finally:
        server.stop()
        store.close()
    print(f"Series search: {n:,} series (stored in {built:.1f} s)")
    line('GET /ui/series?q=reporter="C07",flow="import"', narrow, "GET /api/v1/series", api, 2.0)
    line('GET /ui/series?q=series=~"C1.*-C2.*"', regex, "GET /api/v1/series", api, 2.0)
    line("GET /ui/series (no filter, page 1 of 200 rows)", every, "GET /api/v1/series", api, 2.0)
    line("GET /ui/series?page=300 (no filter)", later, "GET /api/v1/series", api, 2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--series", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tradewatch-bench-ui-") as name:
        folder = Path(name)
        bench_tune(folder, args.repeat)
        bench_alerts(folder, args.alerts, args.repeat)
        bench_series(folder, args.series, args.repeat)


if __name__ == "__main__":
    main()
