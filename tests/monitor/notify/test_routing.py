from __future__ import annotations

from datetime import timedelta

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
    assert route(TREE, {"team": "energy"}) == [Destination("energy-desk", ("series",), path=(1,))]
    assert route(TREE, {"team": "policy", "partner": "RUS"}) == [
        Destination("russia-desk", ("alertname",), path=(2, 0))]


def test_repeats_finds_a_repeat_interval_anywhere_in_the_tree() -> None:
    assert not repeats(TREE)
    nested = Route.model_validate({"receiver": "desk", "routes": [
        {"match": {"team": "policy"}, "routes": [{"receiver": "ru", "repeat_interval": "24h"}]}]})
    assert repeats(nested)
    assert repeats(Route.model_validate({"receiver": "desk", "repeat_interval": "7d"}))


def tree(text: str) -> Route:
    import yaml

    return Route.model_validate(yaml.safe_load(text))


CONTINUE_TREE = tree("""
    receiver: r1
    group_by: [alertname]
    group_wait: 30s
    routes:
      - {continue: true}
      - {}
      - {receiver: r2}
""")


def test_every_matching_route_is_a_destination_repeats_included() -> None:
    # amtool config routes test prints r1,r1 for this tree
    found = route(CONTINUE_TREE, {})
    assert [d.receiver for d in found] == ["r1", "r1"]
    assert [d.node for d in found] == ["r1@0", "r1@1"]


def test_a_matching_child_without_continue_stops_the_search_among_its_siblings() -> None:
    found = route(tree("""
        receiver: r1
        routes:
          - {matchers: [team=a], receiver: r2}
          - {receiver: r3}
          - {receiver: r4}
    """), {"team": "a"})
    assert [d.node for d in found] == ["r2@0"]


def test_a_child_that_matches_takes_the_alert_from_its_parent_even_with_continue() -> None:
    found = route(tree("""
        receiver: r1
        routes:
          - {matchers: [team=a], receiver: r2, continue: true}
          - {matchers: [team=b], receiver: r3}
    """), {"team": "a"})
    assert [d.node for d in found] == ["r2@0"]


def test_the_root_is_the_destination_when_no_child_matches() -> None:
    found = route(CONTINUE_TREE.model_copy(update={"routes": []}), {"x": "y"})
    assert [d.node for d in found] == ["r1@root"]


@pytest.mark.parametrize(
    ("child", "expected"),
    [
        ("{}", Destination("r1", ("alertname",), timedelta(seconds=30), path=(0,))),
        ("{receiver: r2, group_by: [series]}",
         Destination("r2", ("series",), timedelta(seconds=30), path=(0,))),
        ("{group_by: ['...']}",
         Destination("r1", (), timedelta(seconds=30), group_by_all=True, path=(0,))),
        ("{group_wait: 1m, group_interval: 5m, repeat_interval: 4h}",
         Destination("r1", ("alertname",), timedelta(minutes=1), timedelta(hours=4),
                     group_interval=timedelta(minutes=5), path=(0,))),
        ("{digest_over: 2}",
         Destination("r1", ("alertname",), timedelta(seconds=30), digest_over=2, path=(0,))),
    ],
)
def test_a_child_inherits_what_it_does_not_set(child: str, expected: Destination) -> None:
    import yaml

    parent = tree("{receiver: r1, group_by: [alertname], group_wait: 30s}")
    node = parent.model_copy(update={"routes": [Route.model_validate(yaml.safe_load(child))]})
    assert route(node, {}) == [expected]


def test_settings_set_below_a_node_pass_to_its_children() -> None:
    found = route(tree("""
        receiver: r1
        routes:
          - group_by: ['...']
            repeat_interval: 2h
            routes: [{receiver: r2}]
    """), {"b": "2", "a": "1"})
    assert found == [Destination("r2", (), repeat_interval=timedelta(hours=2), group_by_all=True,
                                 path=(0, 0))]
    assert found[0].group_key({"b": "2", "a": "1"}) == ("a=1", "b=2")
    assert found[0].group_labels({"b": "2", "a": "1"}) == {"a": "1", "b": "2"}


def test_delivery_keys_are_the_receiver_unless_it_repeats() -> None:
    from monitor.notify.grouping import delivered, delivery_keys

    found = route(CONTINUE_TREE.model_copy(update={"routes": [
        *CONTINUE_TREE.routes[:1], Route(receiver="r2", continue_=True), *CONTINUE_TREE.routes[1:]]}), {})
    assert delivery_keys(found) == ["r1@0", "r2", "r1@2"]
    # a delivery recorded under the plain name (before routes were told apart) counts for both
    assert delivered("r1@0", "r1", {"r1"}) and delivered("r1@2", "r1", {"r1"})
    assert not delivered("r1@2", "r1", {"r1@0"})
    assert delivered("r1", "r1", {"r1@2"})
