"""The alerts page: the alert book's alerts grouped as the routing tree groups them (one group
per route node and `group_by` labels, an alert reaching two nodes shown in both, as in
Alertmanager's own page), filtered by matchers, with status, silenced, inhibited and folded marks,
the finding's sentence and a link to the series; a page of rows at a time (`paging.Pager`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.alerts.lifecycle import Alert, Status
from monitor.config import Route
from monitor.matchers import MatcherError, matches_all, parse_matchers
from monitor.notify.inhibit import Decision
from monitor.notify.marks import Marks
from monitor.notify.routing import route
from monitor.ui.page import e, href, labels_html, message, series_href
from monitor.ui.paging import Pager

STATUS_CHOICES: Mapping[str, tuple[Status, ...]] = {
    "active": (Status.PENDING, Status.FIRING), "firing": (Status.FIRING,),
    "pending": (Status.PENDING,), "resolved": (Status.RESOLVED,),
    "all": (Status.PENDING, Status.FIRING, Status.RESOLVED)}
DEFAULT_LIMIT = 500
HEADERS = ("status", "rule", "series", "what happened", "since", "period")


@dataclass(slots=True)
class Group:
    node: str
    receiver: str
    labels: Mapping[str, str]
    alerts: list[tuple[Alert, Decision]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AlertsQuery:
    filter: str = ""
    status: str = "active"
    paging: Mapping[str, str] = field(default_factory=dict)  # page, per (or limit): see Pager.of

    @classmethod
    def of(cls, query: Mapping[str, str]) -> AlertsQuery:
        status = query.get("status", "active")
        paging = {k: query[k] for k in ("page", "per", "limit") if k in query}
        return cls(query.get("filter", "").strip(), status if status in STATUS_CHOICES else "active", paging)

    def link(self, paging: Mapping[str, str]) -> str:
        status = self.status if self.status != "active" else ""
        return href("/ui/", filter=self.filter, status=status, **paging)


def group_alerts(alerts: Sequence[Alert], tree: Route, marks: Marks) -> list[Group]:
    """Groups in routing order of their first alert; alerts in the book's order."""
    groups: dict[tuple[str, tuple[str, ...]], Group] = {}
    for alert in alerts:
        mark = marks.mark(alert)
        for destination in route(tree, alert.labels):
            key = (destination.node, destination.group_key(alert.labels))
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(destination.node, destination.receiver,
                                            destination.group_labels(alert.labels))
            group.alerts.append((alert, mark))
    return list(groups.values())


def select(alerts: Sequence[Alert], query: AlertsQuery) -> list[Alert]:
    """The alerts of the query's status that match its filter; MatcherError for a bad one."""
    matchers = parse_matchers(query.filter)
    statuses = STATUS_CHOICES[query.status]
    return [a for a in alerts if a.status in statuses and matches_all(matchers, a.labels)]


def _row(alert: Alert, mark: Decision) -> tuple[str, ...]:
    badges = f'<span class="badge {alert.status.value}">{alert.status.value}</span>'
    if mark is not Decision.SEND:
        badges += f' <span class="badge {mark.value}">{mark.value}</span>'
    silence = href("/ui/silences", matchers=f'series="{alert.series}", alertname="{alert.rule}"')
    series = (f'<a href="{e(series_href(alert.series))}">{e(alert.series)}</a>'
              f'<br><a class="small" href="{e(silence)}">silence…</a>')
    return (badges, e(alert.rule), series, e(alert.summary), e(alert.since_period), e(alert.period))


def _form(query: AlertsQuery) -> str:
    options = "".join(f'<option value="{s}"{" selected" if s == query.status else ""}>{s}</option>'
                      for s in STATUS_CHOICES)
    return ('<form class="filters" method="get" action="/ui/" role="search">'
            '<label for="filter">Filter (matchers)</label>'
            f'<input id="filter" name="filter" value="{e(query.filter)}" '
            'placeholder=\'partner="CHN", severity=~"crit.*"\' aria-describedby="filter-help">'
            '<label for="status">Status</label>'
            f'<select id="status" name="status">{options}</select>'
            '<button type="submit">Apply</button>'
            '<p id="filter-help" class="hint">Alertmanager matchers, as in silences: name=value, '
            'name!=value, name=~regex, name!~regex, separated by commas.</p></form>')


def render_alerts(alerts: Sequence[Alert], tree: Route, marks: Marks, query: AlertsQuery) -> str:
    """The page body; a bad filter is one clear message and no table."""
    try:
        chosen = select(alerts, query)
    except MatcherError as exc:
        return _form(query) + message(f"Invalid filter: {exc}")
    groups = group_alerts(chosen, tree, marks)
    parts = [_form(query)]
    total_rows = sum(len(g.alerts) for g in groups)
    pager = Pager.of(query.paging, total_rows, DEFAULT_LIMIT)
    counts = {m: sum(1 for g in groups for _, k in g.alerts if k is m)
              for m in (Decision.SILENCED, Decision.INHIBITED, Decision.FOLDED)}
    parts.append(f'<p class="summary" role="status">{len(chosen)} alert{"s" * (len(chosen) != 1)} in '
                 f'{len(groups)} group{"s" * (len(groups) != 1)}; {counts[Decision.SILENCED]} silenced, '
                 f'{counts[Decision.INHIBITED]} inhibited, {counts[Decision.FOLDED]} folded into their '
                 'parent\'s message.</p>')
    if not groups:
        parts.append('<p>No alerts match.</p>')
    nav = pager.nav(query.link, "Pages of alerts")
    if pager.pages > 1:
        every = query.link({"per": "0"})
        parts.append(f'<p class="small">{e(pager.status("rows"))} '
                     f'<a href="{e(every)}">All {total_rows:,} on one page</a>.</p>{nav}')
    before = 0  # rows of the groups before this one
    for n, group in enumerate(groups):
        first, before = before, before + len(group.alerts)
        lo, hi = max(pager.start - first, 0), min(pager.stop - first, len(group.alerts))
        if hi <= 0 or lo >= len(group.alerts):
            continue  # the group is on another page
        rows = group.alerts[lo:hi]
        named = ", ".join(f"{k}={v}" for k, v in group.labels.items()) or "(no group labels)"
        title = f"{group.receiver} · {named}"
        parts.append(f'<section class="group" aria-labelledby="g{n}"><h2 id="g{n}">{e(title)} '
                     f'<span class="count">({len(group.alerts)})</span></h2>'
                     f'<p class="small">route node {e(group.node)} {labels_html(group.labels)}</p>')
        if rows:
            body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in _row(a, m)) + "</tr>" for a, m in rows)
            head = "".join(f'<th scope="col">{h}</th>' for h in HEADERS)
            parts.append(f'<div class="scroll" role="region" aria-label="Alerts of {e(title)}" tabindex="0">'
                         f'<table><caption class="visually-hidden">Alerts of {e(title)}</caption>'
                         f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
        if len(rows) < len(group.alerts):
            parts.append(f'<p class="small">This group\'s rows {lo + 1:,}–{hi:,} of {len(group.alerts):,}; '
                         "the rest are on the pages before or after.</p>")
        parts.append("</section>")
    parts.append(nav)
    return "".join(parts)
