"""What Google's SDKs and samples touch beyond the basics (issue 13): project numbers in
names, the experiment context, ``defaultCheckpointId`` with AIP-134 masks, current
publisher models, ``computeTokens``, preference tuning, exact recall, the service's own
data checks, and ADC from the loopback metadata server."""

from __future__ import annotations

import base64
import subprocess
import sys
import time

import orjson
import pytest
from gemini_sft_kfp.emulator.common.projects import ProjectNumbers, derived_number

from tests.emulator.conftest import FAST_TUNING_SECONDS
from tests.support.emu_helpers import (
    PARENT,
    SERVED_PARENT,
    call,
    example_lines,
    genai,
    tuning_body,
    upload,
    wait_terminal,
)


def _job(emu, uri: str, **overrides) -> dict:
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri, **overrides))
    assert status == 200, created
    time.sleep(FAST_TUNING_SECONDS + 0.05)
    return call(emu, "GET", created["name"])[1]


# ---- project numbers ----------------------------------------------------------------


def test_numbers_are_stable_per_project_and_configurable():
    numbers = ProjectNumbers({"pinned": "42"})
    assert numbers.number("local-project") == "123456789012"
    assert numbers.number("pinned") == "42" and numbers.number("777") == "777"
    assert numbers.number("my-proj") == derived_number("my-proj") == numbers.number("my-proj")
    assert len(derived_number("my-proj")) == 12 and derived_number("a") != derived_number("b")
    assert (
        numbers.canonical("projects/pinned/locations/l/models/1")
        == "projects/42/locations/l/models/1"
    )
    with pytest.raises(ValueError):
        ProjectNumbers({"p": "not-digits"})


def test_names_carry_the_number_and_either_form_finds_them(fast, tuned_job):
    assert tuned_job["name"].startswith(f"{SERVED_PARENT}/tuningJobs/")
    job_id = tuned_job["name"].rsplit("/", 1)[1]
    for parent in (PARENT, SERVED_PARENT):
        assert call(fast, "GET", f"{parent}/tuningJobs/{job_id}")[1]["name"] == tuned_job["name"]
    model = tuned_job["tunedModel"]["model"]
    assert model.startswith(f"{SERVED_PARENT}/models/")
    by_id = model.replace(SERVED_PARENT, PARENT)
    assert call(fast, "GET", by_id)[1]["name"] == model.split("@")[0]
    other = call(fast, "GET", f"projects/other-project/locations/us-central1/tuningJobs/{job_id}")
    assert other[0] == 404  # another project's number does not see it
    # a pre-tuned model named with the project id is found too
    pre = {"tunedModelName": by_id.split("@")[0], "checkpointId": "1"}
    body = {"preTunedModel": pre, "supervisedTuningSpec": tuned_job["supervisedTuningSpec"]}
    assert call(fast, "POST", f"{PARENT}/tuningJobs", body)[0] == 200


# ---- experiment context -------------------------------------------------------------


def test_experiment_context_is_served(fast, tuned_job):
    status, context, _ = call(fast, "GET", tuned_job["experiment"])
    assert status == 200, context
    assert context["name"] == tuned_job["experiment"]
    assert context["schemaTitle"] == "system.Experiment"
    missing = tuned_job["experiment"].rsplit("-", 1)[0] + "-1"
    assert call(fast, "GET", missing)[0] == 404


def test_vertexai_sft_job_refresh_polls_to_the_end(fast):
    """``vertexai.tuning.sft`` (google-cloud-aiplatform) polls with ``job.refresh()``."""
    from gemini_sft_kfp.core.clients import init_aiplatform

    uri = upload(example_lines(16), "gs://b/t.jsonl")
    init_aiplatform("local-project", "us-central1")
    from vertexai.tuning import sft

    job = sft.train(source_model="gemini-2.5-flash", train_dataset=uri, epochs=2)
    deadline = time.monotonic() + 10
    while not job.has_ended and time.monotonic() < deadline:
        time.sleep(0.1)
        job.refresh()
    assert job.has_ended and job.state.name == "JOB_STATE_SUCCEEDED"
    assert job.tuned_model_endpoint_name.startswith(f"{SERVED_PARENT}/endpoints/")


# ---- defaultCheckpointId, AIP-134 ---------------------------------------------------


def test_default_checkpoint_without_mask_sets_the_fields_in_the_body(fast, tuned_job):
    model = tuned_job["tunedModel"]["model"]
    assert call(fast, "GET", model)[1]["defaultCheckpointId"] == "2"
    status, patched, _ = call(fast, "PATCH", model, {"defaultCheckpointId": "1"})
    assert status == 200 and patched["defaultCheckpointId"] == "1"
    assert call(fast, "GET", model)[1]["defaultCheckpointId"] == "1"
    endpoint = call(fast, "GET", tuned_job["tunedModel"]["endpoint"])[1]
    assert endpoint["deployedModels"][0]["checkpointId"] == "1"  # the main endpoint follows


def test_default_checkpoint_with_mask_and_errors(fast, tuned_job):
    model = tuned_job["tunedModel"]["model"]
    masked = f"{model}?updateMask=defaultCheckpointId"
    assert call(fast, "PATCH", masked, {"defaultCheckpointId": "1", "description": "x"})[0] == 200
    after = call(fast, "GET", model)[1]
    assert after["defaultCheckpointId"] == "1" and after["description"] == ""  # mask only
    assert call(fast, "PATCH", model, {"defaultCheckpointId": "9"})[0] == 400
    assert call(fast, "PATCH", f"{model}?updateMask=versionAliases", {})[0] == 400


def test_google_genai_models_update_sets_the_default_checkpoint(fast, tuned_job):
    from google.genai.types import UpdateModelConfig

    client = genai()
    updated = client.models.update(
        model=tuned_job["tunedModel"]["model"], config=UpdateModelConfig(default_checkpoint_id="1")
    )
    assert updated.default_checkpoint_id == "1"


# ---- publisher models, computeTokens, generation options ---------------------------


@pytest.mark.parametrize("model", ["gemini-3.5-flash", "gemini-3.1-pro-preview", "gemini-2.5-pro"])
def test_current_publisher_models_serve(emu, model):
    path = f"{PARENT}/publishers/google/models/{model}"
    request = {"contents": [{"role": "user", "parts": [{"text": "Why is the sky blue?"}]}]}
    assert call(emu, "POST", f"{path}:generateContent", request)[0] == 200
    assert call(emu, "POST", f"{path}:countTokens", request)[1]["totalTokens"] == 6
    status, tokens, headers = call(emu, "POST", f"{path}:computeTokens", request)
    assert status == 200 and headers["x-emulator-simulated"] == "true"
    info = tokens["tokensInfo"][0]
    assert [base64.b64decode(t).decode() for t in info["tokens"]][:2] == ["Why", "is"]
    assert len(info["tokenIds"]) == 6 and info["role"] == "user"


def test_models_known_only_to_nobody_are_404(emu):
    path = f"{PARENT}/publishers/google/models/gemini-9-ultra:computeTokens"
    request = {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    assert call(emu, "POST", path, request)[0] == 404


def test_media_parts_are_accepted(emu):
    path = f"{PARENT}/publishers/google/models/gemini-3.5-flash:generateContent"
    parts = [
        {"fileData": {"fileUri": "gs://b/video.mp4", "mimeType": "video/mp4"}},
        {"inlineData": {"data": base64.b64encode(b"img").decode(), "mimeType": "image/jpeg"}},
        {"text": "What is in the video?"},
    ]
    assert call(emu, "POST", path, {"contents": [{"role": "user", "parts": parts}]})[0] == 200


# ---- exact recall -------------------------------------------------------------------


def test_tuned_model_recalls_each_training_answer_even_when_prompts_differ_by_a_digit(fast):
    lines = [
        orjson.dumps(
            {
                "contents": [
                    {"role": "user", "parts": [{"text": f"Route ticket {i}: my parcel is late"}]},
                    {"role": "model", "parts": [{"text": f"queue: q{i}"}]},
                ]
            }
        )
        for i in range(10)
    ]
    job = _job(fast, upload(b"\n".join(lines), "gs://b/route.jsonl"))
    endpoint = job["tunedModel"]["endpoint"]
    for i in range(10):
        request = {
            "contents": [
                {"role": "user", "parts": [{"text": f"Route ticket {i}: my parcel is late"}]}
            ]
        }
        answer = call(fast, "POST", f"{endpoint}:generateContent", request)[1]
        assert answer["candidates"][0]["content"]["parts"][0]["text"] == f"queue: q{i}"


# ---- preference tuning --------------------------------------------------------------


def _preference_line(prompt: str, good: str, bad: str = "No idea.") -> bytes:
    return orjson.dumps(
        {
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "completions": [
                {"score": 0.0, "completion": {"role": "model", "parts": [{"text": bad}]}},
                {"score": 1.0, "completion": {"role": "model", "parts": [{"text": good}]}},
            ],
        }
    )


def test_preference_tuning_job_is_accepted_simulated_and_prefers_the_best_completion(fast):
    data = b"\n".join(
        _preference_line(f"invoice {i} wrong", f"queue: billing {i}") for i in range(8)
    )
    uri = upload(data, "gs://b/pref.jsonl")
    body = {
        "baseModel": "gemini-2.5-flash",
        "preferenceOptimizationSpec": {
            "trainingDatasetUri": uri,
            "hyperParameters": {"epochCount": 2, "beta": 0.1},
        },
    }
    status, created, _ = call(fast, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200, created
    done = wait_terminal(genai(), created["name"])
    assert done.state.name == "JOB_STATE_SUCCEEDED", done.error
    request = {"contents": [{"role": "user", "parts": [{"text": "invoice 3 wrong"}]}]}
    answer = call(fast, "POST", f"{done.tuned_model.endpoint}:generateContent", request)[1]
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == "queue: billing 3"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (orjson.dumps({"contents": [{"role": "user", "parts": [{"text": "q"}]}]}), "completions"),
        (
            _preference_line("q", "same", "same").replace(b'"score":1.0', b'"score":0.0'),
            "same score",
        ),
        (
            orjson.dumps(
                {"contents": [{"role": "model", "parts": [{"text": "q"}]}], "completions": []}
            ),
            "'user' turn",
        ),
    ],
)
def test_bad_preference_data_fails_the_job_with_its_row(fast, line, problem):
    uri = upload(line + b"\n", "gs://b/bad-pref.jsonl")
    body = {
        "baseModel": "gemini-2.5-flash",
        "preferenceOptimizationSpec": {"trainingDatasetUri": uri},
    }
    created = call(fast, "POST", f"{PARENT}/tuningJobs", body)[1]
    done = wait_terminal(genai(), created["name"])
    assert done.state.name == "JOB_STATE_FAILED" and done.error.code == 3
    assert "Row: 0." in done.error.message and problem in done.error.message


def test_both_tuning_methods_at_once_are_refused(fast):
    spec = {"trainingDatasetUri": "gs://b/t.jsonl"}
    body = {
        "baseModel": "gemini-2.5-flash",
        "supervisedTuningSpec": spec,
        "preferenceOptimizationSpec": spec,
    }
    assert call(fast, "POST", f"{PARENT}/tuningJobs", body)[0] == 400


# ---- the service's own data checks (independent of the project's validator) ---------


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (
            {"contents": [{"role": "user", "parts": [{"text": "a", "inlineData": {}}]}]},
            "exactly one",
        ),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "a"}]},
                    {"role": "user", "parts": [{"text": "b"}]},
                ]
            },
            "alternate",
        ),
        ({"contents": [{"role": "user", "parts": []}]}, "non-empty"),
        ({"contents": [{"role": "system", "parts": [{"text": "a"}]}]}, "role"),
    ],
)
def test_what_the_service_rejects_fails_the_job(fast, record, problem):
    from gemini_sft_kfp.emulator.tuning.service_checks import service_problem

    line = orjson.dumps(record)
    assert problem in service_problem(line, None, "gemini-2.5-flash", ("gs://b/x.jsonl", None))
    done = wait_terminal(
        genai(),
        call(fast, "POST", f"{PARENT}/tuningJobs", tuning_body(upload(line, "gs://b/x.jsonl")))[1][
            "name"
        ],
    )
    assert done.state.name == "JOB_STATE_FAILED" and "Row: 0." in done.error.message


def test_service_checks_do_not_use_the_project_validator(monkeypatch):
    """The emulator's checks stand on their own: a broken validator changes nothing."""
    import gemini_sft_kfp.components.validate_dataset.validator as validator
    from gemini_sft_kfp.emulator.tuning.service_checks import service_problem

    monkeypatch.setattr(validator, "validate_files", lambda *a, **k: pytest.fail("used"))
    assert service_problem(example_lines(3), None, "gemini-2.5-flash", ("gs://b/t", None)) is None


def test_service_checks_apply_the_model_tables_limits(tiny_model):
    from gemini_sft_kfp.emulator.tuning.service_checks import service_problem

    too_many = service_problem(example_lines(21), None, tiny_model, ("gs://b/t", None))
    assert "21 examples" in too_many and "allows 20" in too_many
    validation = service_problem(example_lines(2), example_lines(4), tiny_model, ("t", "gs://b/v"))
    assert "validation" in validation and "allows 3" in validation


# ---- ADC from the loopback metadata server -----------------------------------------


def test_google_auth_default_finds_the_metadata_server(emulator):
    env = {
        k: v for k, v in __import__("os").environ.items() if not k.startswith(("GOOGLE", "GCE_"))
    }
    code = (
        "import google.auth, google.auth.transport.requests as r\n"
        "c, p = google.auth.default()\n"
        "c.refresh(r.Request())\n"
        "print(p, c.token, c.service_account_email)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=env | emulator.sdk_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [
        "local-project",
        "emulator-token",
        "emulator@local-project.iam.gserviceaccount.com",
    ]


def test_json_mode_and_stop_sequences(emu):
    path = f"{PARENT}/publishers/google/models/gemini-3.5-flash:generateContent"
    contents = [{"role": "user", "parts": [{"text": "Why is the sky blue?"}]}]
    config = {"responseMimeType": "application/json"}
    reply = call(emu, "POST", path, {"contents": contents, "generationConfig": config})[1]
    assert "response" in orjson.loads(reply["candidates"][0]["content"]["parts"][0]["text"])
    plain = call(emu, "POST", path, {"contents": contents})[1]
    text = plain["candidates"][0]["content"]["parts"][0]["text"]
    stop = {"stopSequences": [text.split()[2]]}
    cut = call(emu, "POST", path, {"contents": contents, "generationConfig": stop})[1]
    assert (
        cut["candidates"][0]["content"]["parts"][0]["text"] == text[: text.index(text.split()[2])]
    )
