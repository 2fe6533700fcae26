"""The config file as validated, frozen pydantic models, one module per concern.

Everything a user can write is declared here, unknown keys are rejected, and every error
names the file, the line and the dotted path (see yamlfile.py). The modules, bottom up:
`base` (strict models, durations), `sources`, `rules`, `notify`, `infrastructure`, `model`
(the root), `limits` (what reading a file may cost), `yamlfile` (YAML with lines, `${ENV}`),
`load` (validation and cross-checks) and `schema` (JSON Schema).

Names are imported from their module on first use, so that `from monitor.config import
ConfigError` stays as cheap as the YAML reader and does not build every model (or import
the detectors) on the way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.config.base import Duration as Duration
    from monitor.config.base import Interval as Interval
    from monitor.config.base import Strict as Strict
    from monitor.config.base import format_duration as format_duration
    from monitor.config.base import parse_duration as parse_duration
    from monitor.config.hierarchies import Drill as Drill
    from monitor.config.hierarchies import Hierarchy as Hierarchy
    from monitor.config.hierarchies import HierarchyKind as HierarchyKind
    from monitor.config.infrastructure import DEFAULT_LISTEN as DEFAULT_LISTEN
    from monitor.config.infrastructure import DetectionConfig as DetectionConfig
    from monitor.config.infrastructure import HaConfig as HaConfig
    from monitor.config.infrastructure import HttpConfig as HttpConfig
    from monitor.config.infrastructure import MetricsConfig as MetricsConfig
    from monitor.config.infrastructure import StoreConfig as StoreConfig
    from monitor.config.infrastructure import parse_listen as parse_listen
    from monitor.config.load import LoadedConfig as LoadedConfig
    from monitor.config.load import load_config as load_config
    from monitor.config.load import validate_data as validate_data
    from monitor.config.model import Config as Config
    from monitor.config.notify import RECEIVER_KINDS as RECEIVER_KINDS
    from monitor.config.notify import AlertmanagerReceiver as AlertmanagerReceiver
    from monitor.config.notify import ConsoleReceiver as ConsoleReceiver
    from monitor.config.notify import InhibitRule as InhibitRule
    from monitor.config.notify import Matchers as Matchers
    from monitor.config.notify import Notify as Notify
    from monitor.config.notify import Receiver as Receiver
    from monitor.config.notify import Route as Route
    from monitor.config.notify import SlackReceiver as SlackReceiver
    from monitor.config.notify import SlackWebhookReceiver as SlackWebhookReceiver
    from monitor.config.notify import WebhookReceiver as WebhookReceiver
    from monitor.config.notify import slack_mention as slack_mention
    from monitor.config.rules import Rule as Rule
    from monitor.config.rules import Severity as Severity
    from monitor.config.rules import TransformSpec as TransformSpec
    from monitor.config.schema import config_json_schema as config_json_schema
    from monitor.config.sources import DEFAULT_MAX_RESPONSE_BYTES as DEFAULT_MAX_RESPONSE_BYTES
    from monitor.config.sources import ComtradeFlow as ComtradeFlow
    from monitor.config.sources import ComtradeSource as ComtradeSource
    from monitor.config.sources import FileSource as FileSource
    from monitor.config.sources import HttpJsonSource as HttpJsonSource
    from monitor.config.sources import NotReady as NotReady
    from monitor.config.sources import ReleaseCalendar as ReleaseCalendar
    from monitor.config.sources import Replay as Replay
    from monitor.config.sources import Retry as Retry
    from monitor.config.sources import Schedule as Schedule
    from monitor.config.sources import SdmxSource as SdmxSource
    from monitor.config.sources import SourceBase as SourceBase
    from monitor.config.sources import SourceConfig as SourceConfig
    from monitor.config.sources import known_providers as known_providers
    from monitor.config.sources import validate_cron as validate_cron
    from monitor.config.yamlfile import ConfigError as ConfigError
    from monitor.config.yamlfile import ConfigProblem as ConfigProblem
    from monitor.config.yamlfile import LoadedYaml as LoadedYaml
    from monitor.config.yamlfile import Loc as Loc
    from monitor.config.yamlfile import Suggest as Suggest
    from monitor.config.yamlfile import dotted as dotted
    from monitor.config.yamlfile import load_yaml as load_yaml
    from monitor.config.yamlfile import problems_from_validation as problems_from_validation
    from monitor.config.yamlfile import read_capped as read_capped

_HOMES: dict[str, tuple[str, ...]] = {
    "base": ("Duration", "Interval", "Strict", "format_duration", "parse_duration"),
    "hierarchies": ("Drill", "Hierarchy", "HierarchyKind"),
    "infrastructure": ("DEFAULT_LISTEN", "DetectionConfig", "HaConfig", "HttpConfig", "MetricsConfig",
                       "StoreConfig", "parse_listen"),
    "load": ("LoadedConfig", "load_config", "validate_data"),
    "model": ("Config",),
    "notify": ("RECEIVER_KINDS", "AlertmanagerReceiver", "ConsoleReceiver", "InhibitRule", "Matchers",
               "Notify", "Receiver", "Route", "SlackReceiver", "SlackWebhookReceiver", "WebhookReceiver",
               "slack_mention"),
    "rules": ("Rule", "Severity", "TransformSpec"),
    "schema": ("config_json_schema",),
    "sources": ("DEFAULT_MAX_RESPONSE_BYTES", "ComtradeFlow", "ComtradeSource", "FileSource",
                "HttpJsonSource", "NotReady", "ReleaseCalendar", "Replay", "Retry", "Schedule", "SdmxSource",
                "SourceBase", "SourceConfig",
                "known_providers", "validate_cron"),
    "yamlfile": ("ConfigError", "ConfigProblem", "LoadedYaml", "Loc", "Suggest", "dotted", "load_yaml",
                 "problems_from_validation", "read_capped"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
