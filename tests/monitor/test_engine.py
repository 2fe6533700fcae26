"""One cycle end to end in-process, on real files and a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import generate_latest

from monitor.app import App
from monitor.config import load_config
from monitor.store.schema import deliveries, outbox
from tests.conftest import DEMO_CSV, ROSSTAT_BOTH_FLOWS, truncate_csv

CONFIG = """
store: {path: state/tradewatch.db}
sources:
""" + ROSSTAT_BOTH_FLOWS + """  - name: broken
    kind: file
    path: missing.csv
    value_column: value
rules:
  - name: decline
    transform: {kind: yoy_pct}
    detector: {kind: consecutive, direction: below, threshold: -5, count: 5}
    labels: {team: policy}
    export_metrics: true
"""

IMPORTS_FIRING = (
    "Russia's imports from China: 5th monthly fall in a row · warning · Russia's imports from China "
    "fell 21.6% YoY in March 2015, the 5th consecutive monthly decline below -5%."
)
EXPORTS_FIRING = (
    "Russia's exports to China: 5th monthly fall in a row · warning · Russia's exports to China "
    "fell 35.5% YoY in March 2015, the 5th consecutive monthly decline below -5%."
)


@pytest.fixture
def write_config(write_config: Callable[..., Path], store_url: Callable[..., str]) -> Callable[..., Path]:
    """The conftest's, with the store on each backend (SQLite, PostgreSQL)."""

    def write(text: str, name: str = "tradewatch.yaml") -> Path:
        url = f"store: {{url: {store_url()}}}"
        return write_config(text.replace("store: {path: state/tradewatch.db}", url), name)

    return write


@pytest.fixture
def config_path(write_config: Callable[[str], Path], russia_china_csv: Path) -> Path:
    truncate_csv(russia_china_csv, "2015-03")
    return write_config(CONFIG)


def run_once(config_path: Path) -> tuple[App, list[bool]]:
    app = App(load_config(config_path))
    results = app.run_once()
    return app, [r.ok for r in results]


def test_first_cycle_fires_on_the_newest_period_and_a_broken_source_does_not_stop_it(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, oks = run_once(config_path)
    assert oks == [True, False]
    assert capsys.readouterr().out.splitlines() == [EXPORTS_FIRING, IMPORTS_FIRING]
    firing = {(a.series, a.status.value, a.since_period) for a in app.book.alerts()}
    assert firing == {("rus-chn/export/total", "firing", "2015-03"),
                      ("rus-chn/import/total", "firing", "2015-03")}
    app.store.close()


def test_nothing_new_means_nothing_sent_even_after_a_restart(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = run_once(config_path)
    app.run_once()
    app.store.close()
    restarted, _ = run_once(config_path)
    restarted.store.close()
    assert capsys.readouterr().out.splitlines() == [EXPORTS_FIRING, IMPORTS_FIRING]
    sent = (sa.select(outbox.c.fingerprint, outbox.c.episode, outbox.c.status, deliveries.c.receiver)
            .join(deliveries, deliveries.c.outbox_id == outbox.c.id).where(deliveries.c.sent_at.is_not(None)))
    with restarted.store.engine.connect() as conn:
        assert len(conn.execute(sent).all()) == 2


def test_a_new_month_resolves_only_the_series_that_recovered(
    config_path: Path, russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = run_once(config_path)
    capsys.readouterr()
    truncate_csv(russia_china_csv, "2015-06", source=DEMO_CSV)  # exports YoY 2015-06: -1.3%, imports: -33.3%
    app.run_once()
    assert capsys.readouterr().out.splitlines() == [
        "Resolved · Russia's exports to China: back above -5% YoY · warning · Russia's exports to "
        "China fell 1.3% YoY in June 2015; decline no longer holds."
    ]
    statuses = {a.series: a.status.value for a in app.book.alerts()}
    assert statuses == {"rus-chn/export/total": "resolved", "rus-chn/import/total": "firing"}
    app.store.close()


def test_bad_cells_in_one_series_do_not_stop_the_other(
    config_path: Path, russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = russia_china_csv.read_text().replace("2015-03,2409.40141,3012.55243",
                                                "2015-03,2409.40141,n/a")
    russia_china_csv.write_text(text)
    app, oks = run_once(config_path)
    assert oks == [True, False]
    # Imports now end at 2015-02 (4th decline: no alert); exports still fire.
    assert capsys.readouterr().out.splitlines() == [EXPORTS_FIRING]
    exposition = generate_latest(app.registry).decode()
    assert 'tradewatch_source_errors_total{reason="rows",source="rosstat"} 1.0' in exposition
    app.store.close()


def test_metrics_show_series_alerts_and_source_health(config_path: Path) -> None:
    app, _ = run_once(config_path)
    text = generate_latest(app.registry).decode()
    app.store.close()
    assert ('tradewatch_series_value{commodity="TOTAL",flow="import",partner="CHN",reporter="RUS",'
            'series="rus-chn/import/total",source="rosstat",unit="USD_M"} 3012.55243') in text
    assert ('tradewatch_alerts{alertname="decline",alertstate="firing",series="rus-chn/import/total",'
            'severity="warning"} 1.0') in text
    assert 'tradewatch_source_up{source="rosstat"} 1.0' in text
    assert 'tradewatch_source_up{source="broken"} 0.0' in text
    assert 'tradewatch_source_errors_total{reason="not_found",source="broken"} 1.0' in text
    assert 'tradewatch_source_poll_duration_seconds_count{source="rosstat"} 1.0' in text
    assert 'tradewatch_cycle_duration_seconds_count{source="rosstat"} 1.0' in text
    assert 'tradewatch_cycle_duration_seconds_count{source="broken"}' not in text
    stage_count = "tradewatch_cycle_stage_duration_seconds_count"
    for stage in ("fetch", "ingest", "evaluate", "alerts", "notify"):
        assert f'{stage_count}{{source="rosstat",stage="{stage}"}} 1.0' in text
    assert f'{stage_count}{{source="broken"' not in text
    assert 'tradewatch_rule_evaluation_duration_seconds_count{rule="decline"} 1.0' in text

    def value(sample: str) -> float:
        return float(text.split(sample + " ")[1].split()[0])

    rule_seconds = value('tradewatch_rule_evaluation_duration_seconds_sum{rule="decline"}')
    evaluate_seconds = value('tradewatch_cycle_stage_duration_seconds_sum{source="rosstat",stage="evaluate"}')
    assert 0 < rule_seconds <= evaluate_seconds
    assert 'tradewatch_notifications_total{outcome="sent",receiver="console",rule="decline"} 2.0' in text
    assert "tradewatch_outbox_pending 0.0" in text
    assert 'tradewatch_build_info{python="' in text
    assert "process_cpu_seconds_total" in text
    assert 'tradewatch_source_last_success_timestamp_seconds{source="rosstat"}' in text
    assert 'tradewatch_source_last_success_timestamp_seconds{source="broken"}' not in text


def test_metrics_carry_yoy_and_the_age_of_the_newest_period(config_path: Path) -> None:
    from datetime import UTC, datetime

    from prometheus_client.parser import text_string_to_metric_families

    clock = datetime(2015, 5, 1, tzinfo=UTC)
    app = App(load_config(config_path), clock=lambda: clock)
    app.run_once()
    text = generate_latest(app.registry).decode()
    app.store.close()
    samples = {(s.name, s.labels.get("series")): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    imports = "rus-chn/import/total"
    # 2015-03 imports 3012.55243 against 2014-03 3842.39159 (Rosstat, million USD).
    assert samples[("tradewatch_series_yoy_percent", imports)] == pytest.approx(
        100 * (3012.55243 / 3842.39159 - 1))
    # From the end of March 2015 to 1 May 2015: all of April, 30 days.
    assert samples[("tradewatch_series_period_age_seconds", imports)] == pytest.approx(30 * 86400, abs=1)
    assert samples[("tradewatch_series_period_timestamp_seconds", imports)] == datetime(
        2015, 3, 1, tzinfo=UTC).timestamp()
    assert samples[("tradewatch_series_vintage_timestamp_seconds", imports)] == clock.timestamp()


@pytest.mark.parametrize(
    ("extra", "exported", "dropped"),
    [
        ("", ["rus-chn/export/total", "rus-chn/import/total"], 0),
        ("metrics: {series_limit: 1}\n", ["rus-chn/export/total"], 1),
    ],
)
def test_series_metrics_are_capped(
    write_config: Callable[[str], Path], russia_china_csv: Path, extra: str, exported: list[str],
    dropped: int,
) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    app = App(load_config(write_config(CONFIG + extra)))
    app.run_once()
    text = generate_latest(app.registry).decode()
    app.store.close()
    shown = sorted(line.split('series="')[1].split('"')[0] for line in text.splitlines()
                   if line.startswith("tradewatch_series_value{"))
    assert shown == exported
    assert f"tradewatch_series_export_dropped {float(dropped)}" in text
    assert "tradewatch_series_watched 2.0" in text


def test_series_metrics_need_a_rule_that_opts_in(
    write_config: Callable[[str], Path], russia_china_csv: Path
) -> None:
    app = App(load_config(write_config(CONFIG.replace("    export_metrics: true\n", ""))))
    app.run_once()
    text = generate_latest(app.registry).decode()
    app.store.close()
    assert "tradewatch_series_value{" not in text
    assert "tradewatch_series_exported 0.0" in text and "tradewatch_series_watched 2.0" in text


def test_a_parameterised_transform_reaches_the_detector_and_the_sentence(
    write_config: Callable[[str], Path], russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    config = CONFIG.replace("transform: {kind: yoy_pct}", "transform: {kind: rolling_mean, window: 3}")
    config = config.replace("{kind: consecutive, direction: below, threshold: -5, count: 5}",
                            "{kind: threshold, direction: below, threshold: 3000}")
    app = App(load_config(write_config(config)))
    app.run_once()
    app.store.close()
    # 2015-01..03 (million USD): imports 2382.2, 3087.4, 3012.6 -> 2827.4; exports 2257.5.
    assert capsys.readouterr().out.splitlines() == [
        "Russia's exports to China: US$ 2.3 bn (3-month average) in March 2015, below US$ 3.0 bn "
        "(3-month average) · warning · Russia's exports to China stood at 2,257.5 (3-month average) "
        "in March 2015, below the 3,000 threshold.",
        "Russia's imports from China: US$ 2.8 bn (3-month average) in March 2015, below US$ 3.0 bn "
        "(3-month average) · warning · Russia's imports from China stood at 2,827.4 (3-month average) "
        "in March 2015, below the 3,000 threshold.",
    ]


def test_share_of_a_parent_series_loads_the_parent(
    write_config: Callable[[str], Path], russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    config = CONFIG.replace(
        "      ru_imports_from_cn_musd: {flow: import}\n",
        "      ru_imports_from_cn_musd: {flow: import}\n      turnover_musd: {flow: total}\n")
    config = config.replace("rules:\n  - name: decline\n",
                            "rules:\n  - name: decline\n    select: {flow: import}\n")
    config = config.replace("transform: {kind: yoy_pct}",
                            "transform: {kind: share, parent: rus-chn/total/total}")
    config = config.replace("{kind: consecutive, direction: below, threshold: -5, count: 5}",
                            "{kind: threshold, direction: above, threshold: 50}")
    app = App(load_config(write_config(config)))
    app.run_once()
    app.store.close()
    # 2015-03: imports 3012.55243 of turnover 5421.95384 = 55.6%.
    assert capsys.readouterr().out.splitlines() == [
        "Russia's imports from China: 55.6% of the total in March 2015, above 50% of the total · warning · "
        "Russia's imports from China stood at 55.6% of the total in March 2015, above the 50% threshold."]


def test_run_once_fetches_the_next_source_while_processing_this_one(config_path: Path) -> None:
    """Sources are processed in config order; the next one is read on another thread during
    the processing of the one before, and a failed fetch still reports in its place, with the
    time it took, not the time it waited."""
    import threading
    import time

    app = App(load_config(config_path))
    events: list[tuple[str, str, str]] = []
    for name, source in app.runtime.sources.items():
        fetch = source.fetch

        def timed(now: object = None, _fetch: Callable[..., object] = fetch, _name: str = name) -> object:
            events.append(("fetch start", _name, threading.current_thread().name))
            return _fetch(now=now)

        source.fetch = timed  # type: ignore[method-assign]
    process = app.engine._process

    def slow_process(*args: object) -> object:
        events.append(("process start", str(args[1]), threading.current_thread().name))
        time.sleep(0.5)  # the next fetch has time to start, and to finish
        events.append(("process end", str(args[1]), threading.current_thread().name))
        return process(*args)  # type: ignore[arg-type]

    app.engine._process = slow_process  # type: ignore[method-assign]
    results = app.run_once()
    assert [(r.source, r.ok) for r in results] == [("rosstat", True), ("broken", False)]
    order = [(what, name) for what, name, _ in events]
    assert order[0] == ("fetch start", "rosstat") and order[-1] == ("process end", "rosstat")
    assert set(order[1:3]) == {("process start", "rosstat"), ("fetch start", "broken")}  # together
    fetch_threads = {thread for what, _, thread in events if what == "fetch start"}
    assert threading.current_thread().name not in fetch_threads
    assert results[1].duration_seconds < 0.5  # the wait of a fetch done ahead is not its poll's time



def _two_sources(copy_labels: str) -> str:
    return CONFIG.replace("""  - name: broken
    kind: file
    path: missing.csv
    value_column: value
""", f"""  - name: second
    kind: file
    path: second.csv
    labels: {{{copy_labels}}}
    columns:
      ru_exports_to_cn_musd: {{flow: export}}
      ru_imports_from_cn_musd: {{flow: import}}
""")


def _book_and_outbox(app: App) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, int, str]]]:
    alerts = [(a.rule, a.series, a.status.value, a.summary) for a in app.book.alerts()]
    outbox = [(e.fingerprint, e.episode, e.status) for e in app.store.pending_outbox()]
    return alerts, outbox


def _pipelined_and_sequential(path: Path, tmp_path: Path, store_url: Callable[..., str]
                              ) -> tuple[App, list[tuple[str, str, str]], App]:
    """The config's sources through run_once, the book slowed and every step recorded; and
    the same files one source after the other in a separate store."""
    import threading
    import time

    sequential_dir = tmp_path / "sequential"
    shutil.copytree(path.parent, sequential_dir, ignore=shutil.ignore_patterns("state"))
    copied = sequential_dir / path.name
    copied.write_text(copied.read_text().replace(store_url(), store_url("sequential")))
    sequential = App(load_config(sequential_dir / path.name))
    for name in sequential.runtime.sources:
        sequential.run_source(name)

    app = App(load_config(path))
    events: list[tuple[str, str, str]] = []
    evaluate, apply = app.engine._evaluate, app.book.apply

    def recorded_evaluate(*args: object, **kwargs: object) -> object:
        events.append(("evaluate", str(len([e for e in events if e[0] == "evaluate"])),
                       threading.current_thread().name))
        return evaluate(*args, **kwargs)  # type: ignore[arg-type]

    def slow_apply(evaluations: list, now: object) -> object:  # type: ignore[type-arg]
        events.append(("book start", str(len(evaluations)), threading.current_thread().name))
        time.sleep(0.5)  # the next source has time to be evaluated meanwhile
        events.append(("book end", str(len(evaluations)), threading.current_thread().name))
        return apply(evaluations, now)  # type: ignore[arg-type]

    app.engine._evaluate = recorded_evaluate  # type: ignore[method-assign]
    app.book.apply = slow_apply  # type: ignore[method-assign]
    return app, events, sequential


def test_run_once_updates_the_alerts_of_a_source_while_the_next_is_evaluated(
    write_config: Callable[[str], Path], russia_china_csv: Path, tmp_path: Path,
    store_url: Callable[..., str],
) -> None:
    """The alert book takes each source's evaluations on its own thread, in config order,
    while the next source is ingested and evaluated; the outcome is that of one source after
    the other."""
    import threading

    truncate_csv(russia_china_csv, "2015-03")
    shutil.copy(russia_china_csv, russia_china_csv.parent / "second.csv")
    path = write_config(_two_sources("reporter: KAZ, partner: CHN, commodity: TOTAL, unit: USD_M"))
    app, events, sequential = _pipelined_and_sequential(path, tmp_path, store_url)
    results = app.run_once()

    assert [(r.source, r.ok, r.transitions) for r in results] == [("rosstat", True, 2), ("second", True, 2)]
    order = [what for what, _, _ in events]
    assert order == ["evaluate", "book start", "evaluate", "book end", "book start", "book end"]
    book_threads = {thread for what, _, thread in events if what.startswith("book")}
    assert book_threads and threading.current_thread().name not in book_threads
    assert results[0].duration_seconds < 1.5 and results[0].stages["alerts"] >= 0.5
    assert _book_and_outbox(app) == _book_and_outbox(sequential)
    assert len(app.book.alerts()) == 4


def test_run_once_finishes_the_alerts_of_a_source_before_the_next_evaluates_the_same_series(
    write_config: Callable[[str], Path], russia_china_csv: Path, tmp_path: Path,
    store_url: Callable[..., str],
) -> None:
    """Two sources publishing the same series: the second (a month newer, the decline over)
    is evaluated against the alerts the first has raised, and resolves them, as one source
    after the other would."""
    truncate_csv(russia_china_csv, "2015-03")
    second = russia_china_csv.parent / "second.csv"
    second.write_text(russia_china_csv.read_text() + "2015-04,9000.0,9000.0,18000.0\n")
    path = write_config(_two_sources("reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M"))
    app, events, sequential = _pipelined_and_sequential(path, tmp_path, store_url)
    results = app.run_once()

    assert [(r.source, r.ok, r.transitions) for r in results] == [("rosstat", True, 2), ("second", True, 2)]
    assert [what for what, _, _ in events] == [
        "evaluate", "book start", "book end", "evaluate", "book start", "book end"]
    assert _book_and_outbox(app) == _book_and_outbox(sequential)
    assert [a.status.value for a in app.book.alerts()] == ["resolved", "resolved"]


@pytest.mark.parametrize(("second_reporter", "waits"), [("KAZ", False), ("RUS", True)])
def test_concurrent_polls_wait_for_each_others_alerts_only_on_shared_series(
    write_config: Callable[[str], Path], russia_china_csv: Path, tmp_path: Path, second_reporter: str,
    waits: bool, store_url: Callable[..., str],
) -> None:
    """Two scheduler jobs at once: the second source is ingested and evaluated while the first
    updates its alerts, unless it publishes the same series (then it waits for those alerts,
    and resolves them as one poll after the other would)."""
    import threading

    truncate_csv(russia_china_csv, "2015-03")
    second = russia_china_csv.parent / "second.csv"
    second.write_text(russia_china_csv.read_text() + "2015-04,9000.0,9000.0,18000.0\n")
    path = write_config(_two_sources(f"reporter: {second_reporter}, partner: CHN, commodity: TOTAL, "
                                     "unit: USD_M"))
    app, events, sequential = _pipelined_and_sequential(path, tmp_path, store_url)
    first = threading.Thread(target=app.run_source, args=("rosstat",), name="job-rosstat")
    first.start()
    while not any(what == "book start" for what, _, _ in events):
        threading.Event().wait(0.01)
    result = app.run_source("second")
    first.join(10)

    order = [what for what, _, _ in events]
    if waits:  # the new month ends the decline of both series: their alerts resolve
        assert result.ok and result.transitions == 2
        assert order == ["evaluate", "book start", "book end", "evaluate", "book start", "book end"]
    else:  # series of their own, no decline: nothing for the book
        assert result.ok and result.transitions == 0
        assert order == ["evaluate", "book start", "evaluate", "book end"]
        assert result.duration_seconds < 0.4  # it did not wait for the first poll's alerts
    assert _book_and_outbox(app) == _book_and_outbox(sequential)


def test_a_fetch_prepares_its_frame_for_ingest_and_a_failed_one_has_nothing(config_path: Path) -> None:
    app = App(load_config(config_path))
    good = app.engine.fetch(app.runtime, "rosstat", app._clock)
    assert good.prepared is not None and len(good.prepared.ids) == 2
    assert good.result is not None and len(good.prepared.values) == len(good.result.frame)
    broken = app.engine.fetch(app.runtime, "broken", app._clock)
    assert broken.error is not None and broken.prepared is None


def test_evaluations_of_a_rule_removed_before_they_reach_the_book_are_dropped(config_path: Path) -> None:
    """A reload that removes a rule between evaluation and the alert book: the rule's alerts
    are not brought back by evaluations made under the old config; once a config has the
    rule again, its evaluations count."""
    app = App(load_config(config_path))
    engine, runtime, clock = app.engine, app.runtime, app._clock
    detected = engine.detect(runtime, engine.fetch(runtime, "rosstat", clock), clock)
    assert sum(len(evaluations) for evaluations, _ in detected.steps) == 2
    engine.retire_rules(["decline"], runtime, clock)
    result = engine.conclude(runtime, detected, clock)
    assert result.ok and result.transitions == 0 and app.book.alerts() == []

    truncate_csv(config_path.parent / "russia_china.csv", "2015-04", source=DEMO_CSV)
    again = engine.detect(runtime, engine.fetch(runtime, "rosstat", clock), clock)  # the rule is configured
    assert engine.conclude(runtime, again, clock).transitions == 2
    assert {a.rule for a in app.book.alerts()} == {"decline"}
