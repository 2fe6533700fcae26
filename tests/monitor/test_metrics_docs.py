"""docs/metrics.md's reference is what the generator writes, and names every family a daemon
exports, no more and no fewer."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from monitor.app import App
from monitor.config import load_config
from monitor.metrics_docs import BEGIN, DOC, END, families, main, render, rewrite
from tests.conftest import REPO
from tests.deploy.support import documented_metrics
from tests.monitor.test_metrics import CONFIG, EU_CSV, scrape

_TYPE = re.compile(r"^# TYPE (tradewatch_\w+) (\w+)$", re.MULTILINE)


def test_the_committed_reference_is_what_the_generator_writes() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert rewrite(current, render(families())) == current, "run: python -m monitor.metrics_docs"
    assert main(["--check"]) == 0


def test_every_exported_family_is_documented_and_every_documented_one_exported(
    write_config: Callable[..., Path], russia_china_csv: Path, tmp_path: Path
) -> None:
    (tmp_path / "eu.csv").write_text(EU_CSV)
    app = App(load_config(write_config(CONFIG)))
    app.run_once()
    text = scrape(app)
    app.store.close()
    exported = dict(_TYPE.findall(text))
    documented = {f.name: f.type for f in families()}
    assert exported == documented
    assert set(exported) <= documented_metrics()  # what the deploy tests read from the Markdown
    assert "_created" not in text


def test_check_fails_on_a_stale_reference_and_a_write_fixes_it(tmp_path: Path) -> None:
    doc = tmp_path / "metrics.md"
    current = DOC.read_text(encoding="utf-8")
    stale = current.replace("| `tradewatch_source_up` |", "| `tradewatch_source_upp` |")
    doc.write_text(stale, encoding="utf-8")
    assert main(["--check", "--file", str(doc)]) == 1
    assert main(["--file", str(doc)]) == 0
    assert doc.read_text(encoding="utf-8") == current
    doc.write_text(current.replace(BEGIN, "").replace(END, ""), encoding="utf-8")
    assert main(["--check", "--file", str(doc)]) == 2


def test_runs_as_a_module() -> None:
    result = subprocess.run([sys.executable, "-m", "monitor.metrics_docs", "--check"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
