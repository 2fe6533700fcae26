"""Config fields that hold matchers, read as Alertmanager reads them: `matchers` is a list of
strings, each a matcher or a comma list of them; `match` and `match_re` map label names to a
value or a regex, taking any YAML scalar as its text; receiver names are any non-empty text."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from monitor.matchers import LABEL_NAME, Matcher, MatcherError, parse_matchers

_LIST_HINT = 'give a list of matchers such as ["severity=critical", "commodity=~84.*"]'


def scalar_text(value: Any, what: str) -> str:
    """A YAML scalar as text (Alertmanager reads `code: 500` as "500", `~` as "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | date):
        return str(value)
    raise ValueError(f"{what} must be a single value, not {type(value).__name__}")


def matcher_strings(value: Any) -> list[str]:
    """The matchers of a `matchers` list, one canonical string each (so `["a=1,b=2"]` becomes
    `["a=1", "b=2"]`); every string must parse."""
    if not isinstance(value, list):
        raise ValueError(f"{_LIST_HINT}, not a single {type(value).__name__}"
                         + (f" (write [{value!r}])" if isinstance(value, str) else ""))
    out = []
    for item in value:
        try:
            out += [str(m) for m in parse_matchers(scalar_text(item, "each matcher"))]
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
    return out


def matcher_text_or_list(value: Any) -> list[str]:
    """`select_matchers` also takes one string holding a comma list."""
    return matcher_strings([value] if isinstance(value, str) else value)


def _label_name(name: Any) -> str:
    if not isinstance(name, str) or LABEL_NAME.fullmatch(name) is None:
        raise ValueError(f"invalid label name {name!r}: use letters, digits and _, not starting "
                         "with a digit")
    return name


def label_values(value: Any) -> dict[str, str]:
    """`match: {severity: critical, code: 500}`."""
    if not isinstance(value, dict):
        raise ValueError("give a mapping of label names to values, e.g. {severity: critical}")
    return {_label_name(k): scalar_text(v, f"the value of {k!r}") for k, v in value.items()}


def label_regexes(value: Any) -> dict[str, str]:
    """`match_re: {commodity: "84.*"}`: every regex must compile as Alertmanager's does."""
    if not isinstance(value, dict):
        raise ValueError('give a mapping of label names to regexes, e.g. {commodity: "84.*"}')
    out = {}
    for name, pattern in value.items():
        if pattern is None:
            raise ValueError(f"invalid regex for {_label_name(name)!r}: no value")
        out[_label_name(name)] = scalar_text(pattern, f"the regex of {name!r}")
        try:
            Matcher(name, "=~", out[name])
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
    return out


def receiver_name(value: Any) -> str:
    """Any non-empty text, as in Alertmanager: `Policy desk`, `équipe-1`."""
    text = scalar_text(value, "a receiver name")
    if not text:
        raise ValueError("a receiver needs a name")
    return text


MatcherList = Annotated[list[str], BeforeValidator(matcher_strings),
                        WithJsonSchema({"type": "array", "items": {"type": "string"},
                                        "examples": [["severity=critical", 'commodity=~"84.*"']]})]
SelectMatchers = Annotated[list[str], BeforeValidator(matcher_text_or_list),
                           WithJsonSchema({"anyOf": [{"type": "string"},
                                                     {"type": "array", "items": {"type": "string"}}],
                                           "examples": ['{partner=~"RUS|CHN", flow="export"}']})]
Scalar = str | int | float | bool | None  # what YAML may write where the text is kept
LabelValues = Annotated[dict[str, str], BeforeValidator(label_values,
                                                        json_schema_input_type=dict[str, Scalar])]
LabelRegexes = Annotated[dict[str, str], BeforeValidator(label_regexes,
                                                         json_schema_input_type=dict[str, Scalar])]
ReceiverName = Annotated[str, BeforeValidator(receiver_name, json_schema_input_type=str | int | float)]
