from __future__ import annotations

import pytest

from monitor.config import Route
from monitor.notify.routing import Destination, repeats, route

TREE = Route.model_validate({
    "receiver": "policy-desk",
    "group_by": ["alertname"],
    "routes": [
        {"match": {"severity": "critical"}, "receiver": "ops", "continue": True},
        {"match": {"team": "energy"}, "receiver": "energy-desk", "group_by": ["series"]},
        {"match": {"team": "policy"}, "routes": [
            {"match": {"partner": "RUS"}, "receiver": "russia-desk"},
        ]},
    ],
})


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, ["policy-desk"]),
        ({"severity": "warning"}, ["policy-desk"]),
        # As in Alertmanager: a matching child takes the alert from its parent, even with
        # `continue` (which only lets later siblings match too).
        ({"severity": "critical"}, ["ops"]),
        ({"severity": "critical", "team": "energy"}, ["ops", "energy-desk"]),
        ({"team": "energy"}, ["energy-desk"]),
        ({"team": "policy", "partner": "RUS"}, ["russia-desk"]),
        ({"team": "policy", "partner": "CHN"}, ["policy-desk"]),
        ({"severity": "critical", "team": "policy", "partner": "RUS"}, ["ops", "russia-desk"]),
    ],
)
def test_route_table(labels: dict[str, str], expected: list[str]) -> None:
    assert [d.receiver for d in route(TREE, labels)] == expected


def test_children_inherit_group_by_unless_they_set_it() -> None:
    assert route(TREE, {"team": "energy"}) == [Destination("energy-desk", ("series",))]
    assert route(TREE, {"team": "policy", "partner": "RUS"}) == [
        Destination("russia-desk", ("alertname",))]


def test_repeats_finds_a_repeat_interval_anywhere_in_the_tree() -> None:
    assert not repeats(TREE)
    nested = Route.model_validate({"receiver": "desk", "routes": [
        {"match": {"team": "policy"}, "routes": [{"receiver": "ru", "repeat_interval": "24h"}]}]})
    assert repeats(nested)
    assert repeats(Route.model_validate({"receiver": "desk", "repeat_interval": "7d"}))
