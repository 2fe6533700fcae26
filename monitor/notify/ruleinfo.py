"""What a message says about a rule that its notification does not carry: the transform and
detector (to word the figures), and the annotations (templates). Built from the config when
the notifiers are, so the outbox rows stay as they are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from monitor.config import Rule

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RuleInfo:
    name: str
    transform: str = "level"
    transform_params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    detector: str = ""
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    annotations: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def of(cls, rule: Rule) -> RuleInfo:
        params = dict(rule.detector)
        kind = str(params.pop("kind", ""))
        return cls(rule.name, rule.transform.kind, MappingProxyType(rule.transform.params()), kind,
                   MappingProxyType(params), MappingProxyType(dict(rule.annotations)))

    @property
    def direction(self) -> str:
        """`below`, `above`, `both`, or "" when the detector has none."""
        return str(self.params.get("direction", ""))


def rule_infos(rules: Iterable[Rule]) -> Mapping[str, RuleInfo]:
    return MappingProxyType({rule.name: RuleInfo.of(rule) for rule in rules})
