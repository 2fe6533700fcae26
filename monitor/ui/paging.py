"""Pages of a long list (the alerts page's rows, the series search's results): which slice a
`page` and `per` query asks for, and the links to the others, each with the rows it holds,
so 20,000 alerts are browsed a page at a time instead of all or only the first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from monitor.ui.page import e

PER_CHOICES = (50, 100, 200, 500, 1000)
AROUND = 2  # page links on each side of the current one


@dataclass(frozen=True, slots=True)
class Pager:
    """Page `page` (from 1) of `total` rows, `per` a page; `per` 0 is every row on one page."""

    total: int
    per: int
    page: int = 1

    @classmethod
    def of(cls, query: Mapping[str, str], total: int, default: int) -> Pager:
        """From `?page=N&per=M` (`limit`, the older name of `per`, still read); a page past
        the end shows the last one."""
        per = _number(query.get("per", query.get("limit", "")), default)
        pager = cls(total, per, 1)
        return cls(total, per, min(_number(query.get("page", ""), 1) or 1, pager.pages))

    @property
    def pages(self) -> int:
        if self.per == 0 or self.total == 0:
            return 1
        return -(-self.total // self.per)

    @property
    def start(self) -> int:
        return 0 if self.per == 0 else (self.page - 1) * self.per

    @property
    def stop(self) -> int:
        return self.total if self.per == 0 else min(self.start + self.per, self.total)

    def status(self, noun: str) -> str:
        """"Rows 501–1,000 of 20,000 (page 2 of 40)"."""
        if self.total == 0:
            return f"No {noun}."
        return (f"{noun.capitalize()} {self.start + 1:,}–{self.stop:,} of {self.total:,} "
                f"(page {self.page} of {self.pages}).")

    def nav(self, link: Callable[[Mapping[str, str]], str], label: str) -> str:
        """Previous, numbered pages (the first, the last and those around this one) and next,
        each link naming the rows it shows; nothing when everything fits on one page."""
        if self.pages <= 1:
            return ""
        near = range(max(1, self.page - AROUND), min(self.pages, self.page + AROUND) + 1)
        shown = sorted({1, self.pages, *near})
        items = []
        if self.page > 1:
            items.append(self._link(link, self.page - 1, "Previous"))
        last = 0
        for number in shown:
            if number > last + 1:
                items.append('<li aria-hidden="true">…</li>')
            items.append(self._link(link, number, f"{number}"))
            last = number
        if self.page < self.pages:
            items.append(self._link(link, self.page + 1, "Next"))
        return f'<nav class="pager" aria-label="{e(label)}"><ul>{"".join(items)}</ul></nav>'

    def _link(self, link: Callable[[Mapping[str, str]], str], number: int, text: str) -> str:
        first = (number - 1) * self.per + 1
        last = min(number * self.per, self.total)
        counts = f"rows {first:,}–{last:,}"
        url = link({"page": str(number), "per": str(self.per)})
        if number == self.page and text == str(number):
            return f'<li><a href="{e(url)}" aria-current="page" title="{counts}">{text}</a></li>'
        name = f"Page {number}, {counts}" if text == str(number) else f"{text}: page {number}, {counts}"
        return f'<li><a href="{e(url)}" aria-label="{e(name)}" title="{counts}">{e(text)}</a></li>'


def _number(text: str, default: int) -> int:
    try:
        value = int(text)
    except ValueError:
        return default
    return max(value, 0)
