"""Matchers as Alertmanager parses and matches them: its parser's test cases
(pkg/labels/parse_test.go, matcher_test.go) and the syntax its docs show."""

from __future__ import annotations

import pytest

from monitor.matchers import Matcher, MatcherError, parse_matcher, parse_matchers


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
        ('team="a\\\\b"', {"team": "a\\b"}, True),
        ("foo='bar'", {"foo": "'bar'"}, True),  # single quotes are part of the value
        ("foo='bar'", {"foo": "bar"}, False),
        ("a=~x|y", {"a": "xy"}, False),  # ^(?:x|y)$
        ("a=~x|y", {"a": "y"}, True),
    ],
)
def test_matcher_table(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_matcher(text).matches(labels) is expected


# pkg/labels/parse_test.go: input -> matchers, or None when Alertmanager refuses it.
PARSE_CASES: list[tuple[str, list[tuple[str, str, str]] | None]] = [
    ('{foo="bar"}', [("foo", "=", "bar")]),
    ('{foo=~"bar.*"}', [("foo", "=~", "bar.*")]),
    ('{foo!="bar"}', [("foo", "!=", "bar")]),
    ('{foo!~"bar.*"}', [("foo", "!~", "bar.*")]),
    ('{foo="bar", baz!="quux"}', [("foo", "=", "bar"), ("baz", "!=", "quux")]),
    ('{foo="bar", baz!~"quux.*"}', [("foo", "=", "bar"), ("baz", "!~", "quux.*")]),
    ('{foo="bar",baz!~".*quux", derp="wat"}',
     [("foo", "=", "bar"), ("baz", "!~", ".*quux"), ("derp", "=", "wat")]),
    ('{foo="bar", instance=~"some-api.*"}', [("foo", "=", "bar"), ("instance", "=~", "some-api.*")]),
    ('{foo=""}', [("foo", "=", "")]),
    ('{foo="bar,quux", job="job1"}', [("foo", "=", "bar,quux"), ("job", "=", "job1")]),
    ('{foo = "bar", dings != "bums", }', [("foo", "=", "bar"), ("dings", "!=", "bums")]),
    ("foo=bar,dings!=bums", [("foo", "=", "bar"), ("dings", "!=", "bums")]),
    ('{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}',
     [("quote", "=", 'She said: "Hi, ladies! That\'s gender-neutral…"')]),
    ('statuscode=~"5.."', [("statuscode", "=~", "5..")]),
    ("tricky=~~~", [("tricky", "=~", "~~")]),
    ('trickier==\\\\=\\=\\"', [("trickier", "=", '=\\=\\="')]),
    ('contains_quote != "\\"" , contains_comma !~ "foo,bar" , ',
     [("contains_quote", "!=", '"'), ("contains_comma", "!~", "foo,bar")]),
    ("job=", [("job", "=", "")]),
    ('job="value', None),
    ('job=value"', None),
    ('trickier==\\\\=\\=\\""', None),
    ('contains_unescaped_quote = foo"bar', None),
    ('{invalid-name = "valid label"}', None),
    ('{foo=~"invalid[regexp"}', None),
    ('"{foo=\\"bar"}', None),
    ('"foo=\\"bar"', None),
    ('"foo=\\"bar\\""', None),
    ('"foo=\\"bar\\"', None),
    ('"{foo=\\"bar\\"}"', None),
    ('"foo="bar""', None),
    # The documented examples and the edges of the grammar.
    ('foo="bar",baz="qux"', [("foo", "=", "bar"), ("baz", "=", "qux")]),
    ("foo=bar,", [("foo", "=", "bar")]),
    ("", []),
    ("{}", []),
    ("a=b,,c=d", None),
    ("a:b=c", [("a:b", "=", "c")]),
    ('a="x\\ny"', [("a", "=", "x\ny")]),
    ('a="x\\ty"', [("a", "=", "x\\ty")]),  # a spurious escape stays literal
    ("a=b\\", [("a", "=", "b\\")]),
    ('a=""""', None),
    ("1a=b", None),
    ("a==b", [("a", "=", "=b")]),
    ('a=~"a{,2}"', [("a", "=~", "a{,2}")]),
    ("a=~a{,2}", None),  # the comma splits the list
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_matchers_as_alertmanager(text: str, expected: list[tuple[str, str, str]] | None) -> None:
    if expected is None:
        with pytest.raises(MatcherError):
            parse_matchers(text)
    else:
        assert [(m.name, m.op, m.value) for m in parse_matchers(text)] == expected


# pkg/labels/matcher_test.go, and RE2 where Python's re differs.
MATCH_CASES: list[tuple[str, str, str, bool]] = [
    ("=", "bar", "bar", True), ("=", "bar", "foo-bar", False),
    ("!=", "bar", "bar", False), ("!=", "bar", "foo-bar", True),
    ("=~", "bar", "bar", True), ("=~", "bar", "foo-bar", False), ("=~", ".*bar", "foo-bar", True),
    ("!~", "bar", "bar", False), ("!~", "bar", "foo-bar", True), ("!~", ".*bar", "foo-bar", False),
    ("=~", "foo.bar", "foo-bar", True), ("=~", "foo\\.bar", "foo-bar", False),
    ("=~", "foo\\.bar", "foo.bar", True), ("=", "foo\nbar", "foo\nbar", True),
    ("=~", "foo.bar", "foo\nbar", False), ("=~", "(?s)foo.bar", "foo\nbar", True),
    ("=", '~!="', '~!="', True),
    ("=~", "\\d+", "٣", False), ("=~", "\\w+", "é", False), ("=~", "[[:alpha:]]+", "abc", True),
    ("=~", "a{,2}", "a{,2}", True), ("=~", "a{,2}", "aa", False), ("=~", "a$", "a\n", False),
    ("=~", "\\pL+", "é", True), ("=~", "(?i)Σ", "σ", True),
]


@pytest.mark.parametrize(("op", "value", "label", "expected"), MATCH_CASES)
def test_matching_as_alertmanager(op: str, value: str, label: str, expected: bool) -> None:
    assert Matcher("foo", op, value).matches({"foo": label}) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize("pattern", ["(?=a)", "(?!a)", "(?<=a)", "(a)\\1", "a**", "\\C", "(?<n>a)",
                                     "(?P<nä>a)", "\\p{Kawi}", "a{1001}", "(?x)a", "[a-\\d]", "\\Z"])
def test_regexes_go_refuses(pattern: str) -> None:
    with pytest.raises(MatcherError, match="invalid regex in matcher"):
        Matcher("a", "=~", pattern)


def test_large_regexes_compile_as_in_go() -> None:
    assert Matcher("a", "=~", "\\pL{1000}").matches({"a": "é" * 1000})


def test_printing_parses_back() -> None:
    assert parse_matcher(" commodity =~ 84.* ") == Matcher("commodity", "=~", "84.*")
    assert str(parse_matcher("a!~b")) == "a!~b"
    assert str(parse_matcher('team="policy desk"')) == "team=policy desk"
    for value in ['a "b"', "x\\y", "p,q", "line\nbreak", " pad ", "{x}", ""]:
        matcher = Matcher("a", "=", value)
        assert parse_matcher(str(matcher)) == matcher
        assert parse_matchers(str(matcher)) == [matcher]


def test_errors_name_the_text() -> None:
    with pytest.raises(MatcherError, match="invalid matcher 'no operator'"):
        parse_matcher("no operator")
    with pytest.raises(MatcherError, match="unescaped double quote"):
        parse_matcher('a=b"c')
    with pytest.raises(MatcherError, match=r"invalid matcher 'x': .* \(in 'a=b,x'\)"):
        parse_matchers("a=b,x")
    with pytest.raises(MatcherError, match=r"missing \)"):
        parse_matcher("a=~(b")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(" * 3000 + "a" + ")" * 3000, "longer than 1000 characters"),
        ("a(", "missing )"),
        ("a{1001}", "invalid repetition size: {1001}"),
    ],
)
def test_a_regex_too_large_or_broken_is_refused(pattern: str, reason: str) -> None:
    with pytest.raises(MatcherError, match="invalid regex in matcher") as caught:
        parse_matcher(f"team=~{pattern}")
    assert reason in str(caught.value)


def test_regexes_within_the_limits_compile_and_huge_counts_are_text_as_in_go() -> None:
    assert parse_matcher("commodity=~84(5[6-9]|6[0-6]).{0,4}").matches({"commodity": "8458"})
    assert parse_matcher(r"x=~\{99999}").matches({"x": "{99999}"})  # an escaped brace is text
    assert parse_matcher("x=~a{1000}").matches({"x": "a" * 1000})
    assert parse_matcher("x=~a{9999999999}").matches({"x": "a{9999999999}"})  # not a repetition
