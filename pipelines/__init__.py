"""The Gemini SFT pipelines (``sft_pipeline``, ``continuous_tuning_pipeline``) and the CLI.

Loaded lazily (PEP 562): ``pipelines.cli`` lives in this package and must start fast,
without importing kfp and every component. ``pipelines.sft_pipeline`` is the pipeline
whatever was imported first (the module of the same name stays in ``sys.modules``).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from components import ExportsShadowingModules, with_module_fallback

__all__ = ["continuous_tuning_pipeline", "sft_pipeline"]

if TYPE_CHECKING:
    from pipelines.continuous_tuning_pipeline import continuous_tuning_pipeline
    from pipelines.sft_pipeline import sft_pipeline

_loaded: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _loaded:
        module = f"{__name__}.{name}"
        _loaded[name] = with_module_fallback(getattr(importlib.import_module(module), name), module)
    return _loaded[name]


class _PipelinesModule(ExportsShadowingModules):
    _shadowed = frozenset(__all__)


sys.modules[__name__].__class__ = _PipelinesModule
