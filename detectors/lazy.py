"""A module loaded on first attribute access, so that importing `detectors` (for the registry
and parameter validation, which the CLI's `check` needs) costs no numpy, pandas or ruptures.
Detectors still use `np.` and `pd.` as usual; the first call that needs them loads them, and
the stand-in then puts the real module in its place in every detectors module, so the hot
loops of detection pay nothing for it afterwards."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for `import NAME`; attribute access imports NAME and forwards to it."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
            self._replace_everywhere(self._module)
        return getattr(self._module, attribute)

    def _replace_everywhere(self, module: ModuleType) -> None:
        """Rebind every detectors module's name for this stand-in to the loaded module."""
        for name, loaded in list(sys.modules.items()):
            if loaded is None or not (name == "detectors" or name.startswith("detectors.")):
                continue
            namespace = vars(loaded)
            for key, value in list(namespace.items()):
                if value is self:
                    namespace[key] = module

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """`np = lazy("numpy")`: typed as Any here; modules declare the real type for mypy."""
    return LazyModule(name)
