"""Contrast measured, not claimed: every text colour in the pages' stylesheet against the
background it sits on, custom properties (`var(--fg)`) resolved from `:root`, meets WCAG 2
AA for normal text (4.5:1).

Pairs: a rule that sets both a text colour (`color`, or `fill` for SVG text) and a
background; a rule that sets only a colour, against the background of the element its
selector sits in (`header a` on the header's), else the page's; a rule that sets only a
background, against the text colour it inherits (the page's, or its container's)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

CSS = REPO / "monitor" / "ui" / "static" / "ui.css"
AA = 4.5
# Containers the selectors do not name: the token box sits in the header.
INSIDE = {".token": "header"}
ELEMENT = {".skip": "a"}  # the skip link is a link
COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?\b|var\(--[\w-]+\)")


def rules(text: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every rule, @media blocks flattened, comments dropped."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"@media[^{]*\{((?:[^{}]*\{[^{}]*\})*)\s*\}", r"\1", text)
    out = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = {}
        for part in body.split(";"):
            name, sep, value = part.partition(":")
            if sep:
                declarations[name.strip()] = value.strip()
        for selector in selectors.split(","):
            out.append((" ".join(selector.split()), declarations))
    return out


def colour(value: str, variables: dict[str, str]) -> str | None:
    """The first colour in a value, var() resolved; None when the value has none."""
    found = COLOUR.search(value)
    if found is None:
        return None
    text = found.group(0)
    if text.startswith("var("):
        return colour(variables[text[4:-1]], variables)
    return text


def luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ratio(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def pairs() -> list[tuple[str, str, str]]:
    """(selector, text colour, background colour) of every pair the stylesheet makes."""
    merged: dict[str, dict[str, str]] = {}
    for selector, block in rules(CSS.read_text()):  # in cascade order: a later declaration wins
        merged.setdefault(selector, {}).update(block)
    variables = {name: value for name, value in merged[":root"].items() if name.startswith("--")}
    text_of: dict[str, str] = {}
    background_of: dict[str, str] = {}
    for selector, block in merged.items():
        text = colour(block.get("color", block.get("fill", "")), variables)
        back = colour(block.get("background", block.get("background-color", "")), variables)
        if text:
            text_of[selector] = text
        if back:
            background_of[selector] = back
    for selector, element in ELEMENT.items():  # a class on an element whose rule colours it
        text_of.setdefault(selector, text_of[element])

    def container(selector: str, table: dict[str, str], default: str) -> str:
        parts = selector.split()
        for k in range(len(parts) - 1, 0, -1):  # the nearest ancestor that sets one
            ancestor = " ".join(parts[:k])
            if ancestor in table:
                return table[ancestor]
            if ancestor in INSIDE and INSIDE[ancestor] in table:
                return table[INSIDE[ancestor]]
        if parts[0] in INSIDE and len(parts) > 1:
            return table.get(INSIDE[parts[0]], default)
        return default

    page_text, page_back = text_of["body"], background_of["body"]
    out = []
    for selector, block in merged.items():
        if selector in (":root", "body") or "fill-opacity" in block:
            continue
        text, back = text_of.get(selector), background_of.get(selector)
        if text and back:
            out.append((selector, text, back))
        elif text and "border" not in block.get("color", ""):
            out.append((selector, text, container(selector, background_of, page_back)))
        elif back:
            out.append((selector, container(selector, text_of, page_text), back))
    return out


def test_the_ratio_is_wcags() -> None:
    assert ratio("#000", "#fff") == pytest.approx(21.0)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert ratio("#0b4f8a", "#fff") == ratio("#fff", "#0b4f8a")


def test_every_text_and_background_pair_meets_aa() -> None:
    found = pairs()
    checked = {selector for selector, _, _ in found}
    # The pairs that matter most are among those measured.
    assert {"a", ".hint", "header a", ".token .hint", "button", "th", ".badge.firing", ".msg.error",
            "svg .tick", ".pager a[aria-current=\"page\"]"} <= checked
    failing = [f"{selector}: {text} on {back} is {ratio(text, back):.2f}:1"
               for selector, text, back in found if ratio(text, back) < AA]
    assert failing == [], "below WCAG AA (4.5:1):\n" + "\n".join(failing)
    assert len(found) >= 20
