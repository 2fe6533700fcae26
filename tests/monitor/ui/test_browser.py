"""The pages in a real browser (Debian's chromium through Playwright): every page loads
without console errors at desk and phone widths, a silence is created, seen matching and
expired, Tune agrees with `tradewatch backtest --set ... --format json`, and bad input is a
clear message on the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import REPO
from tests.monitor.ui.conftest import TOKEN, Daemon

pytestmark = pytest.mark.slow
WAIT = 60_000  # ms; a hang bound on a loaded machine
PAGES = ("/ui/", "/ui/silences", "/ui/series", "/ui/series/rus-chn/import/total", "/ui/tune?rule=sharp_fall")
THRESHOLD = "rules.sharp_fall.detector.threshold"


@pytest.fixture
def page_at(browser: Any) -> Iterator[Any]:
    contexts = []

    def open_page(width: int = 1280) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT)
        page.errors = []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_loads_without_console_errors(daemon: Daemon, page_at: Any, width: int) -> None:
    page = page_at(width)
    for path in PAGES:
        page.goto(daemon.url + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").is_visible(), path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at {width}px"
    assert page.errors == []
    page.goto(daemon.url + "/ui/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def _silence_form(page: Any, matchers: str) -> None:
    page.get_by_label("Matchers").fill(matchers)
    page.get_by_label("Author").fill("ops")
    page.get_by_label("Comment").fill("known break")


def test_a_silence_is_created_seen_matching_and_expired(daemon: Daemon, page_at: Any) -> None:
    page = page_at()
    page.goto(daemon.url + "/ui/silences")
    _silence_form(page, 'series="rus-chn/import/total"')
    preview = page.get_by_role("region", name="Alerts it would silence")
    preview.get_by_text("1 active alert match.").wait_for()
    assert preview.get_by_role("link", name="rus-chn/import/total").is_visible()
    page.get_by_role("button", name="Create silence").click()  # no token yet
    page.get_by_role("alert").get_by_text("Refused (401)").wait_for()
    page.get_by_text("API token", exact=True).click()
    page.get_by_label("Token for changes").fill(TOKEN)
    page.get_by_role("button", name="Create silence").click()
    page.get_by_role("status").get_by_text("created").wait_for()
    listing = page.get_by_role("table", name="Silences")
    assert listing.get_by_text("active", exact=True).is_visible()

    page.goto(daemon.url + "/ui/")
    row = page.get_by_role("row").filter(has_text="rus-chn/import/total")
    assert row.get_by_text("silenced", exact=True).is_visible()
    other = page.get_by_role("row").filter(has_text="rus-chn/export/total")
    assert other.get_by_text("silenced", exact=True).count() == 0

    page.goto(daemon.url + "/ui/silences")
    page.get_by_role("button", name="Expire silence series=rus-chn/import/total").click()
    page.get_by_role("status").get_by_text("expired").wait_for()
    assert page.get_by_role("table", name="Silences").get_by_text("expired", exact=True).is_visible()
    page.goto(daemon.url + "/ui/")
    assert page.get_by_text("silenced", exact=True).count() == 0
    assert page.errors == [] or all("401" in e for e in page.errors)


def _cli(daemon: Daemon, *sets: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "monitor", "backtest", "--config", str(daemon.config),
            "--rule", "sharp_fall", *[f"--set={s}" for s in sets], "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=True)
    body = json.loads(done.stdout)
    return body[0] if sets else {}


def _summary(page: Any) -> dict[str, str]:
    table = page.get_by_role("table", name="Summary")
    headers = table.locator("th").all_inner_texts()
    cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
    return dict(zip(headers, cells, strict=True))


def _rerun(page: Any, value: str) -> None:
    result = page.locator("#tune-result")
    before = result.get_attribute("data-run") or "0"
    page.get_by_label(THRESHOLD, exact=True).fill(value)
    page.get_by_label(THRESHOLD, exact=True).press("Tab")
    page.locator(f'#tune-result[data-run="{int(before) + 1}"]').wait_for()


def test_tune_agrees_with_the_command_and_refuses_bad_input(daemon: Daemon, page_at: Any) -> None:
    page = page_at()
    page.goto(daemon.url + "/ui/tune?rule=sharp_fall")
    start = _summary(page)
    _rerun(page, "-10")
    shown = _summary(page)
    cli = _cli(daemon, f"{THRESHOLD}=-10")
    assert cli["set"] == {THRESHOLD: -10}
    assert (shown["rule"], int(shown["series"]), int(shown["alerts"]), int(shown["open"])) == (
        cli["rule"], cli["series"], cli["alerts"], cli["open"])
    assert shown["mean duration"] == f"{cli['mean_duration']:.1f}"
    assert shown["alerts/series/yr"] == f"{cli['alerts_per_series_year']:.2f}"
    assert shown["alerts"] != start["alerts"]  # the threshold moved the count
    assert "threshold: -10" in page.get_by_role("region", name="YAML").locator("pre").inner_text()
    assert f"--set '{THRESHOLD}=-10'" in page.locator("#tune-result code").first.inner_text()

    _rerun(page, "abc")
    message = page.get_by_role("alert")
    assert f"{THRESHOLD}=abc gives an invalid config" in message.inner_text()
    assert page.get_by_role("table", name="Summary").count() == 0
    assert daemon.config.read_text().count("threshold: -20") == 1  # the config is never written
    assert page.errors == [] or all("400" in e for e in page.errors)


def test_an_invalid_matcher_is_a_clear_message(daemon: Daemon, page_at: Any) -> None:
    page = page_at()
    page.goto(daemon.url + "/ui/")
    page.get_by_label("Filter (matchers)").fill('partner=~"(("')
    page.get_by_role("button", name="Apply").click()
    assert "Invalid filter: invalid regex in matcher" in page.get_by_role("alert").inner_text()
    page.goto(daemon.url + "/ui/silences")
    page.get_by_label("Matchers").fill("partner")
    assert "Invalid matcher" in page.get_by_role("alert").inner_text()
    page.goto(daemon.url + "/ui/series?q=flow")
    assert "Invalid matcher" in page.get_by_role("alert").inner_text()
    assert page.errors == []
