"""Google's published samples (python-docs-samples ``genai/tuning``, ``genai/count_tokens``,
``genai/text_generation``, kept verbatim under ``genai/``) run unmodified against the
emulator, configured by environment variables alone, and print what they print on Vertex.

One emulator (with its loopback metadata server and Vertex HTTPS proxy) serves a fresh
interpreter per sample directory (``driver.py``); its environment is only what
``gemini-sft emulator`` prints. Each sample's outcome is one test below; every sample
file is in ``PLAN`` (a new upstream sample fails ``test_every_sample_is_planned``).
The Cloud Storage objects the samples name (``gs://cloud-samples-data/...``,
``gs://mybucket/...``) are seeded with synthetic stand-ins, and local media files are
stand-in bytes: the emulator does not look inside media.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import urllib3

from gemini_sft_kfp.core import models
from gemini_sft_kfp.core.clients import EMULATOR_PROJECT_NUMBER
from tests.support import REPO

HERE = Path(__file__).parent
SAMPLES = HERE / "genai"
N = f"projects/{EMULATOR_PROJECT_NUMBER}/locations/us-central1"
TRAIN_URI = "gs://cloud-samples-data/ai-platform/generative_ai/gemini/text/sft_train_data.jsonl"
VALIDATION_URI = (
    "gs://cloud-samples-data/ai-platform/generative_ai/gemini/text/sft_validation_data.jsonl"
)
SKY = "The sky is blue because air scatters short blue wavelengths of sunlight the most."
OUTPUT_URI = "gs://samples-output/evaluation"


def _step(group: str, name: str, call: str = "__main__", *args, id: str | None = None) -> dict:
    return {
        "id": id or name,
        "file": str(SAMPLES / group / f"{name}.py"),
        "call": call,
        "args": list(args),
        "group": group,
    }


# In upstream order of use; ``{id}`` in an argument is an earlier step's return value.
PLAN = [
    _step("tuning", "tuning_job_create", "create_tuning_job", OUTPUT_URI, id="job"),
    _step("tuning", "tuning_job_get", "get_tuning_job", "{job}"),
    _step("tuning", "tuning_job_list", "list_tuning_jobs"),
    _step("tuning", "tuning_textgen_with_txt", "predict_with_tuned_endpoint", "{job}"),
    _step(
        "tuning", "tuning_with_checkpoints_create", "create_with_checkpoints", OUTPUT_URI, id="cjob"
    ),
    _step(
        "tuning", "tuning_with_checkpoints_get_model", "get_tuned_model_with_checkpoints", "{cjob}"
    ),
    _step("tuning", "tuning_with_checkpoints_list_checkpoints", "list_checkpoints", "{cjob}"),
    _step(
        "tuning",
        "tuning_with_checkpoints_set_default_checkpoint",
        "set_default_checkpoint",
        "{cjob}",
        "1",
    ),
    _step(
        "tuning", "tuning_with_checkpoints_textgen_with_txt", "predict_with_checkpoints", "{cjob}"
    ),
    {"id": "model", "kind": "harness", "action": "tuned_model_of:cjob", "group": "tuning"},
    _step("tuning", "tuning_with_pretuned_model", "create_continuous_tuning_job", "{model}", "1"),
    _step("tuning", "preference_tuning_job_create", "create_tuning_job", id="pjob"),
    # Google's generic get / predict / list / cancel samples on preference-tuned jobs
    _step("tuning", "tuning_job_get", "get_tuning_job", "{pjob}", id="pjob_get"),
    _step(
        "tuning", "tuning_textgen_with_txt", "predict_with_tuned_endpoint", "{pjob}", id="pjob_ask"
    ),
    _step("tuning", "tuning_job_list", "list_tuning_jobs", id="pjob_list"),
    {"id": "prunning", "kind": "harness", "action": "start_preference_job", "group": "tuning"},
    _step("tuning", "tuning_job_cancel", "cancel_tuning_job", "{prunning}", id="pjob_cancel"),
    {"id": "pcancelled", "kind": "harness", "action": "job_state:prunning", "group": "tuning"},
    {"id": "running", "kind": "harness", "action": "start_job", "group": "tuning"},
    _step("tuning", "tuning_job_cancel", "cancel_tuning_job", "{running}"),
    {"id": "cancelled", "kind": "harness", "action": "job_state:running", "group": "tuning"},
    *[
        _step("count_tokens", name)
        for name in (
            "counttoken_compute_with_txt",
            "counttoken_resp_with_txt",
            "counttoken_with_txt",
            "counttoken_with_txt_vid",
            "counttoken_localtokenizer_compute_with_txt",
            "counttoken_localtokenizer_with_txt",
        )
    ],
    *[
        _step("text_generation", path.stem)
        for path in sorted((SAMPLES / "text_generation").glob("*.py"))
    ],
]

TEXT = r"\S.{20,}"  # some generated text
# What each sample prints on Vertex (its "Example response" comments), as patterns.
EXPECTED = {
    "job": [
        rf"{N}/models/\d+@1",
        rf"{N}/endpoints/\d+",
        rf"{N}/metadataStores/default/contexts/tuning-experiment-\d+",
        rf"Checkpoint 1:  checkpoint_id='1' epoch=1 step=\d+ endpoint='{N}/endpoints/\d+'",
    ],
    "tuning_job_get": [
        rf"{N}/models/\d+@1",
        rf"{N}/endpoints/\d+",
        rf"{N}/metadataStores/default/contexts/tuning-experiment-\d+",
    ],
    "tuning_job_list": [rf"{N}/tuningJobs/\d+"],
    "tuning_textgen_with_txt": [re.escape(SKY)],
    "cjob": [rf"{N}/models/\d+@1", r"Checkpoint 2:  checkpoint_id='2' epoch=2 step=\d+"],
    "tuning_with_checkpoints_get_model": [
        rf"name='{N}/models/\d+",
        r"Default checkpoint: \d+",
        r"Checkpoint 1:  checkpoint_id='1' epoch=1 step=\d+",
    ],
    "tuning_with_checkpoints_list_checkpoints": [
        r"Checkpoint 1:  checkpoint_id='1' epoch=1 step=\d+ endpoint="
    ],
    "tuning_with_checkpoints_set_default_checkpoint": [
        r"Default checkpoint: ([2-9]|\d\d+)\n",
        r"Default checkpoint: 1\n",
    ],
    "tuning_with_checkpoints_textgen_with_txt": [re.escape(SKY)],
    "tuning_with_pretuned_model": [rf"{N}/models/\d+@2", rf"{N}/endpoints/\d+"],
    "pjob": [
        rf"{N}/models/\d+@1",
        rf"{N}/endpoints/\d+",
        rf"{N}/metadataStores/default/contexts/tuning-experiment-\d+",
        rf"Checkpoint 1:  checkpoint_id='1' epoch=1 step=\d+ endpoint='{N}/endpoints/\d+'",
    ],
    "pjob_get": [
        rf"{N}/models/\d+@1",
        rf"{N}/endpoints/\d+",
        rf"{N}/metadataStores/default/contexts/tuning-experiment-\d+",
    ],
    "pjob_ask": [re.escape(SKY)],  # the preferred completion of the closest example
    "counttoken_compute_with_txt": [r"tokens_info=\[TokensInfo\(", r"role='user'"],
    "counttoken_resp_with_txt": [r"prompt_token_count=\d+", r"total_token_count=\d+"],
    "counttoken_with_txt": [r"total_tokens=\d+"],
    "counttoken_with_txt_vid": [r"total_tokens=\d+"],
    "textgen_with_txt_stream": [TEXT],
    "textgen_chat_stream_with_txt": [TEXT],
}
# Not runnable offline, for reasons outside the emulator: the failure must be this one.
OFFLINE = {
    "counttoken_localtokenizer_compute_with_txt": r"sentencepiece|ProxyError|403|Connect",
    "counttoken_localtokenizer_with_txt": r"sentencepiece|ProxyError|403|Connect",
}
COMMENTED_OUT = {"model_optimizer_textgen_with_txt"}  # the whole sample is a comment upstream
RESULT_IS_TEXT = {s["id"] for s in PLAN if s.get("group") == "text_generation"} - COMMENTED_OUT


def _sample_env(emu) -> dict[str, str]:
    """This interpreter's environment minus anything Google, plus what the CLI prints."""
    drop = (
        "GOOGLE_",
        "GCE_",
        "VERTEX_AI_EMULATOR",
        "STORAGE_EMULATOR",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "SSL_CERT",
        "NO_PROXY",
        "GEMINI_SFT_MODEL_TABLE",
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(drop)}
    return env | emu.env | emu.sdk_env


def _seed(emu) -> None:
    http = urllib3.PoolManager()
    lines = (REPO / "examples" / "data" / "train.jsonl").read_bytes().splitlines()[:60]
    sky = {
        "contents": [
            {"role": "user", "parts": [{"text": "Why is the sky blue?"}]},
            {"role": "model", "parts": [{"text": SKY}]},
        ]
    }
    train = b"\n".join([*lines, orjson.dumps(sky)]) + b"\n"
    validation = (REPO / "examples" / "data" / "validation.jsonl").read_bytes()
    preference = []
    for line in train.splitlines():
        record = orjson.loads(line)
        *prompt, answer = record["contents"]
        preference.append(
            orjson.dumps(
                {
                    "contents": prompt,
                    "completions": [
                        {"score": 1.0, "completion": answer},
                        {
                            "score": 0.0,
                            "completion": {"role": "model", "parts": [{"text": "Not sure."}]},
                        },
                    ],
                }
            )
        )
    objects = {
        TRAIN_URI: train,
        VALIDATION_URI: validation,
        "gs://mybucket/preference_tuning/data/train_data.jsonl": b"\n".join(preference),
        "gs://mybucket/preference_tuning/data/validation_data.jsonl": b"\n".join(preference[:10]),
    }
    for bucket in ("cloud-samples-data", "mybucket", "samples-output"):
        http.request(
            "POST",
            f"{emu.gcs_url}/storage/v1/b?project=p",
            body=orjson.dumps({"name": bucket}),
            headers={"Content-Type": "application/json"},
        )
    for uri, data in objects.items():
        bucket, _, name = uri[5:].partition("/")
        reply = http.request(
            "POST",
            f"{emu.gcs_url}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}",
            body=data,
        )
        assert reply.status == 200, reply.data


@pytest.fixture(scope="module")
def sample_emulator(tmp_path_factory, monkeypatch_module):
    from gemini_sft_kfp.emulator import Emulator

    specs, _ = models.model_table()
    if "gemini-3.5-flash" not in specs:  # until the shipped table lists it
        monkeypatch_module.setenv("GEMINI_SFT_MODEL_TABLE", str(HERE / "current_models.json"))
        models.model_table.cache_clear()
    with Emulator(tuning_seconds=2.0, https_proxy_port=0, strict=True) as emu:
        _seed(emu)
        yield emu
    models.model_table.cache_clear()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def outcomes(sample_emulator, tmp_path_factory) -> dict[str, dict]:
    media = tmp_path_factory.mktemp("samples-cwd")
    (media / "test_data").mkdir()
    for name in ("latte.jpg", "scones.jpg", "describe_video_content.mp4"):
        (media / "test_data" / name).write_bytes(b"stand-in media bytes for " + name.encode())
    found = {}
    for group in ("tuning", "count_tokens", "text_generation"):
        plan = [{**s, "cwd": str(media)} for s in PLAN if s["group"] == group]
        run = subprocess.run(
            [sys.executable, str(HERE / "driver.py"), json.dumps(plan)],
            env=_sample_env(sample_emulator),
            capture_output=True,
            text=True,
            timeout=240,
            cwd=media,
        )
        for line in run.stdout.splitlines():
            if line.startswith('{"id"'):
                outcome = json.loads(line)
                found[outcome["id"]] = outcome
        missing = [s["id"] for s in plan if s["id"] not in found]
        assert not missing, f"driver stopped before {missing}: {run.stderr[-3000:]}"
    return found


_HEADER_LINES = 4  # source, path and blob, "verbatim", blank line


def test_samples_are_verbatim():
    """Each body hashes to the upstream git blob its header names (no edit, no reformat)."""
    for path in SAMPLES.glob("*/*.py"):
        data = path.read_bytes()
        blob = re.search(rb"\(git blob ([0-9a-f]{40})\)", data.split(b"\n", 2)[1]).group(1)
        body = data.split(b"\n", _HEADER_LINES)[_HEADER_LINES]
        digest = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
        assert digest == blob.decode(), f"{path} differs from upstream"


def test_every_sample_is_planned():
    files = {p.stem for p in SAMPLES.glob("*/*.py")}
    planned = {Path(s["file"]).stem for s in PLAN if "file" in s}
    assert files == planned


@pytest.mark.parametrize("step", [s for s in PLAN if "file" in s], ids=lambda s: s["id"])
def test_sample_runs_unmodified(outcomes, step):
    outcome = outcomes[step["id"]]
    name = Path(step["file"]).stem
    if name in OFFLINE:
        assert not outcome["ok"] and re.search(OFFLINE[name], outcome["error"]), outcome
        return
    assert outcome["ok"], outcome.get("traceback") or outcome
    for pattern in EXPECTED.get(step["id"], []):
        assert re.search(pattern, outcome["stdout"]), (pattern, outcome["stdout"])
    if name in COMMENTED_OUT:
        assert outcome["stdout"] == ""
    elif step["id"] in RESULT_IS_TEXT:
        assert outcome["stdout"].strip(), outcome


def test_cancel_sample_cancelled_the_running_job(outcomes):
    assert outcomes["running"]["ok"] and outcomes["cancelled"]["result"] == "JOB_STATE_CANCELLED"


def test_samples_handle_preference_jobs_like_any_tuning_job(sample_emulator, outcomes):
    """Google's get / list / cancel samples, given preference-tuned jobs, see what they
    see on Vertex: the job itself, listed, and cancelled."""
    job = outcomes["pjob"]["result"]
    assert re.fullmatch(rf"{N}/tuningJobs/\d+", job)
    assert outcomes["pjob_get"]["result"] == job
    assert job in outcomes["pjob_list"]["stdout"].split()
    assert outcomes["prunning"]["ok"] and outcomes["pcancelled"]["result"] == "JOB_STATE_CANCELLED"
    raw = orjson.loads(
        urllib3.request(
            "GET", f"{sample_emulator.vertex_url}/v1/{outcomes['prunning']['result']}"
        ).data
    )
    assert "preferenceOptimizationSpec" in raw and raw["error"]["code"] == 1


def test_samples_used_only_emulated_methods(sample_emulator, outcomes):
    methods = {r["method"] for r in sample_emulator.requests()}
    assert "unknown" not in methods and all(r["status"] < 500 for r in sample_emulator.requests())
