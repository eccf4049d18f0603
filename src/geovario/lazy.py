"""Package attributes imported on first use, so light submodules stay light (PEP 562).

``geovario.models.config`` or ``geovario.train.config`` can then be imported, e.g. for a
command's ``--help``, without loading torch through the package's other modules.
"""

import importlib
from collections.abc import Callable


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``where[name]`` (a submodule) on first use."""

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    return __getattr__
