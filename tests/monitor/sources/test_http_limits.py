"""A source's answer is capped (`max_response_bytes`): refused from its Content-Length, or
while it streams in when it has none, with reason too_large and no retry."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import ConfigError, HttpJsonSource, load_config
from monitor.sources.base import SourceError
from monitor.sources.http_json import HttpJsonSource as HttpJsonSourceReader
from tests.monitor.httpserver import LocalServer, Reply

CAP = 100_000
JUNK = b"x" * (10 * 1024 * 1024)
FEED = json.dumps([{"period": "2025-06", "value": 1.5}]).encode()


def source(url: str, **fields: object) -> HttpJsonSourceReader:
    config = HttpJsonSource.model_validate({
        "kind": "http_json", "name": "desk_feed", "url": url, "timeout": "5s",
        "retry": {"attempts": 3, "backoff": "10ms", "max_backoff": "10ms", "deadline": "10s"},
        "params": {"token": "tok-123456"}, **fields})
    return HttpJsonSourceReader(config)


def failure(reader: HttpJsonSourceReader) -> SourceError:
    with pytest.raises(SourceError) as caught:
        reader.fetch()
    return caught.value


@pytest.fixture
def unsized_server() -> Iterator[str]:
    """Answers with a body of unknown length (no Content-Length, until the socket closes),
    as a streaming or misbehaving publisher does; counts the bytes it managed to send."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.recv(65536)
                try:
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")
                    for _ in range(1000):  # up to 64 MB, far more than any cap below
                        conn.sendall(b"y" * 65536)
                except OSError:
                    pass  # the client hung up: what a cap should make it do

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
    stop.set()
    thread.join(5)
    listener.close()


def test_the_default_cap_is_generous_and_ordinary_answers_pass(local_server: LocalServer) -> None:
    from monitor.config import DEFAULT_MAX_RESPONSE_BYTES

    assert DEFAULT_MAX_RESPONSE_BYTES == 256 * 1024 * 1024
    local_server.route("/feed", Reply(200, FEED))
    reader = source(f"{local_server.url}/feed")
    assert reader.config.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
    assert len(reader.fetch().frame) == 1
    assert len(source(f"{local_server.url}/feed", max_response_bytes=len(FEED)).fetch().frame) == 1


def test_an_answer_announcing_more_than_the_cap_is_refused_unread(local_server: LocalServer) -> None:
    local_server.route("/feed", Reply(200, JUNK, {"Content-Type": "application/json"}))
    error = failure(source(f"{local_server.url}/feed", max_response_bytes=CAP))
    assert error.reason == "too_large"
    assert str(error) == (f"source 'desk_feed': {local_server.url}/feed?token=*** announced "
                          f"10,485,760 bytes, more than the cap of 100,000 bytes (max_response_bytes)")
    assert len(local_server.to("/feed")) == 1  # the same answer would come again: no retry


def test_an_answer_without_a_length_is_cut_off_at_the_cap(unsized_server: str) -> None:
    error = failure(source(unsized_server, max_response_bytes=CAP))
    assert error.reason == "too_large"
    assert "sent more than the cap of 100,000 bytes (max_response_bytes)" in str(error)
    assert "desk_feed" in str(error) and "token=***" in str(error)


def test_the_cap_counts_decompressed_bytes(local_server: LocalServer) -> None:
    bomb = gzip.compress(JUNK)  # about 10 KB on the wire, 10 MB once read
    assert len(bomb) < CAP
    local_server.route("/feed", Reply(200, bomb, {"Content-Encoding": "gzip"}))
    assert failure(source(f"{local_server.url}/feed", max_response_bytes=CAP)).reason == "too_large"


def test_max_response_bytes_is_a_key_of_every_source_kind(tmp_path: Path) -> None:
    path = tmp_path / "tw.yaml"
    path.write_text("sources:\n  - {name: a, kind: file, path: a.csv, value_column: v, "
                    "max_response_bytes: 1048576}\n"
                    "  - {name: b, kind: sdmx, provider: ECB, dataflow: EXR, max_response_bytes: 0}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert problem.path == "sources[1].max_response_bytes" and "greater than or equal to 1" in problem.message
