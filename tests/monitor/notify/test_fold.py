"""A child's alert folds into its parent's message only when the parent fires for the same
rule on the same release; a route may ask for every child's own message."""

from __future__ import annotations

from dataclasses import replace

from monitor.alerts.lifecycle import Status
from monitor.config import Route
from monitor.notify.inhibit import firing_keys as keys
from monitor.notify.inhibit import folded
from monitor.notify.routing import route
from tests.fakes.payloads import alert, payload

CHILD = replace(payload(rule="r", series="deu-rus/export/total", period="2022-03"),
                parent="eu27-rus/export/total")


def _parent(**kw: object) -> object:
    return alert(**{"rule": "r", "series": "eu27-rus/export/total", "period": "2022-03", **kw})


def test_folded_only_under_a_parent_firing_on_the_same_release() -> None:
    assert folded(CHILD, keys([_parent()]))  # type: ignore[list-item]
    assert not folded(CHILD, keys([_parent(period="2022-02")]))  # type: ignore[list-item]
    assert not folded(CHILD, keys([_parent(rule="other")]))  # type: ignore[list-item]
    assert not folded(CHILD, keys([_parent(status=Status.PENDING)]))  # type: ignore[list-item]
    assert not folded(replace(CHILD, parent=None), keys([_parent()]))  # type: ignore[list-item]
    assert not folded(CHILD.reminding("desk"), keys([_parent()]))  # type: ignore[list-item]


def test_routes_fold_by_default_and_a_child_route_may_opt_out() -> None:
    tree = Route.model_validate({"receiver": "desk", "routes": [
        {"match": {"team": "raw"}, "receiver": "raw", "fold_children": False},
        {"match": {"team": "policy"}, "receiver": "policy"}]})
    assert [d.fold_children for d in route(tree, {"team": "raw"})] == [False]
    assert [d.fold_children for d in route(tree, {"team": "policy"})] == [True]
    assert [d.fold_children for d in route(tree, {})] == [True]
