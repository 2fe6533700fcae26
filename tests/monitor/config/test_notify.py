"""Notification models: receivers and the routing tree."""

from __future__ import annotations

from pathlib import Path

from tests.monitor.config.support import errors, write


def test_unknown_key_deep_in_the_routing_tree(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          route:
            receiver: console
            routes:
              - receiver: console
                matchs: {severity: critical}
    """)
    assert errors(path) == [
        f"{path}:6: notify.route.routes[0].matchs: unknown key 'matchs' (did you mean 'match'?)"]


def test_receiver_needs_exactly_one_kind(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          receivers:
            - name: x
              console: {}
              webhook: {url: "http://127.0.0.1:1/hook"}
          route: {receiver: x}
    """)
    assert errors(path) == [
        f"{path}:3: notify.receivers[0]: give exactly one receiver kind: console, webhook, slack, "
        "slack_webhook or alertmanager (got console and webhook)"
    ]
