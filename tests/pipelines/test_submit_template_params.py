"""``submit --template`` takes THAT template's parameters, and no run is submitted with
data on this machine (Vertex cannot read it): one line, before anything is created."""

# no "from __future__ import annotations": KFP reads the component annotations

import orjson
import pytest
from gemini_sft_kfp.pipelines.vertex import Template, cloud_arguments

from gemini_sft_kfp.core.errors import UserError
from tests.support.pipeline_helpers import CLOUD_OPTIONS, SAMPLE, needs_components

pytestmark = needs_components


@pytest.fixture(scope="module")
def my_template(tmp_path_factory):
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def gate(threshold: float, rounds: int, source: str) -> bool:
        return threshold > 0 and rounds > 0 and bool(source)

    @dsl.pipeline(name="my-pipeline")
    def my_pipeline(source: str, threshold: float = 0.8, rounds: int = 1, tags: list = []):  # noqa: B006
        gate(threshold=threshold, rounds=rounds, source=source)

    path = tmp_path_factory.mktemp("tpl") / "my_pipeline.yaml"
    compiler.Compiler().compile(my_pipeline, str(path))
    return path


@pytest.fixture(scope="module")
def loaded(my_template):
    return Template.load(my_template)


NAMED = {"project": "p", "location": "us-central1", "bucket": "b", "training_data": None}


def test_params_are_typed_by_the_template(loaded):
    arguments = cloud_arguments(
        "sft",
        NAMED,
        ["threshold=0.5", "rounds=3", "source=gs://b/x.jsonl", "tags=a,b"],
        template=loaded,
    )
    assert arguments == {
        "threshold": 0.5,
        "rounds": 3,
        "source": "gs://b/x.jsonl",
        "tags": ["a", "b"],
    }  # the shipped pipeline's --bucket/--project are not this pipeline's: left out


def test_unknown_param_names_the_templates_own_parameters(loaded):
    with pytest.raises(UserError) as caught:
        cloud_arguments("sft", NAMED, ["source=gs://b/x", "epochs=3"], template=loaded)
    assert "'epochs'" in str(caught.value)
    assert "known: rounds, source, tags, threshold" in str(caught.value)


def test_required_param_of_the_template(loaded):
    with pytest.raises(UserError, match="missing pipeline parameter.*source"):
        cloud_arguments("sft", NAMED, ["threshold=0.5"], template=loaded)


@pytest.mark.parametrize("value", ["data/x.jsonl", str(SAMPLE / "train.jsonl")])
def test_a_local_path_is_refused_for_any_template(loaded, value):
    with pytest.raises(UserError) as caught:
        cloud_arguments("sft", NAMED, [f"source={value}"], template=loaded)
    message = str(caught.value)
    assert "\n" not in message and "[source]" in message and "gs://" in message


def test_a_local_training_file_is_refused_for_the_shipped_pipeline(emu, run_cli):
    options = list(CLOUD_OPTIONS)
    options[options.index("--train") + 1] = str(SAMPLE / "train.jsonl")
    with pytest.raises(UserError, match=r"\[training_data\].*local path"):
        run_cli("submit", *options)
    assert not [r for r in emu.requests() if r["method"].startswith("pipelineJobs")]


def test_submit_template_takes_its_own_param_through_the_cli(emu, run_cli, my_template):
    code, out, text = run_cli(
        "submit", *CLOUD_OPTIONS, "--template", str(my_template),
        "--param", "threshold=0.5", "--param", "source=gs://b/x.jsonl", "--json",
    )  # fmt: skip
    assert code == 0, text
    assert "/pipelineJobs/" in out["pipeline_job"]


@pytest.fixture
def template_opens(my_template, monkeypatch):
    """How many times the command opens ``my_template`` (ours and the SDK's reads alike)."""
    import builtins
    import io

    real_open = io.open
    opened = []

    def counting_open(file, *args, **kwargs):
        if str(file) == str(my_template):
            opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    return opened


@pytest.mark.parametrize("command", [("submit",), ("schedule", "--cron", "0 3 * * 1")])
def test_the_template_is_read_and_parsed_once(emu, run_cli, my_template, template_opens, command):
    code, _, text = run_cli(
        *command, *CLOUD_OPTIONS, "--template", str(my_template),
        "--param", "source=gs://b/x.jsonl", "--json",
    )  # fmt: skip
    assert code == 0, text
    assert len(template_opens) == 1  # was 5: two checks, the signature, the image, the SDK


def test_a_template_run_is_named_after_its_own_pipeline(emu, run_cli, my_template):
    template_options = ("--template", str(my_template), "--param", "source=gs://b/x.jsonl")
    code, _, text = run_cli("submit", *CLOUD_OPTIONS, *template_options, "--json")
    assert code == 0, text
    code, _, text = run_cli(
        "schedule", "--cron", "0 3 * * 1", *CLOUD_OPTIONS, *template_options, "--json"
    )
    assert code == 0, text
    state = orjson.loads(emu.dump_state())
    [job] = state["pipelineJobs"].values()
    [schedule] = state["schedules"].values()
    assert job["displayName"] == "my-pipeline"  # was gemini-sft, another pipeline's
    assert schedule["displayName"] == "my-pipeline-schedule"
