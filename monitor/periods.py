"""Config frequency letters (M, Q, A) and their pandas spellings."""

from __future__ import annotations

_PANDAS = {"M": "M", "Q": "Q", "A": "Y"}


def pandas_freq(frequency: str) -> str:
    """`A` (annual, the SDMX letter) is `Y` in pandas >= 2.2."""
    return _PANDAS.get(frequency, frequency)


def period_dtype(frequency: str) -> str:
    return f"period[{pandas_freq(frequency)}]"


def frequency_letter(freqstr: str) -> str:
    """pandas freqstr (`M`, `Q-DEC`, `Y-DEC`) -> M, Q or A."""
    head = freqstr.split("-")[0].upper()
    return {"M": "M", "Q": "Q", "QE": "Q", "Y": "A", "A": "A", "YE": "A"}.get(head, head)


def periods_per_year(frequency: str) -> int:
    return {"M": 12, "Q": 4, "A": 1}[frequency]
