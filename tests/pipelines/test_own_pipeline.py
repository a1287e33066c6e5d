"""A user's own pipeline: loaded from a file or compiled YAML, rehearsed on the local runner
against the emulator like the shipped ones, bound to the user's image.

(No ``from __future__ import annotations``: kfp reads a pipeline's type hints.)
"""

import warnings

import pytest
from gemini_sft_kfp.pipelines.local.pipeline_file import load_pipeline_file

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.runtime import image
from tests.support.pipeline_helpers import REPO, model_version, needs_components

EXAMPLE = REPO / "examples" / "own_pipeline.py"
SAMPLE = REPO / "examples" / "data"

PIPELINE_SOURCE = """
from kfp import dsl

@dsl.component(base_image="python:3.11")
def hello(name: str) -> str:
    return name

@dsl.pipeline(name="{name}")
def {func}(who: str = "x"):
    hello(name=who)
"""


def write(tmp_path, text: str, name: str = "mine.py"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- loading ------------------------------------------------------------------------------


def test_file_and_name_gives_that_pipeline(tmp_path):
    path = write(tmp_path, PIPELINE_SOURCE.format(name="first", func="first"))
    assert load_pipeline_file(f"{path}:first").pipeline_spec.pipeline_info.name == "first"


def test_a_file_with_one_pipeline_needs_no_name(tmp_path):
    path = write(tmp_path, PIPELINE_SOURCE.format(name="only", func="only"))
    assert load_pipeline_file(str(path)).pipeline_spec.pipeline_info.name == "only"


def test_a_file_with_two_pipelines_asks_for_one_by_name(tmp_path):
    text = PIPELINE_SOURCE.format(name="a", func="a") + PIPELINE_SOURCE.format(name="b", func="b")
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=r"2 pipelines \(a, b\).*--pipeline-file .*:NAME"):
        load_pipeline_file(str(path))


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("missing.py:p", "no such file"),
        ("mine.py:nope", "defines no 'nope'"),
        ("mine.py:hello", "'hello' is not a @dsl.pipeline"),
        ("notes.txt", "expected FILE.py"),
    ],
)
def test_a_wrong_reference_is_one_line_naming_the_file(tmp_path, monkeypatch, reference, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, PIPELINE_SOURCE.format(name="p", func="p"))
    write(tmp_path, "hello", "notes.txt")
    with pytest.raises(UserError, match=message) as refused:
        load_pipeline_file(reference)
    assert "\n" not in str(refused.value)


def test_future_annotations_in_a_pipeline_file_gets_a_hint(tmp_path):
    path = write(
        tmp_path,
        "from __future__ import annotations\n" + PIPELINE_SOURCE.format(name="p", func="p"),
    )
    with pytest.raises(UserError, match="remove 'from __future__ import annotations'") as refused:
        load_pipeline_file(f"{path}:p")
    assert refused.value.line is not None


def test_a_compiled_yaml_loads_as_the_same_pipeline(tmp_path):
    from kfp import compiler

    pipeline = load_pipeline_file(f"{write(tmp_path, PIPELINE_SOURCE.format(name='c', func='c'))}")
    compiler.Compiler().compile(pipeline, str(tmp_path / "c.yaml"))
    loaded = load_pipeline_file(str(tmp_path / "c.yaml"))
    assert loaded.pipeline_spec.pipeline_info.name == "c"
    assert set(loaded.component_spec.inputs) == {"who"}


# --- images -------------------------------------------------------------------------------


@pytest.fixture
def chosen_image():
    """``use_image`` for one test; the placeholder back afterwards."""
    yield "registry.example/team/gemini-sft-kfp:1"
    image.use_image(image.DEFAULT_IMAGE)
    image._chosen_image = None
    image._warned.clear()


def _images(spec_path) -> set[str]:
    from gemini_sft_kfp.pipelines.compile import executor_images

    return executor_images(spec_path.read_text(encoding="utf-8"))


@needs_components
def test_use_image_binds_our_components_in_your_compiled_pipeline(tmp_path, chosen_image):
    from kfp import compiler

    import gemini_sft_kfp

    gemini_sft_kfp.use_image(chosen_image)
    with warnings.catch_warnings():
        warnings.simplefilter("error", image.PlaceholderImageWarning)  # no warning now
        pipeline = load_pipeline_file(f"{EXAMPLE}:own_pipeline")
    compiler.Compiler().compile(pipeline, str(tmp_path / "own.yaml"))
    assert _images(tmp_path / "own.yaml") == {chosen_image}


@needs_components
def test_defining_your_pipeline_with_the_placeholder_warns_naming_the_fix(chosen_image):
    from gemini_sft_kfp.components import validate_dataset
    from kfp import dsl

    with pytest.warns(image.PlaceholderImageWarning, match=r"use_image\(URI\)"):

        @dsl.pipeline(name="placeholder-user")
        def mine(training_data: str):
            validate_dataset(training_data=training_data)


def test_submit_refuses_a_template_naming_the_placeholder(tmp_path, monkeypatch):
    from gemini_sft_kfp.pipelines.vertex import Template, check_image

    from gemini_sft_kfp.core.clients import VERTEX_EMULATOR_ENV

    path = tmp_path / "t.yaml"
    spec = {"deploymentSpec": {"executors": {"e": {"container": {"image": image.DEFAULT_IMAGE}}}}}
    monkeypatch.delenv(VERTEX_EMULATOR_ENV, raising=False)
    with pytest.raises(UserError, match=r"placeholder image .*--image URI") as refused:
        check_image(Template(path, spec))
    assert refused.value.file == str(path)
    monkeypatch.setenv(VERTEX_EMULATOR_ENV, "http://127.0.0.1:1")  # a rehearsal: warned
    with pytest.warns(image.PlaceholderImageWarning):
        check_image(Template(path, spec))
    spec["deploymentSpec"]["executors"]["e"]["container"]["image"] = "registry.example/x:1"
    monkeypatch.delenv(VERTEX_EMULATOR_ENV)
    check_image(Template(path, spec))  # a real image: accepted


def test_docker_runner_gives_our_image_to_our_tasks_only(tmp_path):
    from gemini_sft_kfp.pipelines.local.docker_runner import executor_images

    path = write(tmp_path, PIPELINE_SOURCE.format(name="d", func="d"))
    pipeline = load_pipeline_file(str(path))
    executors = pipeline.pipeline_spec.deployment_spec["executors"]
    with executor_images(pipeline, "gemini-sft-kfp:test"):
        assert {e["container"]["image"] for e in executors.values()} == {"python:3.11"}


# --- rehearsal end to end -------------------------------------------------------------


@pytest.mark.e2e
@needs_components
@pytest.mark.parametrize(("threshold", "registered"), [(0.5, True), (0.99, False)])
def test_own_pipeline_with_a_lone_if_registers_exactly_when_the_gate_passes(
    emu, tmp_path, threshold, registered
):
    """The README's own-pipeline form with a lone dsl.If (examples/own_pipeline.py):
    before, kfp's local runner skipped the branch either way and reported success."""
    import gemini_sft_kfp

    summary = gemini_sft_kfp.rehearse(
        f"{EXAMPLE}:own_pipeline",
        {
            "threshold": str(threshold),  # typed by the pipeline, as --param is
            "training_data": str(SAMPLE / "train.jsonl"),
            "eval_data": str(SAMPLE / "eval.jsonl"),
        },
        output_dir=tmp_path / "runs",
    )
    assert summary["succeeded"], summary.get("error")
    assert summary["gate"]["passed"] is registered
    assert bool(summary["registered_model"]) is registered
    assert summary["verdict"] == ("promoted" if registered else "unknown")
    tuned = model_version(summary["tuned_model"])
    assert tuned is not None  # nothing deletes it in this pipeline
    assert ("champion" in tuned.aliases) is registered
    if not registered:
        assert summary["tasks"]["gate-passed"] == "SKIPPED"


@pytest.mark.e2e
@needs_components
def test_cli_runs_a_compiled_own_pipeline(emu, tmp_path, local_run):
    from kfp import compiler

    compiler.Compiler().compile(load_pipeline_file(str(EXAMPLE)), str(tmp_path / "own.yaml"))
    code, summary, _ = local_run(
        "--pipeline-file", str(tmp_path / "own.yaml"), "--param", "threshold=0.5"
    )
    assert code == 0 and summary["verdict"] == "promoted", summary


def test_a_pipeline_object_runs_under_its_own_name_and_anything_else_is_refused(tmp_path):
    from gemini_sft_kfp.pipelines.local.run import LocalRunOptions, resolve_pipeline

    pipeline = load_pipeline_file(str(write(tmp_path, PIPELINE_SOURCE.format(name="o", func="o"))))
    assert resolve_pipeline(LocalRunOptions(pipeline=pipeline)) == (pipeline, "o")
    with pytest.raises(UserError, match="not a pipeline"):
        resolve_pipeline(LocalRunOptions(pipeline=print))


def test_every_shipped_pipeline_is_exempt_from_the_placeholder_warning():
    """Their image is chosen when they are compiled (--image); a new shipped pipeline
    missing from SHIPPED_PIPELINES would warn on every import."""
    import re

    from gemini_sft_kfp.pipelines.compile import PIPELINES

    names = set()
    for target in PIPELINES.values():
        module = target.split(":")[0].removeprefix("gemini_sft_kfp.")
        source = (REPO / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8")
        names |= set(re.findall(r'^PIPELINE_NAME = "([^"]+)"', source, flags=re.M))
    assert len(names) == len(PIPELINES)
    assert names <= image.SHIPPED_PIPELINES
