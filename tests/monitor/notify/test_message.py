"""A message's headline and the finding's sentence state the same facts: the run the headline
counts is the run the sentence counts, with or without the series' history."""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd

from detectors import Consecutive, evaluate
from monitor.alerts.lifecycle import Evaluation, step
from monitor.alerts.notification import Notification
from monitor.notify.message import compose
from monitor.notify.render import console_line, fallback_text, webhook_body
from monitor.notify.ruleinfo import RuleInfo
from tests.fakes.payloads import FIRING_HEADLINE, FIRING_SUMMARY, LABELS, RULE, SERIES, VINTAGE, payload

WHO = "Russia's imports from China"


def notification(history: pd.Series, detector: Consecutive) -> Notification:
    """The firing notification the detector, the alert book and the outbox make of `history`."""
    (finding,) = evaluate(history.to_frame(SERIES), rule=RULE.name, transform="yoy_pct", detector=detector,
                          severity="warning", subjects={SERIES: WHO})
    evaluation = Evaluation(rule=RULE.name, series=SERIES, labels={**LABELS, "series": SERIES},
                            severity="warning", for_periods=1, period=str(finding.period), finding=finding,
                            resolution="")
    alert = step(None, evaluation, VINTAGE)
    assert alert is not None
    return Notification.from_json(Notification.of(alert).to_json())


def thirty_months_of_falls() -> pd.Series:
    """Flat until September 2012, then 20% below the year before every month: the YoY falls
    run from October 2012 to March 2015, 30 months, more than a message lists."""
    index = pd.period_range("2010-01", "2015-03", freq="M")
    start = pd.Period("2012-10", "M")
    values = [1000.0 if p < start else 800.0 * 0.8 ** ((p - start).n // 12) for p in index]
    return pd.Series(values, index=index)


def period_field(notification: Notification, info: RuleInfo, history: pd.Series | None) -> str:
    return dict(compose(notification, info, history).fields)["Period"]


def test_without_the_history_every_receiver_counts_the_run_as_the_sentence_does() -> None:
    # since_period is the run's first month here, not the month the alert first held: counted
    # from it, the run would be 9 months long, against the sentence's 5.
    firing = payload(since="2014-11")
    assert "the 5th consecutive monthly decline" in firing.summary
    assert compose(firing, RULE).headline == FIRING_HEADLINE == f"{WHO}: 5th monthly fall in a row"
    assert period_field(firing, RULE, None) == "November 2014 – March 2015"
    assert webhook_body(firing, "hook", RULE)["text"] == f"{FIRING_HEADLINE}. {FIRING_SUMMARY}"
    assert fallback_text(firing, RULE) == f"{FIRING_HEADLINE}. {FIRING_SUMMARY}"
    assert console_line(firing, RULE) == f"{FIRING_HEADLINE} · warning · {FIRING_SUMMARY}"


def test_a_run_longer_than_a_message_lists_is_counted_as_the_sentence_counts() -> None:
    history = thirty_months_of_falls()
    firing = notification(history, Consecutive("below", -5.0, 5))
    assert firing.summary == (f"{WHO} fell 20.0% YoY in March 2015, "
                              "the 30th consecutive monthly decline below -5%.")
    for known in (history, None):
        assert compose(firing, RULE, known).headline == f"{WHO}: 30th monthly fall in a row"
        assert period_field(firing, RULE, known) == "October 2012 – March 2015"
    listed = compose(firing, RULE, history).run.split(" · ")
    assert len(listed) == 24 and listed[-1] == "Mar 2015 -20% YoY"  # the list is cut, not the count


def test_a_window_rule_counts_the_periods_its_sentence_counts() -> None:
    detector = Consecutive("below", -5.0, 4, window=6)
    info = RuleInfo(RULE.name, "yoy_pct", MappingProxyType({}), "consecutive",
                    MappingProxyType({"direction": "below", "threshold": -5.0, "count": 4, "window": 6}))
    firing = notification(thirty_months_of_falls(), detector)
    assert firing.summary == (f"{WHO} fell 20.0% YoY in March 2015, "
                              "the 6th decline below -5% in the last 6 months.")
    assert compose(firing, info).headline == f"{WHO}: 6 of the last 6 months below -5% YoY"
    tally = payload(summary=f"{WHO} rose 1.0% YoY in March 2015; 4 of the last 6 months were below -5%.")
    assert compose(tally, info).headline == f"{WHO}: 4 of the last 6 months below -5% YoY"
