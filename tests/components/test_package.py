"""The one namespace: components and pipelines exported by name, core free of kfp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECK_CORE_AND_CLI_WITHOUT_KFP = """
import sys
import gemini_sft_kfp, gemini_sft_kfp.core.errors, gemini_sft_kfp.core.clients
import gemini_sft_kfp.cli
import gemini_sft_kfp.emulator
# what the CLI's validate / evaluate / models commands import
import gemini_sft_kfp.components.validate_dataset.validator
import gemini_sft_kfp.components.evaluate_model.executor
import gemini_sft_kfp.components.register_model.executor
import gemini_sft_kfp.components.delete_model.executor
import gemini_sft_kfp.components.get_champion.executor
assert "kfp" not in sys.modules, "core, the CLI, the emulator and logic modules import no kfp"
from gemini_sft_kfp.components import evaluate_model   # the folder was imported first
from kfp.dsl.base_component import BaseComponent
assert isinstance(evaluate_model, BaseComponent), type(evaluate_model)
print("ok")
"""

CHECK_NAMES_AFTER_SUBPACKAGE_IMPORT = """
import gemini_sft_kfp.components.launch_tuning_job.executor as launcher   # the folder first
from gemini_sft_kfp.components import launch_tuning_job, finalize_run, LaunchTuningJobOp
from kfp.dsl.base_component import BaseComponent
assert isinstance(launch_tuning_job, BaseComponent), type(launch_tuning_job)
assert isinstance(finalize_run, BaseComponent)
assert LaunchTuningJobOp is launch_tuning_job
# dotted paths through the component still reach the folder's modules (mock.patch, monkeypatch)
import gemini_sft_kfp.components as components
assert components.launch_tuning_job.executor is launcher
import pkgutil
assert pkgutil.resolve_name(
    "gemini_sft_kfp.components.launch_tuning_job.executor.IDEMPOTENCY_LABEL")
print("ok")
"""

CHECK_PIPELINES = """
import gemini_sft_kfp.pipelines.sft as module          # the module first
from gemini_sft_kfp.pipelines import (
    continuous_tuning_pipeline, preference_pipeline, sft_pipeline, steps)
from kfp.dsl.graph_component import GraphComponent
assert isinstance(sft_pipeline, GraphComponent), type(sft_pipeline)
assert isinstance(continuous_tuning_pipeline, GraphComponent)
assert isinstance(preference_pipeline, GraphComponent)
assert module.sft_pipeline is sft_pipeline and steps.RUN_KEY
print("ok")
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "code", [CHECK_CORE_AND_CLI_WITHOUT_KFP, CHECK_NAMES_AFTER_SUBPACKAGE_IMPORT, CHECK_PIPELINES]
)
def test_namespace_imports(code):
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_op_aliases_are_listed():
    from gemini_sft_kfp import components

    assert set(components.OP_ALIASES.values()) == set(components.COMPONENT_NAMES)
    assert "ValidateDatasetOp" in dir(components)


def test_unknown_name_is_an_error():
    from gemini_sft_kfp import components

    with pytest.raises(AttributeError):
        _ = components.no_such_component
    with pytest.raises(KeyError, match="no component named"):
        components.load("no_such_component")


def test_every_component_has_a_folder_and_an_op_alias():
    from gemini_sft_kfp import components

    root = Path(components.__file__).parent
    for name in components.COMPONENT_NAMES:
        assert (root / name / "component.py").is_file(), name
        op = "".join(part.title() for part in name.split("_")) + "Op"
        assert getattr(components, op) is components.load(name), op
        assert op in components.__all__
