"""Hierarchies on hand-made watch lists: HS codes nest by prefix, declared groups by their
members, and a parent's contributors are exactly its children's share of its change."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from monitor.config import ConfigError, Hierarchy, Rule, load_config
from monitor.drill import Drilled
from monitor.hierarchy import Tree, hs_parent
from monitor.store import SeriesInfo

BASE = {"reporter": "CHN", "partner": "RUS", "flow": "export", "unit": "USD", "source": "gacc"}
HS = Tree.of(Hierarchy(name="hs", label="commodity", kind="hs"))  # type: ignore[arg-type]
RULE = Rule.model_validate({"name": "r", "transform": {"kind": "yoy_pct"}, "select": {"partner": "RUS"},
                            "detector": {"kind": "threshold", "direction": "below", "threshold": -20},
                            "drill": "hs"})


def _infos(codes: Sequence[str], **extra: str) -> dict[str, SeriesInfo]:
    return {f"chn-rus/export/{c.lower()}": SeriesInfo(f"chn-rus/export/{c.lower()}", "M",
                                                       {**BASE, **extra, "commodity": c}) for c in codes}


def test_hs_codes_nest_under_the_nearest_watched_prefix() -> None:
    assert [hs_parent(c) for c in ("845811", "8458", "84", "TOTAL")] == ["8458", "84", "TOTAL", None]
    present = {"TOTAL", "84", "8458", "845811", "845819", "8456", "846011"}
    assert HS.children_of("TOTAL", present) == (["84"], [])
    assert HS.children_of("84", present) == (["8456", "8458", "846011"], [])  # 8460 is not watched
    assert HS.children_of("8458", present) == (["845811", "845819"], [])
    assert HS.parent_of("846011", present) == "84" and HS.parent_of("TOTAL", present) is None
    assert HS.nest(present)["84"] == (["8456", "8458", "846011"], [])


def test_groups_normalise_their_members_and_name_the_absent() -> None:
    tree = Tree.of(Hierarchy(name="eu", label="reporter", groups={"EU27": ["DE", "France", "ITA", "MT"]}))
    assert tree.groups == {"EU27": ("DEU", "FRA", "ITA", "MLT")}
    assert tree.children_of("EU27", {"EU27", "DEU", "FRA", "ITA"}) == (["DEU", "FRA", "ITA"], ["MLT"])
    assert tree.parent_of("FRA", {"EU27", "FRA"}) == "EU27"


def test_contributors_of_a_heading_are_its_subheadings_share_of_the_change() -> None:
    infos = _infos(["84", "8458", "845811", "845819", "845891", "8456"])
    infos["chn-usa/export/8458"] = SeriesInfo("chn-usa/export/8458", "M", {**BASE, "partner": "USA",
                                                                           "commodity": "8458"})
    index = pd.period_range("2024-03", "2025-03", freq="M")
    levels = {  # March 2024 -> March 2025
        "chn-rus/export/84": (1000.0, 600.0), "chn-rus/export/8458": (300.0, 150.0),
        "chn-rus/export/845811": (200.0, 90.0), "chn-rus/export/845819": (60.0, 70.0),
        "chn-rus/export/845891": (40.0, float("nan")), "chn-rus/export/8456": (100.0, 80.0),
    }
    panel = pd.DataFrame(float("nan"), index=index, columns=sorted(levels))
    for sid, (then, now) in levels.items():
        panel.loc[index[0], sid], panel.loc[index[-1], sid] = then, now

    def panel_of(ids: Sequence[str], frequency: str) -> pd.DataFrame:
        assert frequency == "M"
        return panel[list(ids)]

    drilled = Drilled.of(RULE, HS, infos.values())
    found = drilled.drivers({"chn-rus/export/8458": index[-1], "chn-rus/export/84": index[-1],
                             "chn-rus/export/845811": index[-1]}, infos, panel_of, top=1)
    assert set(found) == {"chn-rus/export/8458", "chn-rus/export/84"}  # a subheading has no children
    heading = found["chn-rus/export/8458"]
    assert (heading.period, heading.compared_with, heading.parent_change) == ("2025-03", "2024-03", -150.0)
    [top] = heading.top
    assert (top.series, top.change) == ("chn-rus/export/845811", -110.0)
    assert (top.pct, top.share) == (pytest.approx(-55.0), pytest.approx(110 / 150 * 100))
    assert (heading.rest_count, heading.rest_change) == (1, 10.0)  # 845819 rose by 10
    assert [(m.value, m.series) for m in heading.missing] == [("845891", "chn-rus/export/845891")]
    assert heading.unattributed == -50.0  # what 845891 would have said
    chapter = found["chn-rus/export/84"]
    assert [c.series for c in chapter.top] == ["chn-rus/export/8458"]  # -150 of -400; 8456: -20
    assert (chapter.rest_count, chapter.rest_change, chapter.unattributed) == (1, -20.0, -230.0)
    assert drilled.parent(infos["chn-rus/export/845811"]) == "chn-rus/export/8458"
    assert drilled.parent(infos["chn-rus/export/84"]) is None  # TOTAL is not watched


@pytest.mark.parametrize(("extra", "message"), [
    ("    drill: hss\n", "unknown hierarchy 'hss'"),
    ("", ""),
])
def test_a_rule_drills_along_a_declared_hierarchy(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sources: [{name: a, kind: file, path: a.csv, value_column: v}]\n"
                    "hierarchies:\n  - {name: hs, label: commodity, kind: hs}\nrules:\n"
                    "  - name: r\n    detector: {kind: threshold, direction: below, threshold: 1}\n" + extra)
    if not message:
        assert load_config(path).config.rules[0].drill is None
        return
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert message in str(raised.value)


@pytest.mark.parametrize(("groups", "message"), [
    ({"EU": ["A", "EA"], "EA": ["B", "EU"]}, "groups nest in a circle: EU > EA > EU"),
    ({"EU": []}, "group 'EU' has no members"),
    ({"EU": ["A", "A"]}, "group 'EU' lists 'A' twice"),
])
def test_groups_are_checked(groups: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Hierarchy(name="g", label="reporter", groups=groups)
