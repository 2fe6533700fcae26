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
