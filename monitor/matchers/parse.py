"""Alertmanager's matcher syntax (its `pkg/labels/parse.go`, as in 0.25), read the same way.

One matcher: a label name, `=`, `!=`, `=~` or `!~`, and a value, with any ASCII whitespace
around each. The value may be wrapped in double quotes; inside it `\\"`, `\\\\` and `\\n` are
escapes, any other backslash is literal, and an unescaped `"` is an error. Single quotes are
part of the value. A list: matchers separated by commas outside double quotes, optionally
in `{...}`; a trailing comma is dropped.
"""

from __future__ import annotations

import re

from monitor.matchers.model import Matcher, MatcherError, Op

# Go's `\s` is ASCII [\t\n\f\r ]; the lazy value leaves trailing whitespace to the last group.
_SYNTAX = re.compile(r"[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)"
                     r"[\t\n\f\r ]*(.*?)[\t\n\f\r ]*", re.DOTALL)
# What Go's strings.TrimSpace removes: Unicode White_Space.
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
         "\u200a\u2028\u2029\u202f\u205f\u3000"
_HOW = "use name=value, name!=value, name=~regex or name!~regex"


def parse_matcher(text: str) -> Matcher:
    """One matcher: `severity=critical`, `commodity=~"84.*"`, `team!="a \\"b\\""`."""
    found = _SYNTAX.fullmatch(text)
    if found is None:
        raise MatcherError(f"invalid matcher {text!r}: {_HOW}")
    name, op, raw = found.groups()
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise MatcherError(f"invalid matcher {text!r}: the value is not valid UTF-8") from None
    return Matcher(name, _op(op), _unescape(raw, text))


def parse_matchers(text: str) -> list[Matcher]:
    """A comma-separated list, optionally braced: `{team="policy", severity=~"warn|crit"}`.
    An empty string or `{}` is an empty list."""
    body = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    quoted = escaped = False
    for char in body:
        if char == "," and not quoted:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if escaped:
                escaped = False
            else:
                quoted = not quoted
        elif char == "\\":
            escaped = not escaped
        elif char != ",":
            escaped = False
        token.append(char)
    last = "".join(token).strip(_SPACE)
    if last:
        tokens.append(last)
    matchers = []
    for token_text in tokens:
        try:
            matchers.append(parse_matcher(token_text))
        except MatcherError as exc:
            if token_text == text:
                raise
            raise MatcherError(f"{exc} (in {text!r})") from None
    return matchers


def _op(text: str) -> Op:
    for op in ("=~", "!=", "!~", "="):
        if text == op:
            return op
    raise AssertionError(text)


def _unescape(raw: str, text: str) -> str:
    """The value with OpenMetrics escapes applied and its surrounding double quotes removed."""
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    out: list[str] = []
    escaped = False
    for index, char in enumerate(body):
        if escaped:
            escaped = False
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(char, "\\" + char))
        elif char == "\\" and index < len(body) - 1:
            escaped = True
        elif char == '"':
            if not quoted or index < len(body) - 1:
                raise MatcherError(f"invalid matcher {text!r}: unescaped double quote in the value "
                                   '(write \\" inside a quoted value)')
            quoted = False
        else:
            out.append(char)
    if quoted:
        raise MatcherError(f"invalid matcher {text!r}: the value's opening double quote is not closed")
    return "".join(out)
