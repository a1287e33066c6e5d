"""`components` exports every component by name, lazily, whatever was imported first."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK_LAZY = """
import sys
import components
import components._common.errors
assert "kfp" not in sys.modules, "importing components must not import kfp"
print("ok")
"""

CHECK_NAMES_AFTER_SUBPACKAGE_IMPORT = """
import components.launch_tuning_job.launcher as launcher   # the sub-package first
from components import launch_tuning_job, finalize_run
from kfp.dsl.base_component import BaseComponent
assert isinstance(launch_tuning_job, BaseComponent), type(launch_tuning_job)
assert isinstance(finalize_run, BaseComponent)
# dotted paths through the component still reach the sub-package (mock.patch, monkeypatch)
import components
assert components.launch_tuning_job.launcher is launcher
import pkgutil
assert pkgutil.resolve_name("components.launch_tuning_job.launcher.IDEMPOTENCY_LABEL")
print("ok")
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_importing_components_does_not_import_kfp():
    result = _run(CHECK_LAZY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_names_are_components_even_after_subpackage_import():
    result = _run(CHECK_NAMES_AFTER_SUBPACKAGE_IMPORT)
    assert result.returncode == 0, result.stderr


def test_unknown_name_is_an_attribute_error():
    import components

    with pytest.raises(AttributeError):
        _ = components.no_such_component


def test_every_exported_name_has_a_component_module():
    from pathlib import Path

    import components

    root = Path(components.__file__).parent
    for name in components.COMPONENT_NAMES:
        assert (root / name / "component.py").is_file(), name


CHECK_PIPELINES = """
import sys
import pipelines.cli
assert "kfp" not in sys.modules, "the CLI package must not import kfp"
import pipelines.sft_pipeline          # the module first
from pipelines import sft_pipeline, continuous_tuning_pipeline
from kfp.dsl.graph_component import GraphComponent
assert isinstance(sft_pipeline, GraphComponent), type(sft_pipeline)
assert isinstance(continuous_tuning_pipeline, GraphComponent)
assert sft_pipeline.RUN_KEY  # module attributes still reachable through the export
print("ok")
"""


def test_pipelines_are_exported_by_name_lazily():
    result = _run(CHECK_PIPELINES)
    assert result.returncode == 0, result.stderr
