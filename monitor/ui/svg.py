"""Charts as inline SVG: a series' values over its periods in stacked panels (the level, what
a rule compares), firing episodes shaded, revised periods marked and thresholds drawn.

SVG rather than the PNGs of Slack and backtest reports: it is text in the page (no second
request, no matplotlib on a request path), scales with the viewport, and carries its title
and description for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.ui.page import e

WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 200, 70, 16, 26, 26
COLOURS = ("#1f4e79", "#5a3e00", "#4b2d73")  # dark enough for 4.5:1 on white


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    values: Sequence[float]
    thresholds: Sequence[tuple[str, float]] = field(default_factory=tuple)


def _ticks(low: float, high: float) -> list[float]:
    if low == high:
        return [low]
    step = 10 ** math.floor(math.log10((high - low) / 3))
    for factor in (1, 2, 5, 10):
        if (high - low) / (step * factor) <= 5:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step) + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def chart(title: str, periods: Sequence[str], panels: Sequence[Panel],
          shaded: Sequence[tuple[int, int]] = (), marked: Sequence[int] = (), description: str = "") -> str:
    """`shaded`: (first, last) period indexes of episodes; `marked`: indexes of revised periods."""
    n = len(periods)
    height = TOP + len(panels) * (PANEL_HEIGHT + BOTTOM) + 10
    plot_w = WIDTH - LEFT - RIGHT

    def x(i: float) -> float:
        return LEFT + (plot_w * i / max(n - 1, 1))

    slug = "".join(c if c.isalnum() else "-" for c in title)[:60]
    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'aria-labelledby="t-{slug} d-{slug}" xmlns="http://www.w3.org/2000/svg">'
           f'<title id="t-{slug}">{e(title)}</title><desc id="d-{slug}">{e(description)}</desc>']
    for p, panel in enumerate(panels):
        top = TOP + p * (PANEL_HEIGHT + BOTTOM)
        finite = [v for v in panel.values if math.isfinite(v)] + [t for _, t in panel.thresholds]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if low == high:
            low, high = low - 1, high + 1
        pad = (high - low) * 0.05
        low, high = low - pad, high + pad

        def y(v: float, top: int = top, low: float = low, high: float = high) -> float:
            return top + PANEL_HEIGHT * (high - v) / (high - low)

        out.append(f'<text x="{LEFT}" y="{top - 8}" class="ptitle">{e(panel.title)}</text>')
        for first, last in shaded:
            x0, x1 = x(first - 0.5 if first else first), x(min(last + 0.5, n - 1))
            out.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 2):.1f}" height="{PANEL_HEIGHT}" '
                       'fill="#f4b6b0" fill-opacity="0.6"><title>firing</title></rect>')
        for tick in _ticks(low, high):
            ty = y(tick)
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#ddd"/>'
                       f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" class="tick">'
                       f"{_fmt(tick)}</text>")
        out.append(f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_HEIGHT}" fill="none" '
                   'stroke="#888"/>')
        path, pen = [], "M"
        for i, v in enumerate(panel.values):
            if not math.isfinite(v):
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
        colour = COLOURS[p % len(COLOURS)]
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        for label, value in panel.thresholds:
            ty = y(value)
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#b02a1a" '
                       f'stroke-width="1.4" stroke-dasharray="6 4"><title>{e(label)} {value:g}</title></line>'
                       f'<text x="{WIDTH - RIGHT - 4}" y="{ty - 4:.1f}" text-anchor="end" class="thr">'
                       f'{e(label)} {value:g}</text>')
        if p == 0:
            for i in marked:
                if 0 <= i < n and math.isfinite(panel.values[i]):
                    out.append(f'<circle cx="{x(i):.1f}" cy="{y(panel.values[i]):.1f}" r="3.5" fill="#fff" '
                               'stroke="#7a4a00" stroke-width="1.6">'
                               f"<title>revised: {e(periods[i])}</title></circle>")
    bottom = TOP + len(panels) * (PANEL_HEIGHT + BOTTOM) - BOTTOM + 16
    for i in sorted({round(k * (n - 1) / 6) for k in range(7)} if n else ()):
        out.append(f'<text x="{x(i):.1f}" y="{bottom}" text-anchor="middle" class="tick">'
                   f"{e(periods[i])}</text>")
    out.append("</svg>")
    return "".join(out)
