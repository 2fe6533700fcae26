"""The JSON Schema for editors: from the same models, keys and durations as a file writes them."""

from __future__ import annotations

from typing import Any

from monitor.config import config_json_schema


def test_schema_names_itself_and_every_section() -> None:
    schema = config_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "tradewatch config"
    assert sorted(schema["properties"]) == ["detection", "ha", "hierarchies", "http", "metrics", "notify",
                                            "rules", "sources", "store"]


def test_keys_as_written() -> None:
    models: dict[str, Any] = config_json_schema()["$defs"]
    assert "for" in models["Rule"]["properties"] and "for_" not in models["Rule"]["properties"]
    assert "continue" in models["Route"]["properties"]


def test_durations_as_written() -> None:
    models: dict[str, Any] = config_json_schema()["$defs"]
    timeout = models["FileSource"]["properties"]["timeout"]
    assert timeout["type"] == "string"
    assert timeout["default"] == "30s"
    assert models["DetectionConfig"]["properties"]["timeout"]["default"] == "10m"
