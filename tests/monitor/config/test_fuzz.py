"""Config fuzzing: the real example configs, mutated (hostile numbers and strings, random keys,
aliases, deep nesting, alias bombs, broken text), fed to the loader and to `tradewatch check`.
Nothing but ConfigError may escape, each document is judged within fifteen seconds (a bound
on a hang, not a speed target), and memory stays bounded."""

from __future__ import annotations

import contextlib
import io
import math
import resource
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.cli import main
from monitor.config import ConfigError, load_config
from tests.monitor.config.support import DEMO, ROOT

EXAMPLES = [DEMO, *sorted((ROOT / "config" / "examples").glob("*.yaml"))]
DOCUMENTS = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in EXAMPLES]
ENV = {"COMTRADE_BASE_URL": "http://127.0.0.1:9", "COMTRADE_KEY": "k", "TRADE_FEED_TOKEN": "t",
       "TRADEWATCH_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
SECONDS_PER_DOCUMENT = 15  # catches a hang (an alias bomb ran for minutes), not a speed target
MAX_RSS_GROWTH_MB = 300

HOSTILE_TEXT = [
    "99999999999d", "1e999s", "-1s", "0s", "0ms", "nan", ".inf", "-.inf", "365d", "366d", "1.5h",
    "a{9999999999}", "a{1000}", "(" * 50 + "a" + ")" * 50, "(" * 3000, "team=~a{99999}", "team=~(",
    "severity=~" + "(a|" * 40, "x=~.*", "a" * 2000, "", " ", "${UNSET}", "${UNSET:-5s}", "*/5 * * * *",
    "99 99 99 99 99", "2014-13", "demo://nothing", "\u202e\u0000", "<!channel>",
]
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 10**29, 2**63, -(2**63), 1e308, 5e-324]),
)
SCALARS = st.one_of(NUMBERS, st.sampled_from(HOSTILE_TEXT), st.text(max_size=20), st.booleans(), st.none())
KEYS = st.one_of(st.sampled_from(["kind", "name", "every", "timeout", "count", "window", "for",
                                  "matchers", "routes", "detector", "schedule", "retry", "cron"]),
                 st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


def _paths(node: Any) -> list[tuple[Any, ...]]:
    """Where a mutation may go: each object once (a bomb or a cycle is walked once), at most
    2,000 places."""
    found: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    todo: list[tuple[Any, tuple[Any, ...]]] = [(node, ())]
    while todo and len(found) < 2000:
        item, here = todo.pop()
        found.append(here)
        if id(item) in seen or len(here) > 20:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            todo.extend((value, (*here, key)) for key, value in item.items())
        elif isinstance(item, list):
            todo.extend((value, (*here, index)) for index, value in enumerate(item))
    return found[::-1]  # leaves first: hypothesis favours early choices, the root comes last


def _bomb(levels: int) -> list[Any]:
    """Nine references to the level below, `levels` times: dumped as aliases, never expanded."""
    node: list[Any] = ["lol"] * 9
    for _ in range(levels):
        node = [node] * 9
    return node


def _nested(depth: int, leaf: Any) -> Any:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"k": leaf}
    return leaf


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A YAML text: a real config, mutated a few times, dumped, perhaps broken as text."""
    doc = yaml.safe_load(yaml.safe_dump(draw(st.sampled_from(DOCUMENTS))))  # a fresh copy
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["value", "value", "value", "delete", "key", "alias", "deep", "bomb"]))
        if action == "value":
            new: Any = draw(VALUES)
        elif action == "alias":  # the same object twice: an anchor and an alias, or a cycle
            new = _get(doc, draw(st.sampled_from(paths)))
        elif action == "deep":
            new = _nested(draw(st.integers(1, 200)), draw(SCALARS))
        elif action == "bomb":
            new = _bomb(draw(st.integers(1, 9)))
        else:
            new = None
        doc = _put(doc, path, new, action, draw(KEYS))
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    except (yaml.YAMLError, RecursionError):
        text = "sources: &a [*a]\n"
    breakage = draw(st.sampled_from(["none", "none", "none", "insert", "truncate"]))
    at = draw(st.integers(0, len(text)))
    if breakage == "insert":
        text = text[:at] + draw(st.text(max_size=6)) + text[at:]
    elif breakage == "truncate":
        text = text[:at]
    return text


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _put(doc: Any, path: tuple[Any, ...], new: Any, action: str, key: Any) -> Any:
    if not path:
        return new if action not in ("delete", "key") else doc
    parent = _get(doc, path[:-1])
    if action == "delete":
        del parent[path[-1]]
    elif action == "key" and isinstance(parent, dict):
        parent[key] = parent.pop(path[-1])
    elif action != "key":
        parent[path[-1]] = new
    return doc


class _TookTooLong(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """SIGALRM after `seconds`; the timer and handler before it (pytest-timeout's) put back."""
    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise _TookTooLong(f"over {seconds}s")

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


@pytest.fixture(scope="module", autouse=True)
def _memory_cap() -> Iterator[None]:
    """Address space capped at what the process has plus 2 GiB: a blow-up is a MemoryError
    in this test, not the machine's memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm", encoding="ascii") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    cap = size + 2 * 1024**3
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module", autouse=True)
def _env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        yield


def test_the_examples_load_before_mutation() -> None:
    for path in EXAMPLES:
        load_config(path, env=ENV)


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=documents())
def test_mutated_configs_only_ever_raise_config_error(workdir: Path, text: str) -> None:
    path = workdir / "tradewatch.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = _rss_mb()
    valid = True
    started = time.monotonic()
    with _deadline(SECONDS_PER_DOCUMENT):
        try:
            load_config(path, env=ENV)
        except ConfigError as exc:
            valid = False
            assert exc.problems and all(str(p) for p in exc.problems)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "--config", str(path), "--log-level", "error"])
    elapsed = time.monotonic() - started  # also when the alarm went off where it was swallowed
    assert elapsed < SECONDS_PER_DOCUMENT, f"took {elapsed:.1f}s"
    assert code == (0 if valid else 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    if not valid:
        lines = err.getvalue().splitlines()
        assert lines[0] == "tradewatch: invalid config"
        assert all(line.startswith(str(path)) for line in lines[1:]), lines
    growth = _rss_mb() - before
    assert math.isfinite(growth) and growth < MAX_RSS_GROWTH_MB, f"max RSS grew {growth:.0f} MB"
