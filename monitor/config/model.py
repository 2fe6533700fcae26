"""The root of the config file: one section per concern, each with its defaults."""

from __future__ import annotations

from pydantic import Field

from monitor.config.base import Strict
from monitor.config.hierarchies import Hierarchy
from monitor.config.infrastructure import DetectionConfig, HaConfig, HttpConfig, MetricsConfig, StoreConfig
from monitor.config.notify import Notify
from monitor.config.rules import Rule
from monitor.config.sources import SourceConfig


class Config(Strict):
    sources: list[SourceConfig] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    hierarchies: list[Hierarchy] = Field(default_factory=list)
    notify: Notify = Notify()
    store: StoreConfig = StoreConfig()
    http: HttpConfig = HttpConfig()
    metrics: MetricsConfig = MetricsConfig()
    detection: DetectionConfig = DetectionConfig()
    ha: HaConfig = HaConfig()

