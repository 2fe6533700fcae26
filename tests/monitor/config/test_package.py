"""The package's names: each one comes from its module, and the YAML reader's come cheap."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

import monitor.config
from tests.monitor.config.support import ROOT

NAMES = sorted(monitor.config._MODULE_OF)


def test_type_checkers_see_the_same_names() -> None:
    tree = ast.parse((ROOT / "monitor" / "config" / "__init__.py").read_text("utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If))
    seen = {(alias.asname, node.module) for node in guarded.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}
    assert seen == {(name, f"monitor.config.{module}") for name, module in monitor.config._MODULE_OF.items()}
    assert {"load_config", "LoadedConfig", "Rule", "Notify", "ConfigError", "load_yaml",
            "config_json_schema", "validate_cron", "known_providers"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_name_is_its_module_attribute(name: str) -> None:
    value = getattr(monitor.config, name)
    module = importlib.import_module(f"monitor.config.{monitor.config._MODULE_OF[name]}")
    assert getattr(module, name) is value


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        monitor.config.nothing  # noqa: B018


def test_config_error_does_not_import_the_models() -> None:
    code = ("import sys\nfrom monitor.config import ConfigError, load_yaml\n"
            "print(sorted(m for m in ('pandas', 'detectors', 'monitor.config.model') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"
