"""KFP components for Gemini supervised fine-tuning on Vertex AI.

``from components import launch_tuning_job`` gives the KFP component. Components load
lazily (PEP 562): ``components._common`` is imported by the CLI and the emulator, which
must not pay for kfp and every component at import time.

Each component ``X`` lives in the sub-package ``components.X`` (``X/component.py`` beside
its plain-Python logic). The sub-package and the component share a name, so this module
keeps the name bound to the *component* whatever was imported first; attribute look-ups
on the component that it does not have (``components.X.logic``) fall through to the
sub-package, so dotted paths in ``mock.patch`` / ``monkeypatch`` keep working.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

# Public component names; each is defined in ``components/<name>/component.py``.
__all__ = [
    "delete_model",
    "evaluate_model",
    "finalize_run",
    "get_champion",
    "launch_tuning_job",
    "load",
    "register_model",
    "upload_dataset",
    "validate_dataset",
    "wait_for_tuning_job",
]
COMPONENT_NAMES: tuple[str, ...] = tuple(name for name in __all__ if name != "load")

if TYPE_CHECKING:  # for type checkers and IDEs only; runtime loading is lazy
    from components.delete_model.component import delete_model
    from components.evaluate_model.component import evaluate_model
    from components.finalize_run.component import finalize_run
    from components.get_champion.component import get_champion
    from components.launch_tuning_job.component import launch_tuning_job
    from components.register_model.component import register_model
    from components.upload_dataset.component import upload_dataset
    from components.validate_dataset.component import validate_dataset
    from components.wait_for_tuning_job.component import wait_for_tuning_job

_loaded: dict[str, Any] = {}


def with_module_fallback(obj: Any, module: str) -> Any:
    """Let ``obj.<attr>`` fall back to ``module`` for attributes ``obj`` lacks.

    For an object exported under the name of its own (sub)module: dotted paths through
    it (``components.X.logic``, ``import components.X.logic as m``) still resolve.
    """
    base = type(obj)

    def __getattr__(self, attr: str) -> Any:  # only called for missing attributes
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(module), attr)

    obj.__class__ = type(base.__name__, (base,), {"__getattr__": __getattr__})
    return obj


class ExportsShadowingModules(types.ModuleType):
    """A package whose exported names stay bound to the exports, not same-named modules.

    Importing ``pkg.X`` makes the import system bind the module ``X`` on ``pkg``; for the
    names in ``_shadowed`` that binding is skipped (the module stays in sys.modules), so
    ``pkg.X`` keeps resolving through the package's ``__getattr__`` to the export.
    """

    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr in self._shadowed and isinstance(value, types.ModuleType):
            return
        super().__setattr__(attr, value)


def load(name: str) -> Any:
    """The KFP component called ``name`` (imports its module on first use)."""
    if name not in _loaded:
        package = f"{__name__}.{name}"
        component = getattr(importlib.import_module(f"{package}.component"), name)
        _loaded[name] = with_module_fallback(component, package)
    return _loaded[name]


class _ComponentsModule(ExportsShadowingModules):
    """Keeps ``components.<name>`` the component, not the same-named sub-package."""

    _shadowed = frozenset(COMPONENT_NAMES)


def __getattr__(name: str) -> Any:
    if name in COMPONENT_NAMES:
        return load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(COMPONENT_NAMES))


sys.modules[__name__].__class__ = _ComponentsModule
