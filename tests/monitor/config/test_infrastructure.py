"""Store, HTTP, metrics and detection settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import parse_listen
from tests.monitor.config.support import errors, write


def test_bad_listen_address(tmp_path: Path) -> None:
    path = write(tmp_path, "http: {listen: nowhere}\n")
    assert errors(path) == [
        f"{path}:1: http.listen: invalid listen address 'nowhere': "
        "no port; use HOST:PORT, :PORT or [IPv6]:PORT, e.g. 127.0.0.1:9470"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:9470", ("127.0.0.1", 9470)), ("0.0.0.0:0", ("0.0.0.0", 0)),
     ("[::1]:80", ("::1", 80)), ("localhost:65535", ("localhost", 65535)), (":9470", ("", 9470)),
     ("[::]:0", ("::", 0))],
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["nowhere", "localhost", "host:", "host:http", "host:65536", "::1:80",
                                   "[::1]", "[]:80", "[host]:80", " :80", "host:٣"])
def test_parse_listen_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="invalid listen address"):
        parse_listen(value)


def test_replicas_take_over_within_30s_by_default_with_a_lease_of_two_thirds() -> None:
    from monitor.config import Config

    ha = Config().ha
    assert (ha.takeover_within.total_seconds(), ha.lease_seconds, ha.renew_seconds) == (30, 20, 5)
    quick = Config.model_validate({"ha": {"takeover_within": "6s", "replica": "tw-0"}}).ha
    assert (quick.lease_seconds, quick.renew_seconds, quick.replica) == (4, 1, "tw-0")


def test_a_takeover_bound_too_short_to_renew_in_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "ha: {takeover_within: 1s}\n")
    [problem] = errors(path)
    assert problem.startswith(f"{path}:1: ha.takeover_within: ") and "at least 3s" in problem
