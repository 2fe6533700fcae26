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
