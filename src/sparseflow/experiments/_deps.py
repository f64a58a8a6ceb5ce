"""Optional dependencies of the sweep engine, imported lazily with a helpful message."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["available", "require"]

_EXTRA = "dask"


def require(name: str) -> ModuleType:
    """Import ``name`` or raise ImportError saying which extra installs it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"the sweep engine needs the optional package {name!r}: "
            f"pip install 'sparseflow[{_EXTRA}]' ({exc})"
        ) from None


def available(name: str) -> bool:
    """Whether ``name`` can be imported."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
