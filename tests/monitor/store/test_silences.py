"""Silences kept in the store: matching, their window, expiry, and what is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from monitor.matchers import parse_matchers
from monitor.store import Store
from monitor.store.silences import SilenceError, SilenceStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def silences(store_url: Callable[..., str]) -> SilenceStore:
    return SilenceStore(Store(store_url()))


def test_a_silence_matches_while_active_and_survives_a_new_store(
    silences: SilenceStore, store_url: Callable[..., str]
) -> None:
    silence = silences.add(["series=rus-chn/import/total", "severity=~warn.*"], NOW, NOW + HOUR,
                           "ana", "known: ruble crisis", NOW)
    labels = {"series": "rus-chn/import/total", "severity": "warning"}
    assert silence.silences(labels, NOW) and silence.silences(labels, NOW + HOUR / 2)
    assert not silence.silences(labels, NOW + HOUR)  # over
    assert not silence.silences({**labels, "severity": "critical"}, NOW)
    again = SilenceStore(Store(store_url()))
    assert [s.id for s in again.active(NOW)] == [silence.id]
    assert again.get(silence.id) == silence


def test_pending_silences_start_later_and_expiry_ends_them_now(silences: SilenceStore) -> None:
    later = silences.add(["rule=decline"], NOW + HOUR, NOW + 2 * HOUR, "ana", "maintenance", NOW)
    assert later.state(NOW) == "pending" and silences.active(NOW) == []
    running = silences.add(["rule=decline"], NOW, NOW + 2 * HOUR, "ana", "noise", NOW)
    expired = silences.expire(running.id, NOW + HOUR / 2)
    assert expired.state(NOW + HOUR / 2) == "expired" and expired.ends_at == NOW + HOUR / 2
    with pytest.raises(SilenceError, match="already expired"):
        silences.expire(running.id, NOW + HOUR)
    assert silences.expire(later.id, NOW).state(NOW) == "expired"  # never starts


@pytest.mark.parametrize(
    ("matchers", "starts", "ends", "author", "comment", "message"),
    [
        ([], NOW, NOW + HOUR, "a", "c", "at least one matcher"),
        (["series"], NOW, NOW + HOUR, "a", "c", "invalid matcher 'series'"),
        (["series=~("], NOW, NOW + HOUR, "a", "c", "invalid regex"),
        (["series!=x"], NOW, NOW + HOUR, "a", "c", "would silence every alert"),
        (["series=x"], NOW + HOUR, NOW, "a", "c", "ends before it starts"),
        (["series=x"], NOW - 2 * HOUR, NOW - HOUR, "a", "c", "already be over"),
        (["series=x"], NOW, NOW + HOUR, " ", "c", "an author and a comment"),
    ],
)
def test_bad_silences_are_refused_with_the_reason(
    silences: SilenceStore, matchers: list[str], starts: datetime, ends: datetime, author: str,
    comment: str, message: str,
) -> None:
    with pytest.raises(SilenceError, match=message.replace("(", r"\(")):
        silences.add(matchers, starts, ends, author, comment, NOW)
    assert silences.all() == []


def test_quoted_values_survive_the_store(silences: SilenceStore) -> None:
    silence = silences.add(['team="a \\"b\\", c"', "commodity=~84.*"], NOW, NOW + HOUR, "a", "c", NOW)
    stored = silences.all()[0]
    assert stored.matchers == silence.matchers == ('team="a \\"b\\", c"', "commodity=~84.*")
    assert stored.silences({"team": 'a "b", c', "commodity": "8458"}, NOW)
    assert not stored.silences({"team": "a", "commodity": "8458"}, NOW)


def test_expired_silences_are_kept_for_the_retention_then_removed(silences: SilenceStore) -> None:
    then = NOW - 10 * 24 * HOUR
    kept = silences.add(["partner=RUS"], then, NOW - 4 * 24 * HOUR, "ana", "old", then)
    gone = silences.add(["partner=CHN"], then, NOW - 6 * 24 * HOUR, "ana", "older", then)
    assert silences.collect(NOW) == 1  # expired 6 days ago: past Alertmanager's 5-day retention
    assert [s.id for s in silences.all()] == [kept.id] and silences.get(gone.id) is None


def test_a_query_lists_silences_as_alertmanagers_api_filters_them(silences: SilenceStore) -> None:
    """The silence's matchers read as labels: `=`/`=~` need the label, `!=`/`!~` do not."""
    desk = silences.add(["team=desk", "partner=~R.*"], NOW, NOW + HOUR, "ana", "c", NOW)
    ops = silences.add(["team=ops"], NOW, NOW + HOUR, "ana", "c", NOW)
    cases = {
        "team=desk": [desk], "team=~d.*|o.*": [desk, ops], "team!=desk": [ops],
        "partner=~R.*": [desk],  # the silence's own regex text is the value read
        "partner!=RUS": [desk, ops], "severity=": [], "severity!~.+": [desk, ops],
    }
    for text, wanted in cases.items():
        query = parse_matchers(text)
        assert [s.id for s in silences.all() if s.answers(query)] == [s.id for s in wanted], text


def test_an_acknowledgement_ends_when_its_episode_resolves(silences: SilenceStore) -> None:
    """Only the acknowledged episode ends it; a plain silence of the same labels stays."""
    labels = ["alertname=decline", "series=a"]
    ack = silences.add(labels, NOW, NOW + 365 * 24 * HOUR, "ana", "from Slack: acknowledged", NOW,
                       acknowledges=("f1", 2))
    plain = silences.add(labels, NOW, NOW + 24 * HOUR, "ana", "from Slack: 30 days", NOW)
    assert silences.acknowledged(ack.id) and not silences.acknowledged(plain.id)
    assert silences.end_acknowledgements([("f1", 1), ("f2", 2)], NOW + HOUR) == []
    assert silences.end_acknowledgements([("f1", 2)], NOW + HOUR) == [ack.id]
    assert [s.id for s in silences.active(NOW + 2 * HOUR)] == [plain.id]
    assert silences.end_acknowledgements([("f1", 2)], NOW + 3 * HOUR) == []  # once
    assert silences.collect(NOW + 400 * 24 * HOUR) == 2 and not silences.acknowledged(ack.id)
