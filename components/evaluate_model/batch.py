"""Batch prediction: all of a model's prompts in one Vertex AI batch prediction job.

For large eval sets: half the price of online calls, no client-side concurrency or
rate limit to tune, and the client only writes one request file and reads one result
file. Per model: the prompts go to ``<staging>/<role>-requests.jsonl`` as
``{"key", "request"}`` lines (the same request body as online), a job runs on the
model's resource (a tuned endpoint's deployed model, or the base model), and the
results are read back by ``key`` into input order. The job's lifecycle is
``core.cloud_job``'s: resumed from ``gcp_resources`` or found by its idempotency label,
created at most once per task, polled, cancelled on SIGTERM.

``auto`` picks batch from ``AUTO_BATCH_MIN_EXAMPLES`` examples: online at the default
8 in flight and 1-2 s a Gemini answer does 4-8 examples a second, so 5,000 take 10-20
minutes, about what a batch job spends queued and starting; above that batch is the
faster and cheaper one.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence

import orjson
from gemini_sft_kfp.components.evaluate_model.eval_data import EvalExample
from gemini_sft_kfp.components.evaluate_model.runner import (
    Prediction,
    RunStats,
    Settings,
    Target,
    _fill_from_response,
    body_for,
    is_endpoint_name,
)

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.batch_job import BatchPredictionJobs, get_json
from gemini_sft_kfp.core.cloud_job import CloudJob, idempotency_value
from gemini_sft_kfp.core.errors import CloudJobError, UserError
from gemini_sft_kfp.core.job_states import SUCCEEDED, state_name

log = logging.getLogger(__name__)

METHODS = ("online", "batch", "auto")
AUTO_BATCH_MIN_EXAMPLES = 5000
CHUNK_BYTES = 1 << 20
UPLOAD_CHUNK_BYTES = 4 * (1 << 20)  # resumable chunks: a multiple of 256 KiB
SIMULATED_HEADERS = {"x-emulator-simulated": "true"}
GLOBAL = "global"


def resolve_method(method: str, examples: int, location: str = "") -> str:
    """``online`` or ``batch``. Vertex AI runs no batch inference of tuned models on the
    ``global`` endpoint: there ``auto`` stays online and ``batch`` is refused."""
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; choose {', '.join(METHODS)}", field="method")
    if location == GLOBAL:
        if method == "batch":
            raise UserError(
                "batch prediction of tuned models is not available in location 'global': "
                "use method 'online' or a regional location",
                field="method",
            )
        return "online"
    if method == "auto":
        return "batch" if examples >= AUTO_BATCH_MIN_EXAMPLES else "online"
    return method


def batch_model(client, target: Target) -> str:
    """The model resource a batch job runs: a tuned endpoint's deployed model version."""
    if not is_endpoint_name(target.model):
        return target.model  # a base model id: google-genai makes it publishers/google/...
    deployed = (get_json(client, target.model).get("deployedModels") or [None])[0]
    if deployed is None:
        raise UserError(f"endpoint {target.model} has no deployed model", field="endpoint")
    version = deployed.get("modelVersionId")
    return f"{deployed['model']}@{version}" if version else deployed["model"]


def display_name(role: str) -> str:
    return f"gemini-sft-eval-{role}"


def _recorded(job: CloudJob, path: str | None, role: str) -> str | None:
    """This role's reusable job among those an earlier attempt recorded in ``path``."""
    from gemini_sft_kfp.core.cloud_job import is_reusable

    for name in gcp_resources.read_all(path, job.kind.resource_type):
        try:
            found = job.get(name)
        except UserError:  # gone (404) or unreadable: look further
            continue
        if found.display_name == display_name(role) and is_reusable(found):
            log.info("resuming %s batch prediction job %s (recorded)", role, name)
            return name
    return None


def _record(path: str | None, name: str, location: str) -> None:
    if not path:
        return
    names = gcp_resources.read_all(path, "BatchPredictionJob")
    if name not in names:
        gcp_resources.write_all(path, "BatchPredictionJob", [*names, name], location)


def write_requests(path: str, target: Target, examples: Sequence[EvalExample], settings) -> None:
    """The request file, one line per example, streamed to disk."""
    with open(path, "wb") as f:
        for example in examples:
            body = body_for(target, example, settings)
            f.write(orjson.dumps({"key": str(example.index), "request": body}) + b"\n")


def read_results(
    directory: str,
    predictions: list[Prediction],
    *,
    project: str,
    examples: Sequence[EvalExample] = (),
) -> None:
    """Fill ``predictions`` from every ``*.jsonl`` under the job's output directory.

    Lines are matched by their ``key``; a line without one (should the service not keep
    the input's extra fields) by its echoed request's ``contents``, first unfilled first.
    """
    from gemini_sft_kfp.core.clients import storage_client

    by_contents = _ContentsIndex(examples)
    bucket_name, _, prefix = directory[len("gs://") :].partition("/")
    client = storage_client(project)
    for blob in client.list_blobs(bucket_name, prefix=prefix.rstrip("/") + "/"):
        if not blob.name.endswith(".jsonl"):
            continue
        with blob.open("rb", chunk_size=CHUNK_BYTES) as reader:
            rest = b""
            while chunk := reader.read(CHUNK_BYTES):  # line by line, a chunk in memory
                *lines, rest = (rest + chunk).split(b"\n")
                for raw in lines:
                    if raw.strip():
                        _fill(predictions, orjson.loads(raw), by_contents)
            if rest.strip():
                _fill(predictions, orjson.loads(rest), by_contents)


class _ContentsIndex:
    """Example indexes by their prompt turns' JSON, built on the first line without a key
    (the examples' own bytes are the keys: no copy)."""

    def __init__(self, examples: Sequence[EvalExample]) -> None:
        self._examples = examples
        self._waiting: dict[bytes, list[int]] | None = None

    def pop(self, contents) -> int | None:
        if self._waiting is None:
            self._waiting = {}
            for example in reversed(self._examples):
                self._waiting.setdefault(example.contents_json, []).append(example.index)
        waiting = self._waiting.get(orjson.dumps(contents, option=orjson.OPT_SORT_KEYS))
        return waiting.pop() if waiting else None


def _index(line: dict, size: int, by_contents: _ContentsIndex) -> int | None:
    key = line.get("key")
    if isinstance(key, str) and key.isdigit() and int(key) < size:
        return int(key)
    request = line.get("request")
    if isinstance(request, dict):
        return by_contents.pop(request.get("contents"))
    return None


def _fill(predictions: list[Prediction], line: dict, by_contents=None) -> None:
    index = _index(line, len(predictions), by_contents or _ContentsIndex(()))
    if index is None:
        log.warning("batch output line matches no example: %.200s", line)
        return
    prediction = predictions[index]
    if prediction.attempts:  # a key seen twice: keep the first
        return
    prediction.attempts = 1
    headers = SIMULATED_HEADERS if line.get("simulated") else {}
    if line.get("status") or not isinstance(line.get("response"), dict):
        prediction.error = f"batch prediction failed: {line.get('status') or 'no response'}"
        prediction.simulated = bool(line.get("simulated"))
        return
    _fill_from_response(prediction, line["response"], headers)


def predict_batch(
    target: Target,
    examples: Sequence[EvalExample],
    settings: Settings,
    *,
    project: str,
    location: str,
    staging_uri: str,
    gcp_resources_path: str | None = None,
    idempotency_key: str = "",
    pipeline_job_id: str = "",
    task_name: str = "",
    poll_seconds: float = 10.0,
    stats: RunStats | None = None,
) -> list[Prediction]:
    """One prediction per example (text, or the error the job reported for it)."""
    from gemini_sft_kfp.core.clients import storage_client

    stats = stats if stats is not None else RunStats()
    started, cpu = time.perf_counter(), time.process_time()
    staging = staging_uri.rstrip("/")
    kind = BatchPredictionJobs(project, location)
    # one gcp_resources file lists both models' jobs: CloudJob records none itself
    job = CloudJob(kind, kind.client, location=location)
    label = idempotency_value(
        idempotency_key=f"{idempotency_key}-{target.role}" if idempotency_key else "",
        pipeline_job_id=pipeline_job_id,
        task_name=task_name,
        fingerprint=f"{target.role}\n{target.model}\n{staging}",
    )
    source = f"{staging}/{target.role}-requests.jsonl"

    def upload_requests() -> None:
        """Only when a job is about to be created: a resumed job has its file."""
        bucket_name, _, blob_name = source[len("gs://") :].partition("/")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "requests.jsonl")
            write_requests(path, target, examples, settings)
            blob = storage_client(project).bucket(bucket_name).blob(blob_name)
            blob.chunk_size = UPLOAD_CHUNK_BYTES  # else one 100 MB buffer per request
            try:
                blob.upload_from_filename(path, content_type="application/octet-stream")
            except Exception as exc:
                if getattr(exc, "code", None) in (403, 404):
                    raise UserError(
                        f"cannot write the batch requests to {source}: {exc}",
                        field="staging_uri",
                    ) from None
                raise

    def create(client, labels: dict[str, str]):
        model = batch_model(client, target)
        log.info("%s: batch prediction of %d examples on %s", target.role, len(examples), model)
        return kind.create(
            client,
            model=model,
            source_uri=source,
            destination_uri=f"{staging}/{target.role}-output",
            display_name=display_name(target.role),
            labels=labels,
        )

    name = _recorded(job, gcp_resources_path, target.role)
    name = name or job.start(create, label, preflight=upload_requests)
    _record(gcp_resources_path, name, location)
    done = job.wait(name, poll_initial_seconds=poll_seconds, poll_max_seconds=6 * poll_seconds)
    if state_name(done.state) != SUCCEEDED:
        error = getattr(done, "error", None)
        raise CloudJobError(
            f"{target.role} batch prediction job {name} ended {state_name(done.state)}: "
            f"{getattr(error, 'message', '') or ''}",
            code=getattr(error, "code", None),
            state=state_name(done.state),
        )
    predictions = [Prediction(index=e.index) for e in examples]
    read_results(done.dest.gcs_uri, predictions, project=project, examples=examples)
    for prediction in predictions:
        if not prediction.attempts:
            prediction.error = "no result for this example in the batch output"
    stats.wall_seconds = time.perf_counter() - started
    stats.requests = len(examples)
    stats.client_cpu_seconds = time.process_time() - cpu
    return predictions
