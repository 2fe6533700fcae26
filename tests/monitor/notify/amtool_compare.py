"""Random routing trees and label sets, answered by `amtool config routes` and by tradewatch.

Run by hand for the figures (`python -m tests.monitor.notify.amtool_compare [seed] [trees]`);
`test_amtool_agreement.py` runs it with a fixed seed. The syntax is the part both tools
document alike: quoted ASCII values and simple regexes (alternation, `.*`, classes)."""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.config import Route
from monitor.notify.routes_text import receivers_slug, show_tree

NAMES = ("a", "b", "c")
VALUES = ("x", "y", "z")
REGEXES = ("x|y", ".*", "[xy]", "z.*", "x", "y|z|", "[a-z]+", ".+")
RECEIVERS = ("r1", "r2", "r3", "r4")


@dataclass
class Report:
    """Cases compared and the ones where the two tools disagree."""

    trees: int = 0
    cases: int = 0
    agreed: int = 0
    shows: int = 0
    shows_agreed: int = 0
    differences: list[str] = field(default_factory=list)


def _matchers(rng: random.Random) -> dict[str, Any]:
    node: dict[str, Any] = {}
    kind = rng.choice(("none", "match", "match_re", "matchers", "matchers", "mixed"))
    if kind in ("match", "mixed"):
        node["match"] = {rng.choice(NAMES): rng.choice(VALUES) for _ in range(rng.randint(1, 2))}
    if kind in ("match_re", "mixed"):
        node["match_re"] = {rng.choice(NAMES): rng.choice(REGEXES) for _ in range(rng.randint(1, 2))}
    if kind in ("matchers", "mixed"):
        found = []
        for _ in range(rng.randint(1, 2)):
            op = rng.choice(("=", "!=", "=~", "!~"))
            value = rng.choice(REGEXES) if "~" in op else rng.choice((*VALUES, ""))
            found.append(f'{rng.choice(NAMES)}{op}"{value}"')
        node["matchers"] = found
    return node


def random_route(rng: random.Random, depth: int, max_depth: int) -> dict[str, Any]:
    """A node below the root: matchers, maybe a receiver, `continue`, `group_by`, children."""
    node = _matchers(rng)
    if rng.random() < 0.5:
        node["receiver"] = rng.choice(RECEIVERS)
    if rng.random() < 0.4:
        node["continue"] = True
    elif rng.random() < 0.2:
        node["continue"] = False
    if rng.random() < 0.2:
        node["group_by"] = rng.choice((["..."], ["a"], ["a", "b"]))
    if depth < max_depth and rng.random() < 0.6:
        node["routes"] = [random_route(rng, depth + 1, max_depth) for _ in range(rng.randint(1, 3))]
    return node


def random_tree(rng: random.Random) -> dict[str, Any]:
    """A root (a receiver, no matchers, no `continue`, as Alertmanager requires) over 1-4 routes."""
    max_depth = rng.randint(1, 4)
    root: dict[str, Any] = {"receiver": rng.choice(RECEIVERS),
                            "routes": [random_route(rng, 1, max_depth) for _ in range(rng.randint(1, 4))]}
    if rng.random() < 0.3:
        root["group_by"] = rng.choice((["..."], ["c"]))
    return root


def random_labels(rng: random.Random) -> dict[str, str]:
    return {name: rng.choice((*VALUES, "xy", "q")) for name in NAMES if rng.random() < 0.6}


def _amtool(amtool: str, args: list[str]) -> str:
    done = subprocess.run([amtool, "config", "routes", *args], capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"amtool {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def compare(amtool: str, seed: int = 20250101, trees: int = 150, labelsets: int = 10,
            workers: int = 2) -> Report:
    """`trees` random trees, `labelsets` label sets each (plus none): amtool's answer against
    tradewatch's, and each tree's `routes show` text."""
    rng = random.Random(seed)
    report = Report()
    jobs: list[tuple[str, Route, dict[str, str] | None, list[str]]] = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(trees):
            tree = random_tree(rng)
            path = Path(folder) / f"tree{index}.yml"
            receivers = [{"name": name} for name in RECEIVERS]
            path.write_text(yaml.safe_dump({"route": tree, "receivers": receivers}))
            model = Route.model_validate(tree)
            config = f"--config.file={path}"
            jobs.append((str(path), model, None, ["show", config]))
            for labels in [{}] + [random_labels(rng) for _ in range(labelsets)]:
                args = ["test", config] + [f"{k}={v}" for k, v in labels.items()]
                jobs.append((str(path), model, labels, args))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            answers = list(pool.map(lambda job: _amtool(amtool, job[3]), jobs))
        report.trees = trees
        for (path, model, labels, _args), answer in zip(jobs, answers, strict=True):
            if labels is None:
                ours = show_tree(model)
                report.shows += 1
                report.shows_agreed += ours == answer
            else:
                ours = receivers_slug(model, labels) + "\n"
                report.cases += 1
                report.agreed += ours == answer
            if ours != answer:
                text = Path(path).read_text()
                report.differences.append(f"labels {labels}: amtool {answer!r}, tradewatch {ours!r}\n{text}")
    return report


if __name__ == "__main__":
    import shutil

    found = shutil.which("amtool")
    if found is None:
        sys.exit("amtool is not installed")
    result = compare(found, *(int(arg) for arg in sys.argv[1:3]))
    print(f"{result.trees} trees, {result.cases} cases: {result.agreed} agreed "
          f"({100 * result.agreed / max(result.cases, 1):.2f}%); routes show: "
          f"{result.shows_agreed}/{result.shows}")
    for difference in result.differences[:5]:
        print(difference)
