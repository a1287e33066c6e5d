"""Preference tuning in the emulator: every rule Vertex applies to the data, the
``preferenceOptimizationDataStats`` a job reports, and a simulated model that moves toward
the preferred completions (and keeps what an SFT model it continues knew)."""

from __future__ import annotations

import time

import orjson
import pytest

from tests.support.emu_helpers import PARENT, call, tuning_body, upload

FAST = 0.25  # seconds a job takes here (the emu fixture of tests/emulator)


def _turn(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"text": text}]}


def _record(prompt: str, good: str, bad: str) -> dict:
    return {
        "contents": [_turn("user", prompt)],
        "completions": [
            {"score": 1, "completion": _turn("model", good)},
            {"score": 0, "completion": _turn("model", bad)},
        ],
    }


def _lines(records: list[dict]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def _preference_job(emu, uri: str, **spec) -> dict:
    body = {
        "baseModel": "gemini-2.5-flash",
        "preferenceOptimizationSpec": {
            "trainingDatasetUri": uri,
            "hyperParameters": {"epochCount": 1, "beta": 0.1},
            **spec,
        },
    }
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200, created
    return _finished(emu, created["name"])


def _finished(emu, name: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = call(emu, "GET", name)[1]
        if job["state"] in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"{name} did not finish")


def _ask(emu, endpoint: str, prompt: str) -> str:
    answer = call(emu, "POST", f"{endpoint}:generateContent", {"contents": [_turn("user", prompt)]})
    return answer[1]["candidates"][0]["content"]["parts"][0]["text"]


GOOD = _record("Where is my refund?", "queue: billing", "I cannot help.")


def _with(**changes) -> dict:
    record = orjson.loads(orjson.dumps(GOOD))
    for key, value in changes.items():
        record[key] = value
    return record


def _completion(score, role="model", text="x") -> dict:
    return {"score": score, "completion": _turn(role, text)}


BAD_LINES = {
    "ends on a model turn": (
        _with(contents=[_turn("user", "q"), _turn("model", "a")]),
        "'user' turn",
    ),
    "three completions": (
        _with(completions=[_completion(1), _completion(0), _completion(0)]),
        "exactly 2",
    ),
    "two preferred": (_with(completions=[_completion(1), _completion(1)]), "same score"),
    "fractional score": (_with(completions=[_completion(0.5), _completion(0)]), "0 or 1"),
    "boolean score": (_with(completions=[_completion(True), _completion(0)]), "0 or 1"),
    "completion not a model turn": (
        _with(completions=[_completion(1, role="user"), _completion(0)]),
        "role must be 'model'",
    ),
    "an image": (
        _with(
            contents=[
                {
                    "role": "user",
                    "parts": [
                        {"text": "what is this"},
                        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                    ],
                }
            ]
        ),
        "text parts only",
    ),
    "turns not alternating": (
        _with(contents=[_turn("user", "a"), _turn("user", "b")]),
        "alternate",
    ),
    "too long": (_with(contents=[_turn("user", "word " * 110_000)]), "tokens"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_preference_line_fails_the_job_naming_its_row(emu, case):
    record, problem = BAD_LINES[case]
    uri = upload(_lines([GOOD, GOOD, record, GOOD]), "gs://b/bad.jsonl")
    job = _preference_job(emu, uri)
    assert job["state"] == "JOB_STATE_FAILED", job
    assert job["error"]["code"] == 3
    assert job["error"]["message"].startswith("Row: 2. "), job["error"]
    assert problem in job["error"]["message"]


def test_too_many_validation_examples_fail_the_job(emu, monkeypatch):
    monkeypatch.setattr(
        "gemini_sft_kfp.emulator.tuning.preference_tuning.MAX_VALIDATION_EXAMPLES", 2
    )
    train = upload(_lines([GOOD] * 4), "gs://b/train.jsonl")
    validation = upload(_lines([GOOD] * 3), "gs://b/validation.jsonl")
    job = _preference_job(emu, train, validationDatasetUri=validation)
    assert job["state"] == "JOB_STATE_FAILED"
    assert "validation dataset" in job["error"]["message"]


def test_a_preference_job_reports_preference_data_stats(emu):
    uri = upload(_lines([GOOD] * 5), "gs://b/train.jsonl")
    job = _preference_job(emu, uri)
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    stats = job["tuningDataStats"]
    assert list(stats) == ["preferenceOptimizationDataStats"]
    assert stats["preferenceOptimizationDataStats"]["tuningDatasetExampleCount"] == "5"
    assert job["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.1


TOPICS = [("refund", "billing"), ("password", "accounts"), ("parcel", "shipping")]


def _topic_records(swap: bool) -> list[dict]:
    records = []
    for word, queue in TOPICS:
        for i in range(4):
            good, bad = f"Routed to the {queue} queue.", "Please contact support."
            if swap:
                good, bad = bad, good
            records.append(_record(f"ticket {i}: my {word} is a problem", good, bad))
    return records


@pytest.mark.parametrize("swap", [False, True])
def test_the_simulated_model_answers_like_the_preferred_completion(emu, swap):
    job = _preference_job(emu, upload(_lines(_topic_records(swap)), "gs://b/pref.jsonl"))
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    answer = _ask(emu, job["tunedModel"]["endpoint"], "a new ticket about my refund")
    preferred = "Please contact support." if swap else "Routed to the billing queue."
    assert answer == preferred


def test_preference_tuning_from_an_sft_model_keeps_what_it_knew(emu):
    sft_lines = _lines(
        [
            {"contents": [_turn("user", "What are your opening hours?"), _turn("model", "9-5")]},
            {"contents": [_turn("user", "Where is my refund?"), _turn("model", "Wait a week.")]},
        ]
    )
    status, created, _ = call(
        emu, "POST", f"{PARENT}/tuningJobs", tuning_body(upload(sft_lines, "gs://b/sft.jsonl"))
    )
    assert status == 200, created
    sft = _finished(emu, created["name"])
    body = {
        "preTunedModel": {"tunedModelName": sft["tunedModel"]["model"].split("@")[0]},
        "preferenceOptimizationSpec": {
            "trainingDatasetUri": upload(_lines([GOOD]), "gs://b/pref.jsonl"),
            "hyperParameters": {"beta": 0.1},
        },
    }
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200, created
    job = _finished(emu, created["name"])
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    endpoint = job["tunedModel"]["endpoint"]
    assert _ask(emu, endpoint, "Where is my refund?") == "queue: billing"  # the new preference
    assert _ask(emu, endpoint, "What are your opening hours?") == "9-5"  # the SFT knowledge


def _docs_body(uri: str, **spec) -> dict:
    """The request body of Google's "Tune Gemini models by using preference tuning" REST
    tab (cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-use-preference-tuning),
    its placeholders filled as strings the way the page quotes them."""
    return {
        "baseModel": "gemini-2.5-flash",
        "preferenceOptimizationSpec": {
            "trainingDatasetUri": uri,
            "validationDatasetUri": uri,
            "hyperParameters": {
                "epochCount": "2",
                "adapterSize": "ADAPTER_SIZE_FOUR",
                "learningRateMultiplier": "1.0",
                "beta": "0.1",
            },
            "exportLastCheckpointOnly": False,
            **spec,
        },
        "tunedModelDisplayName": "preference docs body",
    }


def test_the_documented_rest_body_is_answered_in_canonical_proto_json(emu):
    """Vertex stores the spec as a proto and answers its proto JSON: int64 ``epochCount``
    a string, doubles numbers (``beta`` was echoed back as the string it was sent as)."""
    uri = upload(_lines([GOOD] * 5), "gs://b/train.jsonl")
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", _docs_body(uri))
    assert status == 200, created
    job = _finished(emu, created["name"])
    params = job["preferenceOptimizationSpec"]["hyperParameters"]
    assert params == {
        "epochCount": "2",
        "adapterSize": "ADAPTER_SIZE_FOUR",
        "learningRateMultiplier": 1.0,
        "beta": 0.1,
    }
    listed = call(emu, "GET", f"{PARENT}/tuningJobs")[1]["tuningJobs"]
    assert [j["preferenceOptimizationSpec"] for j in listed] == [job["preferenceOptimizationSpec"]]


def test_snake_case_and_lowercase_enum_names_are_read_as_vertex_transcoding_reads_them(emu):
    uri = upload(_lines([GOOD] * 5), "gs://b/train.jsonl")
    body = {
        "base_model": "gemini-2.5-flash",
        "preference_optimization_spec": {
            "training_dataset_uri": uri,
            "hyper_parameters": {"epoch_count": 1, "adapter_size": "adapter_size_four"},
        },
    }
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200, created
    spec = created["preferenceOptimizationSpec"]
    assert spec["trainingDatasetUri"] == uri
    assert spec["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_FOUR"


@pytest.mark.parametrize(
    ("hyper_parameters", "field", "wording"),
    [
        ({"beta": "abc"}, "hyper_parameters.beta", "Invalid value at"),
        (
            {"gamma": 1},
            "hyper_parameters.gamma",
            'Invalid JSON payload received. Unknown name "gamma"',
        ),
    ],
)
def test_a_bad_hyper_parameter_is_a_400_in_vertex_wording(emu, hyper_parameters, field, wording):
    body = {
        "baseModel": "gemini-2.5-flash",
        "preferenceOptimizationSpec": {
            "trainingDatasetUri": "gs://b/t.jsonl",
            "hyperParameters": hyper_parameters,
        },
    }
    status, answer, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 400 and answer["error"]["message"].startswith(wording), answer
    violation = answer["error"]["details"][0]["fieldViolations"][0]
    assert violation["field"] == f"tuning_job.preference_optimization_spec.{field}"


EVALUATION = {
    "metrics": [{"exactMatchSpec": {}, "aggregationMetrics": ["AVERAGE"]}],
    "outputConfig": {"gcsDestination": {"outputUriPrefix": "gs://evals/preference"}},
}


def test_evaluation_config_is_a_v1beta1_field_of_the_preference_spec(emu):
    """The discovery documents: v1beta1's PreferenceOptimizationSpec has
    ``evaluationConfig``, v1's has not (googleapis.dev/dotnet Google.Apis.Aiplatform)."""
    uri = upload(_lines([GOOD] * 5), "gs://b/train.jsonl")
    body = _docs_body(uri, evaluationConfig=EVALUATION)
    status, answer, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 400, answer
    assert answer["error"]["message"] == (
        'Invalid JSON payload received. Unknown name "evaluationConfig" at '
        "'tuning_job.preference_optimization_spec': Cannot find field."
    )
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body, version="v1beta1")
    assert status == 200, created
    deadline = time.monotonic() + 10
    while (job := call(emu, "GET", created["name"], version="v1beta1")[1])["state"] not in (
        "JOB_STATE_SUCCEEDED",
        "JOB_STATE_FAILED",
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    assert job["preferenceOptimizationSpec"]["evaluationConfig"]["metrics"]
    assert len(job["evaluateDatasetRuns"]) == len(job["tunedModel"]["checkpoints"])
