"""The WSGI app behind /ui/: reads each page's data from the store, the alert book and the
running config, and hands it to the page modules. Reads are open like the JSON API; the
changes (creating and expiring silences) need the API's bearer token, which the HTTP layer
checks and passes in `environ[UI_DENIED]` (a request without that verdict changes nothing)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote

from monitor.alerts.book import AlertBook
from monitor.alerts.lifecycle import Status
from monitor.backtest.history import HistoryError
from monitor.config import LoadedConfig
from monitor.http import UI_CHECK, UI_DENIED, read_body
from monitor.notify.marks import Marks
from monitor.store import Store
from monitor.store.silences import SilenceStore
from monitor.ui import alerts as alerts_page
from monitor.ui import series as series_page
from monitor.ui import silences as silences_page
from monitor.ui import tune_page
from monitor.ui.page import href, layout, message
from monitor.ui.tune import TuneError, Tuner

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
MAX_FORM = 4 << 20  # an events file travels in the form
HEADERS = [("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'"),
           ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
ASSETS = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}
_REASONS = {200: "OK", 302: "Found", 303: "See Other", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 413: "Content Too Large", 500: "Internal Server Error"}
Response = tuple[int, str, bytes]


class _BadForm(ValueError):
    pass


def _html(code: int, text: str) -> Response:
    return code, "text/html; charset=utf-8", text.encode()


def _json(code: int, body: Any) -> Response:
    return code, "application/json", json.dumps(body, ensure_ascii=False).encode()


class Ui:
    """One instance per daemon; `loaded` returns the running config (it changes on reload)."""

    def __init__(self, store: Store, book: AlertBook, loaded: Callable[[], LoadedConfig],
                 clock: Callable[[], datetime]) -> None:
        self._store = store
        self._book = book
        self._loaded = loaded
        self._clock = clock
        self._silences = SilenceStore(store)
        self.tuner = Tuner(loaded)
        self._assets = {name: resources.files("monitor.ui").joinpath("static", name).read_bytes()
                        for name in ASSETS}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        raw_query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        query = {k: v[-1] for k, v in raw_query.items()}
        try:
            code, kind, body = self._route(path, method, query, environ)
        except _BadForm as exc:
            status = 413 if "large" in str(exc) else 400
            code, kind, body = _json(status, {"status": "error", "error": str(exc)})
        except Exception:
            log.exception("ui error path=%s", path)
            failed = message("Internal error; the daemon's log has the details.")
            code, kind, body = _html(500, layout("Error", "", failed))
        headers = [("Content-Type", kind), ("Content-Length", str(len(body))), *HEADERS]
        if code in (302, 303):
            headers.append(("Location", body.decode()))
            body = b""
            headers[1] = ("Content-Length", "0")
        if path.startswith("/ui/static/"):
            headers.append(("Cache-Control", "max-age=300"))
        start_response(f"{code} {_REASONS.get(code, '')}".strip(), headers)
        return [] if method == "HEAD" else [body]

    def _route(self, path: str, method: str, query: dict[str, str], environ: dict[str, Any]) -> Response:
        if path == "/ui":
            return 302, "text/plain", b"/ui/"
        if path.startswith("/ui/static/"):
            name = path.removeprefix("/ui/static/")
            if name not in ASSETS:
                return _html(404, "not found")
            return 200, ASSETS[name], self._assets[name]
        if method == "POST":
            return self._post(path, environ)
        if method not in ("GET", "HEAD"):
            return _json(405, {"status": "error", "error": "method not allowed"})
        if path == "/ui/":
            return _html(200, layout("Alerts", "/ui/", self.alerts(query)))
        if path == "/ui/silences":
            now = self._clock()
            body = silences_page.render_silences(self._silences.all(), self._book.alerts(), now, query)
            return _html(200, layout("Silences", "/ui/silences", body))
        if path == "/ui/silences/preview":
            return _html(200, silences_page.preview(self._book.alerts(), query.get("matchers", "")))
        if path == "/ui/series":
            found = series_page.render_search(self._store, query.get("q", ""), query)
            return _html(200, layout("Series", "/ui/series", found))
        if path.startswith("/ui/series/"):
            series_id = str(unquote(path.removeprefix("/ui/series/")))
            shown = series_page.render_series(self._store, series_id, self._loaded().config.rules,
                                              self._book.alerts())
            if shown is None:
                return _html(404, layout("Unknown series", "/ui/series",
                                         message(f"No series {series_id!r} in the store.")))
            return _html(200, layout(f"Series {series_id}", "/ui/series", shown))
        if path == "/ui/tune":
            return _html(200, layout("Tune", "/ui/tune", self.tune_page(query)))
        if path == "/ui/tune/run":
            return self.tune_run(query)
        return _html(404, layout("Not found", "", message(f"No page {path}; try the links above.")))

    def _post(self, path: str, environ: dict[str, Any]) -> Response:
        form = _form(environ)
        if path == "/ui/tune/run":  # reads only: the backtest writes nothing
            return self.tune_run(form)
        if path == "/ui/silences" or (path.startswith("/ui/silences/") and path.endswith("/expire")):
            denied = environ.get(UI_DENIED, (403, {"status": "error", "error": "changes are disabled"}))
            typed, check = form.pop("token", ""), environ.get(UI_CHECK)
            if denied is not None and typed and check is not None:
                denied = check(typed)  # the form's token field, judged as the bearer header is
            expiry = path != "/ui/silences"
            silence_id = unquote(path.removeprefix("/ui/silences/").removesuffix("/expire"))
            if denied is not None:
                code, answer = denied
            elif not expiry:
                code, answer = silences_page.create(self._silences, form, self._clock())
            else:
                code, answer = silences_page.expire(self._silences, silence_id, self._clock())
            if form.get("via") != silences_page.VIA_FORM:
                return _json(code, answer)
            return self._silences_answer(code, answer, form, expiry, silence_id)
        return _json(405, {"status": "error", "error": "method not allowed"})

    def _silences_answer(self, code: int, answer: dict[str, Any], form: dict[str, str], expiry: bool,
                         silence_id: str) -> Response:
        """A form posted without script: to the page that says it was done (303), or the page
        again with the refusal or the error beside the form, the values typed kept."""
        if code == 200:
            done = ("expired", silence_id) if expiry else ("created", answer["data"]["silenceID"])
            return 303, "text/plain", href("/ui/silences", **dict([done])).encode()
        error = str(answer.get("error", "refused"))
        if code in (401, 403):
            error = f"Refused ({code}): {error}. Enter the API token in the form's API token field."
        now = self._clock()
        body = silences_page.render_silences(self._silences.all(), self._book.alerts(), now, {},
                                             {} if expiry else form, error[:1].upper() + error[1:], expiry)
        return _html(code, layout("Silences", "/ui/silences", body))

    def alerts(self, query: dict[str, str]) -> str:
        loaded = self._loaded()
        now = self._clock()
        every = self._book.alerts()
        firing = [a for a in every if a.status is Status.FIRING]
        marks = Marks.of(loaded.config.notify, self._silences.active(now), firing, now)
        return alerts_page.render_alerts(every, loaded.config.notify.route, marks,
                                         alerts_page.AlertsQuery.of(query))

    def tune_page(self, query: dict[str, str]) -> str:
        loaded = self._loaded()
        request = tune_page.request_of(query, loaded.config.rules)
        result = self._tune_fragment(query)[2].decode()
        return (tune_page.render_form(loaded, request)
                + '<section id="tune-result" aria-live="polite" aria-label="Backtest result">'
                + f"{result}</section>")

    def tune_run(self, form: dict[str, str]) -> Response:
        return self._tune_fragment(form)

    def _tune_fragment(self, form: dict[str, str]) -> Response:
        loaded = self._loaded()
        request = tune_page.request_of(form, loaded.config.rules)
        try:
            result = self.tuner.run(request)
        except TuneError as exc:
            return _html(400, tune_page.render_error(str(exc)))
        except HistoryError as exc:
            return _html(400, tune_page.render_error(f"the data cannot be read: {exc}"))
        return _html(200, tune_page.render_result(result, loaded, request))


def _form(environ: dict[str, Any]) -> dict[str, str]:
    try:
        raw = read_body(environ, MAX_FORM)
    except ValueError as exc:
        raise _BadForm(str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadForm("the form is not UTF-8") from None
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
