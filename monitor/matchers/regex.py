"""Regexes as Alertmanager compiles them: Go's RE2 syntax, anchored as `^(?:VALUE)$`.

google-re2 is the RE2 C++ library; Go's regexp (Alertmanager 0.25 is built with Go 1.19)
implements the same syntax, except that RE2 C++ also takes `\\C`, `(?<name>...)`, Unicode
letters in group names and scripts added after Unicode 13: those are refused here as Go does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 64 << 20  # Go has no such cap; RE2's 8 MiB refuses `\pL{1000}`
_GROUP_NAME = re.compile(r"[A-Za-z0-9_]+")
MAX_REGEX_LENGTH = 1000  # a label regex is a few dozen characters; a config is not a program
_NEWER_SCRIPTS = frozenset({  # Unicode 14 and later; Go 1.19 knows Unicode 13
    "Cypro_Minoan", "Old_Uyghur", "Tangsa", "Toto", "Vithkuqi", "Kawi", "Nag_Mundari",
    "Garay", "Gurung_Khema", "Kirat_Rai", "Ol_Onal", "Sunuwar", "Todhri", "Tulu_Tigalari",
})


class Regex(Protocol):
    def search(self, text: str) -> object | None: ...


@lru_cache(maxsize=4096)
def compile_anchored(pattern: str) -> Regex:
    """The compiled `^(?:pattern)$`; ValueError with RE2's reason when Go would refuse it."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"longer than {MAX_REGEX_LENGTH} characters")
    reason = _go_refuses(pattern)
    if reason is not None:
        raise ValueError(reason)
    try:
        compiled: Regex = re2.compile(f"^(?:{pattern})$", _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else "invalid"
        raise ValueError(detail.decode("utf-8", "replace") if isinstance(detail, bytes)
                         else str(detail)) from None
    return compiled


def _go_refuses(pattern: str) -> str | None:
    """Why Go's regexp refuses what RE2 C++ accepts, if it does."""
    i, n, in_class = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            escape = pattern[i + 1]
            if escape == "Q" and not in_class:  # literal text up to \E
                end = pattern.find("\\E", i + 2)
                i = n if end < 0 else end + 2
                continue
            if escape == "C":
                return "invalid escape sequence: \\C"
            if escape in "pP" and i + 2 < n and pattern[i + 2] == "{":
                end = pattern.find("}", i + 3)
                if end > 0 and pattern[i + 3:end].lstrip("^") in _NEWER_SCRIPTS:
                    return f"invalid character class range: {pattern[i:end + 1]}"
            i += 2
        elif in_class:
            if char == "[" and pattern.startswith("[:", i) and ":]" in pattern[i + 2:]:
                i = pattern.index(":]", i + 2) + 2
                continue
            in_class = char != "]"
            i += 1
        elif char == "[":
            in_class, i = True, i + 1
            i += pattern.startswith("^", i)
            i += pattern.startswith("]", i)  # a leading ] is a literal
        elif pattern.startswith("(?<", i):
            return "invalid or unsupported Perl syntax: (?<"
        elif pattern.startswith("(?P<", i):
            end = pattern.find(">", i + 4)
            if end > 0 and _GROUP_NAME.fullmatch(pattern[i + 4:end]) is None:
                return f"invalid named capture: {pattern[i:end + 1]}"
            i += 4
        else:
            i += 1
    return None
