"""The runtime: everything one config describes, built whole and swapped whole on reload.

Sources, compiled rules (each with its detector built once and its registration, which says
what the detector needs) and notifiers. Building is separate from running so that a reload
can build and check the new runtime before the old one stops serving.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from detectors import KINDS, Detector, DetectorKind, Needs, build_detector
from detectors.guards import Materiality, comparison_lag
from monitor.config import LoadedConfig, Rule
from monitor.hierarchy import Tree, trees
from monitor.notify.pipeline import Notifier, build_notifiers
from monitor.notify.ruleinfo import rule_infos
from monitor.sources import build_source
from monitor.sources.base import Source
from monitor.store import Store


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A config rule with its detector built once, and the registry's word on that detector."""

    config: Rule
    detector: Detector
    registered: DetectorKind
    tree: Tree | None = None  # the hierarchy its alerts drill along (`drill`)

    @property
    def name(self) -> str:
        return self.config.name

    def needs(self, need: Needs) -> bool:
        return need in self.registered.needs

    def materiality(self, freq: object) -> Materiality | None:
        """The rule's guards for a panel of frequency `freq`; None when it has none."""
        config = self.config
        if config.min_level is None and config.min_change is None:
            return None
        return Materiality(config.min_level, config.min_change,
                           comparison_lag(config.transform.kind, freq))


def compile_rule(rule: Rule, hierarchies: Mapping[str, Tree] | None = None) -> CompiledRule:
    params = dict(rule.detector)
    kind = str(params.pop("kind"))
    tree = (hierarchies or {}).get(rule.drill.along) if rule.drill is not None else None
    return CompiledRule(rule, build_detector(kind, params), KINDS[kind], tree)


@dataclass(frozen=True, slots=True)
class NotifierServices:
    """What receivers need from the daemon: the environment (tokens), series history (charts),
    the store (Slack threads across restarts) and the clock."""

    env: Mapping[str, str]
    history: Callable[[str], pd.Series] | None
    state: Store | None
    clock: Callable[[], datetime] | None


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything built from one config; replaced whole on reload."""

    loaded: LoadedConfig
    sources: Mapping[str, Source]
    rules: Sequence[CompiledRule]
    notifiers: Mapping[str, Notifier]

    @classmethod
    def build(cls, loaded: LoadedConfig, previous: Runtime | None = None,
              services: NotifierServices | None = None) -> Runtime:
        """Build everything a config describes; a source whose config did not change is
        carried over from `previous`, so its state (a replay position) survives a reload.
        Notifiers are built only with `services` (what the daemon provides them); a backtest
        needs none."""
        config = loaded.config
        sources: dict[str, Source] = {
            s.name: build_source(s, loaded, previous.sources.get(s.name) if previous else None)
            for s in config.sources
        }
        nested = trees(config.hierarchies)
        rules = [compile_rule(rule, nested) for rule in config.rules]
        notifiers = build_notifiers(config.notify, env=services.env, history=services.history,
                                    state=services.state, clock=services.clock,
                                    rules=rule_infos(config.rules)) if services else {}
        return cls(loaded, sources, rules, notifiers)

    def frequency_of(self, source: str) -> str:
        for s in self.loaded.config.sources:
            if s.name == source:
                return s.frequency
        raise KeyError(source)
