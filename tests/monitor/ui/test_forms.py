"""Silences without script: the forms post themselves with the API token typed into their own
field, behind the listener's basic auth, in plain HTTP and in chromium with JavaScript off.
The token is checked as the API checks its bearer token, never shown back, never logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.app import App
from monitor.config import load_config
from monitor.store.silences import SilenceStore
from tests.conftest import truncate_csv
from tests.monitor.ui.conftest import CONFIG, TOKEN, Daemon
from tests.tls import write_web_config

USER, PASSWORD = "ops", "basic-pass-4242"
FORM = {"matchers": 'series="rus-chn/import/total"', "duration": "2h", "author": "ops", "comment": "known",
        "via": "form"}


@pytest.fixture
def guarded(write_config: Callable[[str], Path], russia_china_csv: Path, tmp_path: Path) -> Iterator[Daemon]:
    """The UI daemon behind basic auth (a web config file with one user)."""
    truncate_csv(russia_china_csv, "2015-03")
    write_web_config(tmp_path / "web.yml", None, {USER: PASSWORD})
    path = write_config(CONFIG.replace('http: {listen: "127.0.0.1:0"}',
                                       'http: {listen: "127.0.0.1:0", web_config_file: web.yml}'))
    app = App(load_config(path), api_token=TOKEN)
    url = app.start().removesuffix("/metrics")
    deadline = time.monotonic() + 60  # a hang bound, not a speed claim
    while httpx.get(f"{url}/-/ready", auth=(USER, PASSWORD)).status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.1)
    yield Daemon(url, path, app)
    app.stop()


def test_a_form_post_creates_and_expires_with_the_token_field_behind_basic_auth(
        guarded: Daemon, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    silences = SilenceStore(guarded.app.store)
    with httpx.Client(base_url=guarded.url, auth=(USER, PASSWORD), timeout=60) as client:
        assert client.post("/ui/silences", data=FORM, auth=None).status_code == 401  # basic auth first
        for typed in ({}, {"token": "typed-guess-77"}, {"token": f"Bearer {TOKEN}"}, {"token": TOKEN[:-1]}):
            refused = client.post("/ui/silences", data={**FORM, **typed})
            assert refused.status_code == 401 and "text/html" in refused.headers["content-type"]
            assert "Refused (401): missing or wrong bearer token" in refused.text
            assert 'value="ops"' in refused.text and ">known</textarea>" in refused.text  # input kept
            assert "typed-guess-77" not in refused.text and TOKEN[:-1] not in refused.text  # never shown back
        assert silences.all() == []
        made = client.post("/ui/silences", data={**FORM, "token": TOKEN})
        assert made.status_code == 303
        [silence] = silences.all()
        assert made.headers["location"] == f"/ui/silences?created={silence.id}"
        page = client.get(made.headers["location"]).text
        assert f"Silence {silence.id} created." in page and 'id="expire-token"' in page
        bad = client.post("/ui/silences", data={**FORM, "duration": "soon", "token": TOKEN})
        assert bad.status_code == 400 and "Invalid duration &#x27;soon&#x27;" in bad.text
        address = f"/ui/silences/{silence.id}/expire"
        assert client.post(address, data={"via": "form", "token": "nope"}).status_code == 401
        assert silences.all()[0].state(datetime.now(UTC)) == "active"
        gone = client.post(address, data={"via": "form", "token": TOKEN})
        assert gone.status_code == 303 and gone.headers["location"] == f"/ui/silences?expired={silence.id}"
        assert silences.all()[0].state(datetime.now(UTC)) == "expired"
        again = client.post(address, data={"via": "form", "token": TOKEN})
        assert again.status_code == 400 and "already expired" in again.text
        for response in (made, gone, again, bad):
            assert TOKEN not in response.text
    assert TOKEN not in caplog.text


def test_without_a_configured_token_a_form_post_is_refused(daemon: Daemon) -> None:
    """The JSON answer for the script is unchanged; a form gets the page with a 401."""
    refused = httpx.post(f"{daemon.url}/ui/silences", data={**FORM, "via": ""})
    assert refused.status_code == 401 and refused.json()["error"] == "missing or wrong bearer token"
    made = httpx.post(f"{daemon.url}/ui/silences", data={**FORM, "via": "", "token": TOKEN})
    assert made.status_code == 200 and made.json()["status"] == "success"  # the field serves the API form too


@pytest.mark.slow
def test_in_chromium_without_javascript(guarded: Daemon, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, http_credentials={"username": USER,
                                                                               "password": PASSWORD})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(guarded.url + "/ui/silences")
        page.get_by_label("Matchers").fill('series="rus-chn/import/total"')
        page.get_by_label("Author").fill("ops")
        page.get_by_label("Comment").fill("known break")
        page.get_by_role("button", name="Create silence").click()
        assert "Refused (401)" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("Author").input_value() == "ops"
        page.locator("#silence-token").fill(TOKEN)
        page.get_by_role("button", name="Create silence").click()
        page.get_by_role("status").get_by_text("created").wait_for()
        assert page.get_by_role("table", name="Silences").get_by_text("active", exact=True).is_visible()
        assert TOKEN not in page.content()
        page.locator("#expire-token").fill(TOKEN)
        page.get_by_role("button", name="Expire silence series=rus-chn/import/total").click()
        page.get_by_role("status").get_by_text("expired").wait_for()
        assert page.get_by_role("table", name="Silences").get_by_text("expired", exact=True).is_visible()
        assert TOKEN not in page.content()
        [silence] = SilenceStore(guarded.app.store).all()
        assert silence.state(datetime.now(UTC)) == "expired"
    finally:
        context.close()
