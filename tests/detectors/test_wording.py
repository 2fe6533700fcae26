from __future__ import annotations

import pandas as pd
import pytest

from detectors.wording import (
    format_change,
    format_level,
    format_level_change,
    format_percent_level,
    format_percent_threshold,
    format_signed_level,
    freq_word,
    frequency_of,
    ordinal,
    period_name,
    period_noun,
    resolution_sentence,
    retired_rule_sentence,
    run_phrase,
    shift_phrase,
    short_period_name,
    span_name,
    stated_count,
    trend_break_phrase,
    window_phrase,
    window_tally,
)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"),
        (12, "12th"), (13, "13th"), (14, "14th"), (21, "21st"), (22, "22nd"), (23, "23rd"),
        (101, "101st"), (111, "111th"), (112, "112th"), (113, "113th"), (122, "122nd"),
    ],
)  # fmt: skip
def test_ordinal(n: int, text: str) -> None:
    assert ordinal(n) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-21.6, "fell 21.6% YoY"),
        (-21.597, "fell 21.6% YoY"),
        (12.0, "rose 12.0% YoY"),
        (0.0, "showed no change YoY"),
        (-0.04, "showed no change YoY"),
        (0.06, "rose 0.1% YoY"),
        (1234.5, "rose 1,234.5% YoY"),
    ],
)
def test_format_change(value: float, text: str) -> None:
    assert format_change(value, "YoY") == text


def test_format_change_without_label() -> None:
    assert format_change(-3.0, "") == "fell 3.0%"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-5.0, "-5%"),
        (-2.5, "-2.5%"),
        (10, "+10%"),
        (0.0, "0%"),
        (2.25, "+2.25%"),
        (1500, "+1,500%"),
    ],
)
def test_format_percent_threshold(value: float, text: str) -> None:
    assert format_percent_threshold(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3456.1, "3,456.1"),
        (3456.14, "3,456.1"),
        (4000, "4,000"),
        (4000.04, "4,000"),
        (0.0, "0"),
        (-0.01, "0"),
        (-1234.56, "-1,234.6"),
        (0.5, "0.5"),
    ],
)
def test_format_level(value: float, text: str) -> None:
    assert format_level(value) == text


@pytest.mark.parametrize(
    ("freq", "word", "noun"),
    [("M", "monthly", "month"), ("Q-DEC", "quarterly", "quarter"), ("Y-DEC", "annual", "year")],
)
def test_frequency_words(freq: str, word: str, noun: str) -> None:
    assert freq_word(freq) == word
    assert period_noun(freq) == noun


@pytest.mark.parametrize(
    ("value", "text"),
    [(-100, "-100"), (2500, "+2,500"), (0.0, "0"), (-0.01, "0"), (12.25, "+12.2")],
)
def test_format_signed_level(value: float, text: str) -> None:
    assert format_signed_level(value) == text


@pytest.mark.parametrize(
    ("value", "label", "text"),
    [
        (-120.54, "MoM", "fell 120.5 MoM"),
        (2500, "QoQ", "rose 2,500 QoQ"),
        (0.04, "MoM", "showed no change MoM"),
        (-3.0, "", "fell 3"),
    ],
)
def test_format_level_change(value: float, label: str, text: str) -> None:
    assert format_level_change(value, label) == text


@pytest.mark.parametrize(("value", "text"), [(12.3, "12.3%"), (100, "100%"), (0.25, "0.25%"), (0, "0%")])
def test_format_percent_level(value: float, text: str) -> None:
    assert format_percent_level(value) == text


def test_a_resolution_names_the_value_that_no_longer_meets_the_rule() -> None:
    assert resolution_sentence("Russia's imports from China", "fell 2.1% YoY", "2015-09", "decline",
                               "yoy_pct") == (
        "Russia's imports from China fell 2.1% YoY in September 2015; decline no longer holds.")
    assert resolution_sentence("Russia's imports from China", None, "2015-09", "decline", "yoy_pct") == (
        "Russia's imports from China has no yoy_pct value for September 2015; decline no longer holds.")


def test_a_resolution_caused_by_revisions_names_three_of_them_and_counts_the_rest() -> None:
    revisions = [("2015-0" + str(m), 1000.0 + m, 900.0 + m) for m in range(1, 6)]
    assert resolution_sentence("China's exports to Russia", "rose 0.4% YoY", "2015-09", "decline", "yoy_pct",
                               revisions) == (
        "After a revision (January 2015 from 1,001 to 901; February 2015 from 1,002 to 902; "
        "March 2015 from 1,003 to 903 and 2 more), China's exports to Russia rose 0.4% YoY "
        "in September 2015; decline no longer holds.")


def test_a_retired_rule_says_so_and_keeps_the_last_sentence() -> None:
    assert retired_rule_sentence("decline", "It fell.") == (
        "Rule decline was removed from the config; this alert no longer applies (last: It fell.)")


@pytest.mark.parametrize(
    ("period", "name", "short", "freq"),
    [
        ("2015-03", "March 2015", "Mar 2015", "M"), ("2015-12", "December 2015", "Dec 2015", "M"),
        ("2025Q3", "Q3 2025", "Q3 2025", "Q"), ("2025", "2025", "2025", "A"),
        (pd.Period("2015-01", "M"), "January 2015", "Jan 2015", "M"),
        (pd.Period("2015Q4", "Q"), "Q4 2015", "Q4 2015", "Q"),
        (pd.Period("2015", "Y"), "2015", "2015", "A"),
    ],
)  # fmt: skip
def test_periods_in_words(period: object, name: str, short: str, freq: str) -> None:
    assert period_name(period) == name
    assert short_period_name(period) == short
    assert frequency_of(period) == freq
    assert period_name(name) == name  # a name in words stays as it is


@pytest.mark.parametrize("text", ["2015-13", "2015-00", "2015-03-01", "", "latest"])
def test_what_is_no_period_is_left_as_it_is(text: str) -> None:
    assert period_name(text) == text


def test_a_span_names_both_ends_or_one_period() -> None:
    assert span_name("2014-11", "2015-03") == "November 2014 – March 2015"
    assert span_name("2015Q1", "2015Q1") == "Q1 2015"
    assert span_name(None, "2015") == "2015"


def test_sentences_name_their_periods_in_words() -> None:
    assert shift_phrase(100.0, 70.0, "2015Q1") == "shifted down 30% in Q1 2015: from 100 to 70 on average"
    assert trend_break_phrase(98.0, 148.0, "2015") == (
        "broke trend in 2015: 148 against 98 on the old trend (+51%)")


@pytest.mark.parametrize("n", [1, 2, 3, 11, 12, 21, 30, 111, 130])
def test_the_count_a_sentence_states_is_read_back(n: int) -> None:
    subject = "China's exports of 3rd-party goods (HS 9999) to Russia fell 21.6% YoY in March 2015"
    assert run_phrase(n, "monthly decline", "below", "-5%") == (
        f"the {ordinal(n)} consecutive monthly decline below -5%")
    assert stated_count(f"{subject}, {run_phrase(n, 'monthly decline', 'below', '-5%')}.") == n
    assert window_phrase(n, "decline", "below", "-5%", "the last 6 months") == (
        f"the {ordinal(n)} decline below -5% in the last 6 months")
    window = window_phrase(n, "quarter", "above", "+1%", "the last 4 quarters")
    assert stated_count(f"{subject}, {window}.") == n
    assert window_tally(n, "the last 12 months", "below", "-5%") == (
        f"{n} of the last 12 months were below -5%")
    assert stated_count(f"{subject}; {window_tally(n, 'the last 12 months', 'below', '-5%')}.") == n


@pytest.mark.parametrize("sentence", [
    "Russia's imports from China fell 20.3% YoY in December 2014, below the -20% threshold.",
    "Russia's imports from China fell 2.1% YoY in September 2015; decline no longer holds.",
    "", None,
])
def test_a_sentence_that_counts_nothing_states_no_count(sentence: str | None) -> None:
    assert stated_count(sentence) is None
