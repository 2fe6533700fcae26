"""The frame every page shares (head, navigation, skip link, the API token box) and the small
HTML helpers the pages build on. Everything is escaped here, once, so a label value or a
sentence can never become markup."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from urllib.parse import quote, urlencode

NAV = (("/ui/", "Alerts"), ("/ui/silences", "Silences"), ("/ui/series", "Series"), ("/ui/tune", "Tune"))


def e(text: object) -> str:
    """Escaped text for an element or an attribute value in double quotes."""
    return escape(str(text), quote=True)


def series_href(series_id: str) -> str:
    return "/ui/series/" + quote(series_id, safe="/")


def href(path: str, **query: str) -> str:
    shown = {k: v for k, v in query.items() if v}
    return path + ("?" + urlencode(shown) if shown else "")


def labels_html(labels: Mapping[str, str]) -> str:
    return "".join(f'<span class="label">{e(k)}="{e(v)}"</span> ' for k, v in sorted(labels.items()))


def table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]], *, raw: bool = False,
          hidden_caption: bool = False) -> str:
    """A table whose accessible name is `caption`, in a scroll box at narrow widths. Cells are
    escaped unless `raw` (they are then markup built by the caller from escaped parts)."""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else e(c)}</td>" for c in row) + "</tr>" for row in rows)
    cls = ' class="visually-hidden"' if hidden_caption else ""
    return (f'<div class="scroll" role="region" aria-label="{e(caption)}" tabindex="0">'
            f"<table><caption{cls}>{e(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def message(text: str, kind: str = "error") -> str:
    """A message a screen reader announces: errors as alerts, the rest as status."""
    role = "alert" if kind == "error" else "status"
    return f'<p class="msg {kind}" role="{role}">{e(text)}</p>'


def layout(title: str, current: str, body: str) -> str:
    here = ' aria-current="page"'
    links = "".join(f'<li><a href="{path}"{here if path == current else ""}>{name}</a></li>'
                    for path, name in NAV)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · tradewatch</title>"
        '<link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/ui/static/ui.css">'
        '<script src="/ui/static/ui.js" defer></script></head><body>'
        '<a class="skip" href="#main">Skip to content</a>'
        f'<header><span class="brand">tradewatch</span><nav aria-label="Main"><ul>{links}</ul></nav>'
        '<details class="token"><summary>API token</summary>'
        '<label for="api-token">Token for changes (TRADEWATCH_API_TOKEN)</label>'
        '<input id="api-token" type="password" autocomplete="off">'
        '<p class="hint">Kept in this tab only; sent as a bearer token with changes.</p>'
        "</details></header>"
        f'<main id="main" tabindex="-1"><h1>{e(title)}</h1>{body}</main></body></html>\n')
