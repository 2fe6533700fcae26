"""The model of a rule: which series it selects, the transform it looks through, the detector
it runs (checked by building it) and what its alerts carry."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from detectors import TRANSFORMS, DetectorConfigError, build_detector, check_transform
from monitor.config.base import MAX_COUNT, NAME_PATTERN, Strict
from monitor.config.hierarchies import Drill
from monitor.config.matching import SelectMatchers
from monitor.matchers import Matcher, matches_all, parse_matcher


class TransformSpec(Strict):
    """What a rule looks at: `level`, `yoy_pct`, `mom_pct`, `diff`, `log`, `ytd_sum`,
    `from_ytd`, `rolling_sum`/`rolling_mean` (with `window`), `share` (with `parent`),
    `mirror_gap` (with `mirror`, and `change` for the gap's change over N periods)."""

    kind: str = "level"
    window: int | None = None
    parent: str | dict[str, str] | None = None
    mirror: str | dict[str, str] | None = None  # mirror_gap: series id -> its mirror's id
    change: int | None = None  # mirror_gap: the gap's change over this many periods

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in TRANSFORMS:
            raise ValueError(f"unknown transform {value!r}; known: {', '.join(sorted(TRANSFORMS))}")
        return value

    @model_validator(mode="after")
    def _params_fit(self) -> TransformSpec:
        try:
            check_transform(self.kind, self.params())
        except DetectorConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def params(self) -> dict[str, Any]:
        """The parameters given, as the transform takes them."""
        return {k: v for k, v in (("window", self.window), ("parent", self.parent), ("mirror", self.mirror),
                                  ("change", self.change)) if v is not None}


Severity = Literal["info", "warning", "critical"]


class Rule(Strict):
    """A selector, a transform, a detector and what the alert carries. `min_level` and
    `min_change` are materiality guards in the series' unit (detectors/guards.py): a period
    whose trailing 12-period mean level, or whose absolute change against the comparison
    period, falls short is not a finding (for `revision` rules, `min_change` is the size of the
    revision of the level, between the two vintages). `drill` names the hierarchy (config `hierarchies`)
    its alerts on a parent break down along."""

    name: str = Field(pattern=NAME_PATTERN)
    select: dict[str, str | list[str]] = Field(default_factory=dict)
    select_matchers: SelectMatchers = Field(default_factory=list)
    transform: TransformSpec = TransformSpec()
    detector: dict[str, Any]
    severity: Severity = "warning"
    for_: int = Field(default=1, alias="for", ge=1, le=MAX_COUNT)
    keep_firing_for: int = Field(default=0, ge=0, le=MAX_COUNT)
    export_metrics: bool = False
    min_level: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    min_change: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    drill: Drill | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("detector")
    @classmethod
    def _buildable(cls, value: dict[str, Any]) -> dict[str, Any]:
        params = dict(value)
        kind = params.pop("kind", None)
        if kind is None:
            raise ValueError("missing 'kind' (e.g. threshold, consecutive)")
        try:
            build_detector(str(kind), params)
        except DetectorConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("min_change")
    @classmethod
    def _change_applies(cls, value: float | None, info: ValidationInfo) -> float | None:
        """A guard the rule's kind cannot honour is refused, never ignored."""
        detector = info.data.get("detector") or {}
        if value is not None and detector.get("kind") == "staleness":
            raise ValueError("min_change cannot apply to a staleness rule: it flags data that did not "
                             "arrive, so there is no change to measure (min_level, the level before "
                             "the data stopped, does apply)")
        return value

    @property
    def selects_all(self) -> bool:
        return not self.select and not self.select_matchers

    def matches(self, labels: Mapping[str, str]) -> bool:
        """`select` holds equality tests (a list matches any of its values) and
        `select_matchers` Alertmanager matchers; every test must hold; none selects all."""
        if self.select_matchers and not matches_all(_parsed(tuple(self.select_matchers)), labels):
            return False
        for key, wanted in self.select.items():
            have = labels.get(key)
            if isinstance(wanted, list):
                if have not in wanted:
                    return False
            elif have != wanted:
                return False
        return True


@lru_cache(maxsize=1024)
def _parsed(texts: tuple[str, ...]) -> tuple[Matcher, ...]:
    """Parsed once per distinct list: a rule tests every series it could select."""
    return tuple(parse_matcher(text) for text in texts)
