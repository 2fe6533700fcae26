"""The page's indexed silenced/inhibited marks answer what `notify.inhibit.decide` answers,
alert by alert, on random alerts, silences and inhibit rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.lifecycle import Alert, Status
from monitor.config import InhibitRule
from monitor.notify.inhibit import Decision, decide
from monitor.notify.marks import Marks
from monitor.store.silences import Silence

NOW = datetime(2024, 5, 1, tzinfo=UTC)
VALUES = {"severity": ["critical", "warning"], "partner": ["CHN", "RUS", ""], "flow": ["import", "export"]}


def _alert(n: int, rng: random.Random) -> Alert:
    labels = {k: rng.choice(v) for k, v in VALUES.items()}
    labels = {k: v for k, v in labels.items() if v} | {"alertname": rng.choice(["a", "b"]), "series": f"s{n}"}
    status = rng.choice([Status.FIRING, Status.FIRING, Status.PENDING, Status.RESOLVED])
    return Alert(f"f{n}", labels["alertname"], f"s{n}", labels, labels.get("severity", ""), status, 1,
                 "2024-01", "2024-01", 1.0, 0.0, "", NOW, NOW, None, NOW)


def _matcher(rng: random.Random) -> str:
    name = rng.choice(list(VALUES))
    return f"{name}{rng.choice(['=', '!=', '=~'])}{rng.choice([*VALUES[name], 'C.*'])}"


@pytest.mark.parametrize("seed", range(40))
def test_marks_equal_decide(seed: int) -> None:
    rng = random.Random(seed)
    alerts = [_alert(n, rng) for n in range(60)]
    rules = [InhibitRule(source_matchers=[_matcher(rng)], target_matchers=[_matcher(rng)],
                         equal=rng.sample(list(VALUES), rng.randint(0, 2))) for _ in range(rng.randint(1, 3))]
    silences = [Silence(f"x{k}", (_matcher(rng),), NOW - timedelta(hours=1),
                        NOW + timedelta(hours=rng.choice([-0.5, 1])), "me", "why", NOW) for k in range(2)]
    firing = [a for a in alerts if a.status is Status.FIRING]
    marks = Marks(silences, rules, firing, NOW)
    for alert in alerts:
        want = decide(alert.labels, alert.fingerprint, silences, rules, firing, NOW)
        assert marks.mark(alert) is want, alert.labels


def test_a_child_firing_with_its_parent_is_marked_folded_unless_its_route_sends_children() -> None:
    from dataclasses import replace

    from monitor.config import Route
    from monitor.ui.alerts import AlertsQuery, render_alerts

    rng = random.Random(1)
    parent = replace(_alert(1, rng), status=Status.FIRING, rule="a",
                     labels={"alertname": "a", "series": "s1"})
    child = replace(_alert(2, rng), status=Status.FIRING, rule="a", parent="s1",
                    labels={"alertname": "a", "series": "s2"})
    elsewhere = replace(child, fingerprint="f3", series="s3", period="2024-02")  # another release
    firing = [parent, child, elsewhere]
    marks = Marks([], [], firing, NOW, Route(receiver="desk"))
    assert [marks.mark(a) for a in firing] == [Decision.SEND, Decision.FOLDED, Decision.SEND]
    sends = Route(receiver="desk", fold_children=False)
    assert Marks([], [], firing, NOW, sends).mark(child) is Decision.SEND
    page = render_alerts(firing, Route(receiver="desk"), marks, AlertsQuery())
    assert page.count('<span class="badge folded">folded</span>') == 1
    assert "0 silenced, 0 inhibited, 1 folded into their parent's message." in page
