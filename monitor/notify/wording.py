"""Names, units and periods as a policy reader writes them: "March 2015", "Q3 2025",
"US$ 8.1 bn", "-16.4% YoY", "China's exports of motor cars (HS 8703) to Russia".

Labels stay codes in the data (ISO alpha-3, HS codes, `USD_M`); only messages spell them out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

# Periods are named where the findings' sentences are written, so both say "March 2015".
from detectors.wording import frequency_of as frequency_of
from detectors.wording import period_name as period_name
from detectors.wording import short_period_name as short_period_name
from detectors.wording import span_name as span_name
from monitor.labels import subject as labels_subject
from monitor.notify.hs import hs_name


@dataclass(frozen=True, slots=True)
class Unit:
    """A `unit` label read: the currency sign (or unit word) and the multiplier of a value."""

    symbol: str
    scale: float
    money: bool
    axis_word: str  # how the unit reads on a chart axis before scaling, e.g. "US$"


_CURRENCY = {"USD": "US$", "EUR": "€", "GBP": "£", "CNY": "CN¥", "RUB": "RUB", "JPY": "¥"}
_SCALE = {"": 1.0, "K": 1e3, "TH": 1e3, "THS": 1e3, "M": 1e6, "MN": 1e6, "MIO": 1e6,
          "BN": 1e9, "B": 1e9}


def unit_of(label: str | None) -> Unit | None:
    """`USD_M` -> US$ with values in millions; `EUR` -> € in euros; None when not money."""
    if not label:
        return None
    code, _, scale = str(label).upper().replace("-", "_").partition("_")
    if code in _CURRENCY and scale in _SCALE:
        return Unit(_CURRENCY[code], _SCALE[scale], True, _CURRENCY[code])
    return None


_MAGNITUDES = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"))


def scaled(x: float) -> tuple[float, str]:
    """A value in base units and the suffix it reads best with: (8.1, "bn")."""
    for size, word in _MAGNITUDES:
        if abs(x) >= size:
            return x / size, word
    return x, ""


def amount(x: float | None, unit_label: str | None, decimals: int = 1) -> str:
    """"US$ 8.1 bn", "€ 1.6 bn", "US$ 812 m"; a plain number when the unit is not money."""
    if x is None or not math.isfinite(x):
        return "n/a"
    unit = unit_of(unit_label)
    if unit is None:
        text = number(x)
        return f"{text} {unit_label}" if unit_label and unit_label.upper() != "TOTAL" else text
    value, word = scaled(x * unit.scale)
    if not word:
        return f"{unit.symbol} {number(value, 2)}"
    return f"{unit.symbol} {value:,.{decimals if abs(value) < 100 else 0}f} {word}"


def number(x: float, decimals: int = 1) -> str:
    """Thousands separators, trailing zeros dropped, never "-0"."""
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent(x: float | None, label: str = "", *, signed: bool = True) -> str:
    """"-16.4% YoY", "+3.2% MoM", "-5%"."""
    if x is None or not math.isfinite(x):
        return "n/a"
    text = number(x, 1 if abs(x) >= 10 else 2 if abs(x) < 1 else 1)
    if signed and x > 0 and text != "0":
        text = "+" + text
    return f"{text}%" + (f" {label}" if label else "")


_FLOWS = {"export": ("exports", "to"), "import": ("imports", "from"),
          "re-export": ("re-exports", "to"), "re-import": ("re-imports", "from")}


def commodity_name(code: str | None) -> str:
    """"HS 8703 Motor cars and other motor vehicles…" in full, for a field."""
    if not code or code.upper() == "TOTAL":
        return "All goods"
    found = hs_name(code)
    return f"HS {code} {found.description}" if found else f"HS {code}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def subject(labels: Mapping[str, str], fallback: str = "") -> str:
    """"China's exports to Russia", "China's exports of lathes for removing metal (HS 8458)
    to Russia"; the series id when the labels do not say who trades what."""
    return labels_subject(labels, commodity=_goods, flows=_FLOWS,
                          fallback=fallback or labels.get("series") or "The series")


def _goods(code: str) -> str:
    found = hs_name(code)
    return f"{_lower_first(found.short)} (HS {code})" if found else f"HS {code}"


def flow_word(flow: str | None) -> str:
    return _FLOWS[flow][0] if flow in _FLOWS else str(flow or "")
