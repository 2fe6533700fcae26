"""How long the CLI takes to answer, against the interpreter doing nothing, in one run.

    PYTHONPATH=. python bench/cli.py [--repeat 5]

Prints the median wall time of `python -c pass`, `tradewatch --help` and `tradewatch check`
on the demo config, and each as a ratio of the first. Targets on a small machine: --help
under 0.3 s, check under 1 s (neither imports pandas, numpy, scipy, ruptures or SQLAlchemy).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "tradewatch --help": [sys.executable, "-m", "monitor", "--help"],
    "tradewatch check": [sys.executable, "-m", "monitor", "check", "--config",
                         str(ROOT / "config" / "tradewatch.yaml")],
}


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(repeat):  # interleaved, so a busy moment hits every case alike
        for name, command in CASES.items():
            times[name].append(_time(command))
    base = statistics.median(times["python -c pass"])
    print(f"{'command':20}  {'median s':>8}  {'min s':>6}  {'max s':>6}  {'x pass':>6}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:20}  {median:8.3f}  {min(samples):6.3f}  {max(samples):6.3f}  {median / base:6.1f}")


if __name__ == "__main__":
    main()
