"""Takeover times and publication-to-Slack latency of two replicas on one PostgreSQL store,
the active one SIGKILLed at random moments (the scenario of tests/test_ha.py, with the
default `ha.takeover_within` of 30 s unless told otherwise).

    PYTHONPATH=. python bench/takeover.py [--kills 20] [--takeover 30s] [--seed N]

Needs PostgreSQL's server binaries (initdb, pg_ctl; Debian's `postgresql`). Prints each
kill as it happens, then the takeover times (SIGKILL to the standby answering /-/leader
with 200: min, median, max, against the bound) and the latency from a month's publication
on the source to the Slack post of each new alert episode (p50, p90, max), split into months
with a kill and months without. The source is polled every second, so a second of each
latency is the poll interval; a month with a kill waits for the takeover as well.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import parse_duration  # noqa: E402
from tests import ha_scenario  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402
from tests.postgres import PostgresServer, _free_port, server_binaries  # noqa: E402
from tests.test_chaos import exactly_once  # noqa: E402


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--takeover", default="30s", help="ha.takeover_within (default 30s)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    bindir = server_binaries()
    if bindir is None:
        print("PostgreSQL server binaries (initdb, pg_ctl) not found", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    bound = parse_duration(args.takeover).total_seconds()
    home = Path(tempfile.mkdtemp(prefix="tradewatch-bench-pg-"))
    home.chmod(0o700)
    work = Path(tempfile.mkdtemp(prefix="tradewatch-bench-ha-"))
    server = PostgresServer(bindir, home, _free_port())
    began = time.monotonic()
    try:
        server.start()
        with FakeSlack(latency=0.02) as slack, (work / "replicas.log").open("a") as log:
            outcome = ha_scenario.run(
                server.create_database(), work, slack, log, args.kills, args.takeover, random.Random(seed),
                os.environ, progress=lambda line: print(f"{time.monotonic() - began:7.1f}s {line}",
                                                        flush=True))
            counts = exactly_once(slack, outcome.expected)
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    takeovers = outcome.takeovers
    print(f"\nseed {seed}, takeover_within {args.takeover} (lease {bound * 2 / 3:g} s, tried every "
          f"{bound / 6:g} s), {outcome.kills} kills ({outcome.while_delivering} while delivering), "
          f"{time.monotonic() - began:.0f} s in all")
    print("exactly once: " + " ".join(f"{k}={v}" for k, v in counts.items()))
    print(f"takeover s: min {min(takeovers):.2f}  median {statistics.median(takeovers):.2f}  "
          f"max {max(takeovers):.2f}  (bound {bound:g}; max/bound {max(takeovers) / bound:.2f})")
    for label, chosen in (("all months", outcome.latencies),
                          ("months with a kill", [x for x in outcome.latencies if x[1]]),
                          ("months without", [x for x in outcome.latencies if not x[1]])):
        latencies = [seconds for seconds, _ in chosen]
        if latencies:
            print(f"publication to Slack s, {label} ({len(latencies)} episodes): "
                  f"p50 {quantile(latencies, 0.5):.2f}  p90 {quantile(latencies, 0.9):.2f}  "
                  f"max {max(latencies):.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
