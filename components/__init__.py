"""KFP components for Gemini supervised fine-tuning on Vertex AI.

Each component ``X`` lives in its own folder ``components/X/``: ``component.py`` (the thin
KFP wrapper) beside its plain-Python logic. Import the component from here; the
GCPC-style ``Op`` alias is the same object under a name a user's variable won't shadow::

    from gemini_sft_kfp.components import LaunchTuningJobOp

Components load on first use (PEP 562): the CLI and the emulator import logic modules
such as ``gemini_sft_kfp.components.evaluate_model.executor`` without paying for kfp and
GCPC (about 64 MB and a second of start-up).

A component and its folder share a name, so ``gemini_sft_kfp.components.X`` is the
component whatever was imported first; dotted paths through it
(``import gemini_sft_kfp.components.X.executor as m``,
``mock.patch("gemini_sft_kfp.components.X.executor.f")``) still reach the folder's
modules (see ``_with_subpackage``).
"""

import importlib
import sys
import types
from typing import Any

COMPONENT_NAMES: tuple[str, ...] = (
    "check_run_inputs",
    "delete_model",
    "evaluate_model",
    "finalize_run",
    "get_champion",
    "launch_tuning_job",
    "register_model",
    "select_checkpoint",
    "upload_dataset",
    "validate_dataset",
    "wait_for_tuning_job",
)
# GCPC-style aliases: ValidateDatasetOp is validate_dataset.
OP_ALIASES: dict[str, str] = {
    "".join(part.title() for part in name.split("_")) + "Op": name for name in COMPONENT_NAMES
}
_loaded: dict[str, Any] = {}


def _with_subpackage(component: Any, package: str) -> Any:
    """Let attribute look-ups the component lacks fall through to its folder's package.

    ``a.b.c`` resolution (``import ... as``, ``mock.patch``, ``monkeypatch``) walks
    attributes; the walk reaches the component object, not the same-named package.
    """
    if not hasattr(component, "component_spec"):  # a plain function inside a running task
        return component
    base = type(component)

    def __getattr__(self: Any, attr: str) -> Any:  # called only for missing attributes
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(package), attr)

    namespace = {"__getattr__": __getattr__, "__module__": base.__module__}
    component.__class__ = type(base.__name__, (base,), namespace)
    return component


def load(name: str) -> Any:
    """The component called ``name`` (for code that has the name as a string)."""
    if name not in COMPONENT_NAMES:
        raise KeyError(f"no component named {name!r}; known: {', '.join(COMPONENT_NAMES)}")
    if name not in _loaded:
        package = f"{__name__}.{name}"
        component = getattr(importlib.import_module(f"{package}.component"), name)
        _loaded[name] = _with_subpackage(component, package)
    return _loaded[name]


def __getattr__(attr: str) -> Any:
    name = OP_ALIASES.get(attr, attr)
    if name in COMPONENT_NAMES:
        return load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *COMPONENT_NAMES, *OP_ALIASES})


class _ComponentsPackage(types.ModuleType):
    """Keeps ``components.X`` the component: the import system binds a freshly imported
    sub-package ``X`` on its parent; for component names that binding is skipped (the
    sub-package stays in ``sys.modules``), so look-ups go through ``__getattr__``."""

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr in COMPONENT_NAMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(attr, value)


sys.modules[__name__].__class__ = _ComponentsPackage

__all__ = [*COMPONENT_NAMES, *OP_ALIASES, "COMPONENT_NAMES", "OP_ALIASES", "load"]
