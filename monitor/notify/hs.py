"""Harmonized System chapter and heading names, so that alerts say what a code is.

The table (`monitor/data/hs_nomenclature.csv`, HS 2022 chapters and headings, public domain,
see monitor/data/README.md) is read once, on first use.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "data" / "hs_nomenclature.csv"
SHORT_NAME = 48  # the part of a description a header has room for


@dataclass(frozen=True, slots=True)
class HsName:
    code: str
    description: str  # the nomenclature's full text

    @property
    def short(self) -> str:
        """The description up to its first ";" (and first "," when still long), e.g.
        "Motor cars and other motor vehicles", "Lathes for removing metal"."""
        text = self.description.split(";")[0].strip()
        if len(text) > SHORT_NAME and "," in text:
            text = text.split(",")[0].strip()
        if len(text) > SHORT_NAME:
            text = text[:SHORT_NAME - 1].rstrip() + "…"
        return text


@functools.cache
def _table() -> dict[str, str]:
    try:
        with TABLE.open(encoding="utf-8", newline="") as handle:
            return {row["code"]: row["description"] for row in csv.DictReader(handle)}
    except OSError:  # a missing table costs names, never an alert
        return {}


def hs_name(code: str) -> HsName | None:
    """The chapter or heading of an HS code; a 6-digit code is named by its heading."""
    digits = code.strip().replace(".", "")
    if not digits.isdigit():
        return None
    table = _table()
    for length in (4, 2):
        if len(digits) >= length and digits[:length] in table:
            return HsName(digits[:length], table[digits[:length]])
    return None
