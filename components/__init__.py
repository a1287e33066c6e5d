"""KFP components for Gemini supervised fine-tuning on Vertex AI.

Each component ``X`` lives in its own folder ``components/X/``: ``component.py`` (the thin
KFP wrapper) beside its plain-Python logic. Import the component from here; the
GCPC-style ``Op`` alias is the same object under a name a user's variable won't shadow::

    from gemini_sft_kfp.components import LaunchTuningJobOp

Importing this package imports kfp's DSL and defines every component; the CLI and the
emulator import only ``gemini_sft_kfp.core`` and the logic modules they need.

A component and its folder share a name, so ``gemini_sft_kfp.components.X`` is the
component; dotted paths through it (``import gemini_sft_kfp.components.X.executor``,
``mock.patch("gemini_sft_kfp.components.X.executor.f")``) still reach the folder's
modules (see ``_with_subpackage``).
"""

import importlib
from typing import Any

from gemini_sft_kfp.components.delete_model.component import delete_model
from gemini_sft_kfp.components.evaluate_model.component import evaluate_model
from gemini_sft_kfp.components.finalize_run.component import finalize_run
from gemini_sft_kfp.components.get_champion.component import get_champion
from gemini_sft_kfp.components.launch_tuning_job.component import launch_tuning_job
from gemini_sft_kfp.components.register_model.component import register_model
from gemini_sft_kfp.components.upload_dataset.component import upload_dataset
from gemini_sft_kfp.components.validate_dataset.component import validate_dataset
from gemini_sft_kfp.components.wait_for_tuning_job.component import wait_for_tuning_job


def _with_subpackage(component: Any) -> Any:
    """Let attribute look-ups the component lacks fall through to its folder's package.

    ``a.b.c`` resolution (``import ... as``, ``mock.patch``, ``monkeypatch``) walks
    attributes; the walk reaches the component object, not the same-named package.
    """
    if not hasattr(component, "component_spec"):  # a plain function inside a running task
        return component
    package = f"{__name__}.{component.name.replace('-', '_')}"
    base = type(component)

    def __getattr__(self: Any, attr: str) -> Any:  # called only for missing attributes
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(package), attr)

    namespace = {"__getattr__": __getattr__, "__module__": base.__module__}
    component.__class__ = type(base.__name__, (base,), namespace)
    return component


for _component in (
    delete_model,
    evaluate_model,
    finalize_run,
    get_champion,
    launch_tuning_job,
    register_model,
    upload_dataset,
    validate_dataset,
    wait_for_tuning_job,
):
    _with_subpackage(_component)

DeleteModelOp = delete_model
EvaluateModelOp = evaluate_model
FinalizeRunOp = finalize_run
GetChampionOp = get_champion
LaunchTuningJobOp = launch_tuning_job
RegisterModelOp = register_model
UploadDatasetOp = upload_dataset
ValidateDatasetOp = validate_dataset
WaitForTuningJobOp = wait_for_tuning_job

COMPONENT_NAMES: tuple[str, ...] = (
    "delete_model",
    "evaluate_model",
    "finalize_run",
    "get_champion",
    "launch_tuning_job",
    "register_model",
    "upload_dataset",
    "validate_dataset",
    "wait_for_tuning_job",
)


def load(name: str):
    """The component called ``name`` (for code that has the name as a string)."""
    if name not in COMPONENT_NAMES:
        raise KeyError(f"no component named {name!r}; known: {', '.join(COMPONENT_NAMES)}")
    return globals()[name]


__all__ = [
    *COMPONENT_NAMES,
    *(f"{''.join(p.title() for p in n.split('_'))}Op" for n in COMPONENT_NAMES),
    "COMPONENT_NAMES",
    "load",
]
