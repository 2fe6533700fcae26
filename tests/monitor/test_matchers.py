from __future__ import annotations

import pytest

from monitor.matchers import Matcher, parse_matcher


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("severity=critical", {"severity": "critical"}, True),
        ("severity=critical", {"severity": "warning"}, False),
        ("severity!=critical", {}, True),
        ("commodity=~84.*", {"commodity": "8458"}, True),
        ("commodity=~84.*", {"commodity": "18458"}, False),  # anchored
        ("commodity!~84.*", {"commodity": "TOTAL"}, True),
        ('team="policy desk"', {"team": "policy desk"}, True),
        ("team=", {}, True),  # a missing label reads as ""
    ],
)
def test_matcher_table(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_matcher(text).matches(labels) is expected


def test_parse_and_print_round_trip() -> None:
    assert parse_matcher(" commodity =~ 84.* ") == Matcher("commodity", "=~", "84.*")
    assert str(parse_matcher("a!~b")) == "a!~b"
    with pytest.raises(ValueError, match="invalid matcher"):
        parse_matcher("no operator")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a{9999999999}", "repetition {9999999999} over 1000"),
        ("a{2,99999999999999999999}", "over 1000"),
        ("(" * 3000 + "a" + ")" * 3000, "longer than 1000 characters"),
        ("(" * 33 + "a" + ")" * 33, "groups nested more than 32 deep"),
        ("a(", "missing )"),
    ],
)
def test_a_regex_too_large_or_broken_is_a_value_error(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match="invalid regex in matcher") as caught:
        parse_matcher(f"team=~{pattern}")
    assert reason in str(caught.value) and len(str(caught.value)) < 200


def test_regexes_within_the_limits_compile() -> None:
    assert parse_matcher("commodity=~84(5[6-9]|6[0-6]).{0,4}").matches({"commodity": "8458"})
    assert parse_matcher(r"x=~\{99999}").matches({"x": "{99999}"})  # an escaped brace is text
    assert parse_matcher("x=~a{1000}").matches({"x": "a" * 1000})
