"""Compiled pipelines: deterministic, fresh in compiled/, and shaped as documented."""

from __future__ import annotations

import yaml
from gemini_sft_kfp.pipelines.compile import (
    PIPELINES,
    compile_all,
    executor_images,
    spec_for_comparison,
    stale_files,
)

from tests.support.pipeline_helpers import REPO, needs_components

pytestmark = needs_components


def _specs(directory):
    return {name: (directory / name).read_text(encoding="utf-8") for name in PIPELINES}


def test_compile_is_deterministic_and_compiled_dir_is_fresh(tmp_path, monkeypatch):
    monkeypatch.delenv("GEMINI_SFT_IMAGE", raising=False)
    compile_all(tmp_path / "a")
    compile_all(tmp_path / "b")
    first, second = _specs(tmp_path / "a"), _specs(tmp_path / "b")
    assert first == second
    assert not stale_files(REPO / "compiled"), "compiled/ is stale: run 'gemini-sft compile'"


def test_staleness_ignores_only_the_kfp_version_stamp(tmp_path):
    compile_all(tmp_path)
    spec = tmp_path / "sft_pipeline.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "\nsdkVersion: kfp-" in text
    patched = text.replace("\nsdkVersion: kfp-", "\nsdkVersion: kfp-9.9.9-was-")
    spec.write_text(patched, encoding="utf-8")
    assert stale_files(tmp_path) == []  # a kfp patch release changes only the stamp
    assert spec_for_comparison(patched) == spec_for_comparison(text)
    spec.write_text(patched.replace("launch-tuning-job", "launch-tuning-jobx", 1), "utf-8")
    assert stale_files(tmp_path) == ["sft_pipeline.yaml"]
    (tmp_path / "continuous_tuning_pipeline.yaml").unlink()
    assert stale_files(tmp_path) == ["sft_pipeline.yaml", "continuous_tuning_pipeline.yaml"]


def test_image_flag_sets_every_executor(tmp_path):
    compile_all(tmp_path, image="europe-docker.pkg.dev/p/r/sft:1.2.3")
    for name in PIPELINES:
        images = executor_images((tmp_path / name).read_text(encoding="utf-8"))
        assert images == {"europe-docker.pkg.dev/p/r/sft:1.2.3"}


def _tasks(spec: dict) -> dict[str, dict]:
    """Every task of the spec by name, nested DAGs included."""
    tasks = dict(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        tasks.update(component.get("dag", {}).get("tasks", {}))
    return tasks


def test_sft_pipeline_shape():
    spec = yaml.safe_load((REPO / "compiled" / "sft_pipeline.yaml").read_text())
    tasks = _tasks(spec)
    for name in (
        "validate-dataset",
        "upload-dataset",
        "upload-dataset-2",
        "launch-tuning-job",
        "wait-for-tuning-job",
        "evaluate-model",
        "register-model",
        "delete-model",
        "finalize-run",
    ):
        assert name in tasks, name
    finalize = tasks["finalize-run"]
    assert finalize["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"
    assert "status" in finalize["inputs"]["parameters"]
    # launch and the exit handler share the run key that labels the job
    launch_key = tasks["launch-tuning-job"]["inputs"]["parameters"]["idempotency_key"]
    finalize_key = finalize["inputs"]["parameters"]["run_key"]
    assert launch_key == finalize_key
    # nothing with cloud side effects is ever served from the cache
    for name, task in tasks.items():
        if "componentRef" in task and not name.startswith(("condition", "exit-handler")):
            assert task.get("cachingOptions", {}).get("enableCache") is not True, name
    required = {
        k
        for k, v in spec["root"]["inputDefinitions"]["parameters"].items()
        if not v.get("isOptional")
    }
    assert required == {"project", "training_data", "eval_data", "bucket"}


def test_continuous_pipeline_tunes_from_the_champion():
    spec = yaml.safe_load((REPO / "compiled" / "continuous_tuning_pipeline.yaml").read_text())
    tasks = _tasks(spec)
    launch = tasks["launch-tuning-job"]["inputs"]["parameters"]
    assert launch["pre_tuned_model"]["taskOutputParameter"]["producerTask"] == "get-champion"
    evaluate = tasks["evaluate-model"]["inputs"]["parameters"]
    assert evaluate["baseline"]["taskOutputParameter"] == {
        "outputParameterKey": "baseline",  # the champion's endpoint, else nothing
        "producerTask": "get-champion",
    }


def test_component_reference_is_fresh():
    from gemini_sft_kfp.pipelines.reference import render_reference

    shipped = (REPO / "docs" / "components.md").read_text(encoding="utf-8")
    assert shipped == render_reference(), (
        "docs/components.md is stale: run 'gemini-sft compile --docs docs/components.md'"
    )


def test_reference_documents_every_component_and_pipeline_parameter():
    from gemini_sft_kfp.pipelines.reference import render_reference
    from gemini_sft_kfp.pipelines.sft import sft_pipeline

    text = render_reference()
    from gemini_sft_kfp import components

    for name in components.COMPONENT_NAMES:
        assert f"### `{name}`" in text
    for parameter, spec in sft_pipeline.component_spec.inputs.items():
        assert f"| `{parameter}` |" in text
        assert spec.description, f"sft_pipeline parameter {parameter} has no description"
