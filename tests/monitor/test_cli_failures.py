"""No traceback reaches a user: bad arguments, paths, listen addresses and stores end as
one line and a documented exit code (0 ok, 1 runtime, 2 usage or config)."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import cli

DEMO = Path(__file__).resolve().parents[2] / "config" / "tradewatch.yaml"
EXIT_CODES = {0, 1, 2}


def _call(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO("")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = stdin
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("configs")
    (root / "garbage.yaml").write_text("sources: [\n  {: :\n")
    (root / "empty.yaml").write_text("")
    bad_store = root / "bad-store.yaml"
    bad_store.write_text(f"store: {{path: /proc/no-such-dir/x/tw.db}}\n{_without_store(DEMO)}")
    missing_store = root / "missing-store.yaml"
    missing_store.write_text(f"store: {{path: {root}/nothing/tw.db}}\n{_without_store(DEMO)}")
    return [str(root / "garbage.yaml"), str(root / "empty.yaml"), str(bad_store), str(missing_store),
            str(root / "absent.yaml"), str(root)]


def _without_store(path: Path) -> str:
    lines = path.read_text().splitlines()
    out, skipping = [], False
    for line in lines:
        if line.startswith("store:"):
            skipping = True
            continue
        if skipping and line.startswith((" ", "#")):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + "\n"


COMMANDS = [["run"], ["once"], ["check"], ["alerts"], ["config", "schema"], ["silence", "list"],
            ["silence", "expire", "nope"], ["routes", "show"], ["routes", "test"], ["inhibit", "test"],
            ["backtest"], ["detect", "threshold"], ["detect", "changepoint"], ["detect", "nope"],
            ["bogus"], []]
LISTEN = st.sampled_from([":", ":0x", "localhost", "[::1]", "[::1]:", "::1:80", "[]:1", "a:b:c",
                          "host:99999", " :80", "[host]:80", "127.0.0.1:-1", ""])
WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=12)
FLAGS = st.sampled_from(["--format", "--all", "--from", "--to", "--rule", "--set", "--param",
                         "--input", "--transform", "--log-level", "--tolerance", "--data", "-m",
                         "--matcher", "--verify.receivers", "--tree", "--details", "--nope"])


@st.composite
def argvs(draw: st.DrawFn, configs: list[str]) -> list[str]:
    argv = list(draw(st.sampled_from(COMMANDS)))
    if argv and argv[0] not in ("detect", "bogus", "config"):
        argv += ["--config", draw(st.sampled_from(configs))]
    if argv[:1] == ["run"]:
        argv += ["--listen", draw(LISTEN)]
    for _ in range(draw(st.integers(0, 3))):
        argv.append(draw(FLAGS))
        if draw(st.booleans()):
            argv.append(draw(st.one_of(WORDS, st.sampled_from(configs), LISTEN)))
    return argv


@settings(max_examples=200, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_bad_arguments_never_show_a_traceback(configs: list[str], data: st.DataObject) -> None:
    argv = data.draw(argvs(configs))
    code, text = _call(argv)
    assert "Traceback" not in text, (argv, text)
    assert code in EXIT_CODES, (argv, code, text)


@pytest.mark.parametrize("listen", ["localhost", "[::1]", "::1:80", "host:http"])
def test_bad_listen_is_one_line_exit_2(configs: list[str], listen: str) -> None:
    code, text = _call(["run", "--config", str(DEMO), "--listen", listen])
    assert code == 2
    assert text.startswith("tradewatch: invalid listen address") and text.count("\n") == 1


def test_store_directory_that_cannot_be_created_is_named(configs: list[str]) -> None:
    code, text = _call(["once", "--config", configs[2]])
    assert (code, text) == (1, "tradewatch: cannot create the store directory /proc/no-such-dir/x: "
                               "No such file or directory\n")


@pytest.mark.parametrize("command", [["alerts"], ["silence", "list"], ["inhibit", "test", "a=b"]])
def test_readers_never_create_a_store(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"store: {{path: {tmp_path}/nothing/tw.db}}\n{_without_store(DEMO)}")
    code, text = _call([*command, "--config", str(config)])
    assert code == 1 and text.startswith("tradewatch: no store at ") and "run the daemon first" in text
    assert not (tmp_path / "nothing").exists()


def test_unexpected_error_is_one_line_and_a_trace_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_argv: object) -> int:
        raise RuntimeError("something broke")

    monkeypatch.setattr(cli, "_main", boom)
    code, text = _call(["check"])
    assert code == 1 and text.count("\n") == 1 and "Traceback" not in text
    assert text.startswith("tradewatch: unexpected error: RuntimeError: something broke (full trace in ")
    trace = Path(text.split("full trace in ", 1)[1].split(";", 1)[0])
    assert "Traceback" in trace.read_text()
    trace.unlink()
    code, text = _call(["check", "--debug"])
    assert code == 1 and "Traceback" in text
