"""The routing tree in `amtool config routes` words, byte for byte, so the two tools' answers
can be compared (and scripts written for one read the other)."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.config import Route
from monitor.matchers import Matcher, matches_all, parse_matcher
from monitor.notify.routing import Destination, child_destination, nodes, root_destination, route

_OP_ORDER = {"=": 0, "!=": 1, "=~": 2, "!~": 3}  # Alertmanager's MatchType order
_MID, _END, _LINK, _GAP = "├── ", "└── ", "│\u00a0\u00a0 ", "    "  # xlab/treeprint's edges


def receivers_slug(tree: Route, labels: Mapping[str, str]) -> str:
    """What `amtool config routes test` prints: every matching node's receiver, in order."""
    return ",".join(d.receiver for d in route(tree, labels))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"') + '"'


def matchers_text(node: Route) -> str:
    """A node's matchers as Alertmanager prints them: sorted by name, value, then operator;
    a `match_re` regex shown anchored, as Alertmanager stores it; `default-route` for none."""
    found = ([Matcher(k, "=", v) for k, v in node.match.items()]
             + [Matcher(k, "=~", f"^(?:{v})$") for k, v in node.match_re.items()]
             + [parse_matcher(text) for text in node.matchers])
    if not found:
        return "default-route"
    found.sort(key=lambda m: (m.name, m.value, _OP_ORDER[m.op]))
    return "{" + ",".join(f"{m.name}{m.op}{_quote(m.value)}" for m in found) + "}"


def _slug(node: Route, here: Destination, show_continue: bool, show_receiver: bool) -> str:
    text = matchers_text(node)
    if node.continue_ and show_continue:
        text += "  continue: true"
    return text + (f"  receiver: {here.receiver}" if show_receiver else "")


def _render(rows: list[tuple[int, str]]) -> str:
    """treeprint's layout of (depth, text) rows given depth first, under a `.` root."""
    lines = ["."]
    for index, (depth, text) in enumerate(rows):
        prefix = ""
        for level in range(depth + 1):
            later = [d for d, _ in rows[index + 1:] if d <= level]
            last = not later or later[0] < level
            if level == depth:
                prefix += _END if last else _MID
            else:
                prefix += _GAP if last else _LINK
        lines.append(prefix + text)
    return "\n".join(lines) + "\n"


def show_tree(tree: Route) -> str:
    """`amtool config routes show`: the whole tree, each node's receiver and `continue`."""
    rows = [(depth, _slug(node, here, True, True)) for node, here, depth in nodes(tree)]
    return "Routing tree:\n" + _render(rows) + "\n"


def matching_tree(tree: Route, labels: Mapping[str, str]) -> str:
    """`amtool config routes test --tree`: the nodes the labels pass through, receivers on
    the ones that are destinations."""
    rows: list[tuple[int, str]] = []

    def visit(node: Route, here: Destination, depth: int) -> None:
        row = len(rows)
        rows.append((depth, _slug(node, here, False, False)))
        final = True
        for index, child in enumerate(node.routes):
            if matches_all(child.all_matchers(), labels):
                visit(child, child_destination(here, index, child), depth + 1)
                final = False
                if not child.continue_:
                    break
        if final:
            rows[row] = (depth, _slug(node, here, False, True))

    visit(tree, root_destination(tree), 0)
    return "Matching routes:\n" + _render(rows) + "\n\n"
