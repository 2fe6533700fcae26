"""The series pages: a search over the stored series by label matchers, and one series' page
with its history chart (the level and what each rule selecting it compares), revised periods
marked, every alert episode the store recorded shaded (`monitor.alerts.episodes`) and the
rules' thresholds drawn."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import pandas as pd

from detectors import apply_transform
from monitor.alerts.episodes import Episode, episode_history
from monitor.alerts.lifecycle import Alert
from monitor.config import Rule
from monitor.matchers import MatcherError, matches_all, parse_matchers
from monitor.store import SeriesInfo, Store
from monitor.ui.page import e, href, labels_html, message, series_href, table
from monitor.ui.paging import Pager
from monitor.ui.svg import Panel, chart

SEARCH_LIMIT = 200
THRESHOLD_PARAMS = ("threshold", "lower", "upper")


def search(infos: Mapping[str, SeriesInfo], text: str) -> list[SeriesInfo]:
    """Series whose labels (and `series`, their id) match every matcher; MatcherError."""
    matchers = parse_matchers(text)
    found = []
    for sid in sorted(infos):
        info = infos[sid]
        if not matchers or matches_all(matchers, {**info.labels, "series": sid}):
            found.append(info)
    return found


def render_search(store: Store, text: str, paging: Mapping[str, str] | None = None) -> str:
    """The search form and one page of the series found (`page`, `per`: see Pager.of)."""
    form = ('<form class="filters" method="get" action="/ui/series" role="search">'
            '<label for="q">Labels (matchers)</label>'
            f'<input id="q" name="q" value="{e(text)}" placeholder=\'partner="CHN", flow="import"\' '
            'aria-describedby="q-help"><button type="submit">Search</button>'
            '<p id="q-help" class="hint">Matchers on the series\' labels; <code>series=~"rus-.*"</code> '
            'matches ids.</p></form>')
    try:
        found = search(store.series(), text)
    except MatcherError as exc:
        return form + message(f"Invalid matcher: {exc}")
    pager = Pager.of(paging or {}, len(found), SEARCH_LIMIT)
    shown = found[pager.start:pager.stop]
    latest = store.latest_snapshot([i.id for i in shown]) if shown else pd.DataFrame()
    newest = {str(r.series): (str(r.period), float(r.value)) for r in latest.itertuples(index=False)}
    rows = []
    for info in shown:
        period, value = newest.get(info.id, ("-", math.nan))
        rows.append((f'<a href="{e(series_href(info.id))}">{e(info.id)}</a>', e(info.frequency),
                     labels_html(info.labels), e(period), e(_value(value))))
    note = f'<p class="summary" role="status">{len(found):,} series match.</p>'
    nav = pager.nav(lambda more: href("/ui/series", q=text, **more), "Pages of series")
    if pager.pages > 1:
        note += f'<p class="small">{e(pager.status("series"))}</p>{nav}'
    return form + note + (table("Series", ("series", "frequency", "labels", "newest period", "value"), rows,
                                raw=True) if rows else "") + nav


def _value(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}"


def _spans(episodes: Sequence[Episode], index: pd.PeriodIndex) -> list[tuple[int, int]]:
    """Chart positions of each episode: from its start to the period before it resolved (or
    the last it fired at)."""
    spans = []
    for episode in episodes:
        try:
            first = index.get_loc(pd.Period(episode.since, freq=index.freq))
            last = index.get_loc(pd.Period(episode.until, freq=index.freq))
        except (KeyError, ValueError):
            continue
        if isinstance(first, int) and isinstance(last, int):
            spans.append((first, max(first, last - 1) if episode.resolved else last))
    return spans


def render_series(store: Store, series_id: str, rules: Sequence[Rule], alerts: Sequence[Alert]) -> str | None:
    """The page body, or None for an unknown series."""
    info = store.series([series_id]).get(series_id)
    if info is None:
        return None
    history = store.series_history(series_id)
    index = history.index
    periods = [str(p) for p in index]
    versions = store.vintages(series_id)
    counts = versions.groupby("period").size() if len(versions) else pd.Series(dtype=int)
    revised = {str(p): int(n) - 1 for p, n in counts.items() if n > 1}
    marked = [i for i, p in enumerate(periods) if p in revised]
    mine = [a for a in alerts if a.series == series_id]
    parts = [f"<p>{labels_html(info.labels)}</p>",
             f"<p>{len(periods)} periods ({e(periods[0]) if periods else '-'} to "
             f"{e(periods[-1]) if periods else '-'}), frequency {e(info.frequency)}; "
             f"{len(revised)} period{'s' * (len(revised) != 1)} revised (marked ○ on the chart).</p>"]
    selecting = [r for r in rules if r.matches(info.labels)]
    episodes = episode_history(store, [r.name for r in selecting], series_id, mine)
    frame = history.to_frame(series_id)
    choices: list[Rule | None] = [*selecting] or [None]
    for rule in choices:
        panels = [Panel("level", history.to_numpy(dtype=float).tolist())]
        spans: list[tuple[int, int]] = []
        title = f"{series_id}: history"
        if rule is not None:
            title = f"{series_id}: {rule.name}"
            spans = _spans([ep for ep in episodes if ep.rule == rule.name], index)
            if rule.transform.kind not in ("level", "share") and len(frame):
                values = apply_transform(rule.transform.kind, frame, **rule.transform.params())[series_id]
                thresholds = [(k, float(rule.detector[k])) for k in THRESHOLD_PARAMS
                              if isinstance(rule.detector.get(k), int | float)]
                panels.append(Panel(f"{rule.transform.kind} ({rule.name})",
                                    values.to_numpy(dtype=float).tolist(), thresholds))
            elif rule.transform.kind == "level":
                panels[0] = Panel("level", panels[0].values,
                                  [(k, float(rule.detector[k])) for k in THRESHOLD_PARAMS
                                   if isinstance(rule.detector.get(k), int | float)])
        description = (f"{len(periods)} periods; {len(spans)} alert episode(s) shaded, every one the "
                       "store recorded; "
                       f"{len(marked)} revised period(s) marked")
        heading = f"Rule {rule.name}" if rule is not None else "History"
        parts.append(f"<section><h2>{e(heading)}</h2>"
                     + chart(title, periods, panels, spans, marked, description) + "</section>")
    parts.append(_alerts_table(mine))
    parts.append(_episodes_table(episodes))
    if revised:
        rows = [(p, str(n)) for p, n in sorted(revised.items())]
        parts.append(table("Revisions", ("period", "revisions"), rows))
    silence = href("/ui/silences", matchers=f'series="{series_id}"')
    parts.append(f'<p><a href="{e(silence)}">Silence this series…</a> · '
                 f'<a href="/api/v1/series/{e(quote(series_id, safe=""))}">JSON</a></p>')
    return "".join(parts)


def _alerts_table(alerts: Sequence[Alert]) -> str:
    if not alerts:
        return "<p>No alerts on this series.</p>"
    rows = [(f'<span class="badge {a.status.value}">{a.status.value}</span>', e(a.rule), e(a.since_period),
             e(a.period), e(a.summary)) for a in alerts]
    headers = ("status", "rule", "since", "period", "what happened")
    return table("Alerts on this series", headers, rows, raw=True)


def _episodes_table(episodes: Sequence[Episode]) -> str:
    if not episodes:
        return ""
    rows = [(ep.rule, str(ep.episode), ep.since, ep.fired or "-",
             ep.until if ep.resolved else "-", "firing" if not ep.resolved and ep.current else
             "resolved" if ep.resolved else "fired") for ep in episodes]
    headers = ("rule", "episode", "since", "fired at", "resolved at", "state")
    return ('<p class="hint">Every episode the store recorded (its firing and resolved notifications), '
            "oldest first; the chart shades each.</p>" + table("Alert episodes", headers, rows))
