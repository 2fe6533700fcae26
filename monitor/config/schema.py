"""The JSON Schema of the config file, derived from the same models that validate it, so
editors and the loader never disagree."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from monitor.config.base import format_duration
from monitor.config.model import Config


def config_json_schema() -> dict[str, Any]:
    """JSON Schema of the config file for editors; durations shown as written ("30s")."""
    schema = Config.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tradewatch config"
    return _durations_as_written(schema)


def _durations_as_written(node: Any) -> Any:
    # pydantic renders timedelta defaults as ISO 8601 ("PT30S"); the file format is "30s".
    if isinstance(node, dict):
        return {key: _iso_to_duration(value) if key == "default" else _durations_as_written(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_durations_as_written(item) for item in node]
    return node


def _iso_to_duration(value: Any) -> Any:
    if isinstance(value, str) and (match := re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?"
                                                          r"(?:(\d+(?:\.\d+)?)S)?)?", value)):
        days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        return format_duration(timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds))
    return _durations_as_written(value)
