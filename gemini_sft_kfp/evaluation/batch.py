"""Batch prediction: all of a model's prompts in one Vertex AI batch prediction job.

For large eval sets: half the price of online calls, no client-side concurrency or
rate limit to tune, and the client only writes one request file and reads one result
file. Per model: the prompts go to ``<staging>/<role>-<label>/requests.jsonl`` as
``{"key", "request"}`` lines (the same request body as online), a job runs on the
model's resource (a tuned endpoint's deployed model, or the base model), and the
results are read back by ``key`` into input order from the job's own output directory
(never from everything under the prefix: a later run with the same staging prefix
must not read an earlier run's answers). The job's lifecycle is ``jobs.runner``'s:
resumed from ``gcp_resources`` or found by its idempotency label, created at most once
per task, polled, cancelled on SIGTERM. Outside a pipeline the label is derived from
what the job computes (model version, staging prefix, request file), so re-running
``gemini-sft evaluate`` after a crash resumes the job the crashed run left running
instead of paying for a second one.

``auto`` picks batch from ``AUTO_BATCH_MIN_EXAMPLES`` examples: online at the default
8 in flight and 1-2 s a Gemini answer does 4-8 examples a second, so 5,000 take 10-20
minutes, about what a batch job spends queued and starting; above that batch is the
faster and cheaper one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from gemini_sft_kfp.core import gcp_resources, retry
from gemini_sft_kfp.core.errors import CloudJobError, UserError
from gemini_sft_kfp.core.jsonl import OversizedLine, iter_lines, max_line_bytes
from gemini_sft_kfp.evaluation.eval_data import EvalExample
from gemini_sft_kfp.evaluation.runner import (
    Prediction,
    RunStats,
    Settings,
    Target,
    _fill_from_response,
    body_for,
    is_endpoint_name,
)
from gemini_sft_kfp.jobs.batch import BATCH_PREDICTION_JOBS, get_json
from gemini_sft_kfp.jobs.identity import idempotency_value, in_pipeline
from gemini_sft_kfp.jobs.runner import CloudJob
from gemini_sft_kfp.jobs.states import PARTIALLY_SUCCEEDED, SUCCEEDED, state_name

log = logging.getLogger(__name__)

METHODS = ("online", "batch", "auto")
AUTO_BATCH_MIN_EXAMPLES = 5000
CHUNK_BYTES = 1 << 20
PREDICTION_LINE_FACTOR = 2  # a prediction line echoes the request (one example) + the answer
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
    """The model resource a batch job runs: a tuned endpoint's deployed model version, or
    the base model id. Read before any job starts, so a wrong baseline is refused before
    the tuned model's job is paid for, naming the setting to fix."""
    field = "baseline" if target.role == "baseline" else "endpoint"
    path = target.model
    if not is_endpoint_name(target.model):
        path = f"publishers/google/models/{target.model.rsplit('/', 1)[-1]}"
    try:
        found = retry.call_with_retry(get_json, client, path)
    except Exception as exc:
        status = retry.http_status(exc)
        if status not in (400, 403, 404):
            raise
        message = getattr(exc, "message", None) or exc
        raise UserError(
            f"{target.role} model {target.model!r} cannot be read: {status} {message}",
            field=field,
        ) from None
    if not is_endpoint_name(target.model):
        return target.model  # a base model id: google-genai makes it publishers/google/...
    deployed = (found.get("deployedModels") or [None])[0]
    if deployed is None:
        raise UserError(f"endpoint {target.model} has no deployed model", field=field)
    version = deployed.get("modelVersionId")
    return f"{deployed['model']}@{version}" if version else deployed["model"]


def batch_models(project: str, location: str, targets: Sequence[Target]) -> dict[str, str]:
    """Every target's batch model by role, checked before the first job starts."""
    client = BATCH_PREDICTION_JOBS.client(project, location)
    return {target.role: batch_model(client, target) for target in targets}


def display_name(role: str) -> str:
    return f"gemini-sft-eval-{role}"


def _recorded(job: CloudJob, path: str | None, role: str) -> str | None:
    """This role's reusable job among those an earlier attempt recorded in ``path``."""
    from gemini_sft_kfp.jobs.identity import is_reusable

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


def write_requests(path: str, target: Target, examples: Sequence[EvalExample], settings) -> str:
    """The request file, one line per example, streamed to disk; returns its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for example in examples:
            body = body_for(target, example, settings)
            line = orjson.dumps({"key": str(example.index), "request": body}) + b"\n"
            digest.update(line)
            f.write(line)
    return digest.hexdigest()


def _label(target: Target, model: str, staging: str, digest: str, **task: str) -> str:
    """This job's idempotency label: the task's inside a pipeline; outside one, what the
    job computes, so a re-run of the same evaluation finds the job a crashed run left."""
    fingerprint = f"{target.role}\n{model}\n{staging}\n{digest}"
    key = task.get("idempotency_key", "")
    if not key and not in_pipeline(task.get("pipeline_job_id", ""), task.get("task_name", "")):
        key = "eval-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:40]
    return idempotency_value(
        idempotency_key=f"{key}-{target.role}" if key else "",
        pipeline_job_id=task.get("pipeline_job_id", ""),
        task_name=task.get("task_name", ""),
        fingerprint=fingerprint,
    )


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
    from gemini_sft_kfp.core.clients import storage_client, storage_retry

    by_contents = _ContentsIndex(examples)
    bucket_name, _, prefix = directory[len("gs://") :].partition("/")
    client = storage_client(project)
    listed = client.list_blobs(bucket_name, prefix=prefix.rstrip("/") + "/", retry=storage_retry())
    for blob in listed:
        if not blob.name.endswith(".jsonl"):
            continue
        with blob.open("rb", chunk_size=CHUNK_BYTES, retry=storage_retry()) as reader:
            # line by line with the cap (an echoed request plus its answer): a line past
            # it is skipped unread and its example counts as unanswered
            for raw in iter_lines(reader, PREDICTION_LINE_FACTOR * max_line_bytes()):
                if type(raw) is OversizedLine:
                    log.warning("%s: a prediction line of %d bytes skipped", blob.name, raw.size)
                elif raw.strip():
                    _fill(predictions, orjson.loads(raw), by_contents)


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


@dataclass
class StartedBatch:
    """A model's batch job, started or resumed, and recorded in ``gcp_resources``."""

    target: Target
    examples: Sequence[EvalExample]
    job: CloudJob
    name: str
    project: str
    poll_seconds: float
    stats: RunStats
    started: float  # perf_counter at the start, for the run's wall time
    start_cpu_seconds: float  # client CPU of starting it (finishing adds its own)


def start_batch(
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
    model: str | None = None,
) -> StartedBatch:
    """Resume, find or create ``target``'s batch job and record it; ``finish_batch``
    waits for it. Starting every model's job before waiting for any lets them run side
    by side. ``model``: the batch model ``batch_models`` resolved (read here if not)."""
    from gemini_sft_kfp.core.clients import storage_client, storage_retry

    stats = stats if stats is not None else RunStats()
    started, cpu = time.perf_counter(), time.process_time()
    staging = staging_uri.rstrip("/")
    kind = BATCH_PREDICTION_JOBS
    # one gcp_resources file lists both models' jobs: CloudJob records none itself.
    # Outside a pipeline a job this command's Ctrl-C cancelled is not reused on a re-run.
    job = CloudJob(
        kind,
        lambda: kind.client(project, location),
        location=location,
        reuse_cancelled=in_pipeline(pipeline_job_id, task_name),
    )
    model = model or batch_model(job.client, target)
    with tempfile.TemporaryDirectory() as tmp:
        requests = os.path.join(tmp, "requests.jsonl")
        digest = write_requests(requests, target, examples, settings)
        label = _label(
            target,
            model,
            staging,
            digest,
            idempotency_key=idempotency_key,
            pipeline_job_id=pipeline_job_id,
            task_name=task_name,
        )
        folder = f"{staging}/{target.role}-{label}"  # this job's own files
        source = f"{folder}/requests.jsonl"

        def upload_requests() -> None:
            """Only when a job is about to be created: a resumed job has its file."""
            bucket_name, _, blob_name = source[len("gs://") :].partition("/")
            blob = storage_client(project).bucket(bucket_name).blob(blob_name)
            blob.chunk_size = UPLOAD_CHUNK_BYTES  # else one 100 MB buffer per request
            try:
                blob.upload_from_filename(
                    requests, content_type="application/octet-stream", retry=storage_retry()
                )
            except Exception as exc:
                if getattr(exc, "code", None) in (403, 404):
                    raise UserError(
                        f"cannot write the batch requests to {source}: {exc}",
                        field="staging_uri",
                    ) from None
                raise

        def create(client, labels: dict[str, str]):
            log.info("%s: batch prediction of %d examples on %s", target.role, len(examples), model)
            return kind.create(
                client,
                model=model,
                source_uri=source,
                destination_uri=f"{folder}/output",
                display_name=display_name(target.role),
                labels=labels,
            )

        name = _recorded(job, gcp_resources_path, target.role)
        name = name or job.start(create, label, preflight=upload_requests)
    _record(gcp_resources_path, name, location)
    start_cpu = time.process_time() - cpu
    return StartedBatch(
        target, examples, job, name, project, poll_seconds, stats, started, start_cpu
    )


def finish_batch(batch: StartedBatch) -> list[Prediction]:
    """Wait for a started job; one prediction per example (text, or the job's error)."""
    cpu = time.process_time()
    target, examples, job, name = batch.target, batch.examples, batch.job, batch.name
    poll = batch.poll_seconds
    done = job.wait(name, poll_initial_seconds=poll, poll_max_seconds=6 * poll)
    if state_name(done.state) not in (SUCCEEDED, PARTIALLY_SUCCEEDED):
        error = getattr(done, "error", None)
        raise CloudJobError(
            f"{target.role} batch prediction job {name} ended {state_name(done.state)}: "
            f"{getattr(error, 'message', '') or ''}",
            code=getattr(error, "code", None),
            state=state_name(done.state),
        )
    if state_name(done.state) == PARTIALLY_SUCCEEDED:  # what it answered is paid for: use it
        log.warning("%s batch prediction job %s: some results missing", target.role, name)
    predictions = [Prediction(index=e.index) for e in examples]
    read_results(output_directory(done), predictions, project=batch.project, examples=examples)
    for prediction in predictions:
        if not prediction.attempts:
            prediction.error = "no result for this example in the batch output"
    batch.stats.wall_seconds = time.perf_counter() - batch.started
    batch.stats.requests = len(examples)
    batch.stats.client_cpu_seconds = batch.start_cpu_seconds + time.process_time() - cpu
    return predictions


def predict_batch(target: Target, examples: Sequence[EvalExample], settings: Settings, **options):
    """One model's batch job, started and waited for (``start_batch``'s options)."""
    return finish_batch(start_batch(target, examples, settings, **options))


def cancel_unfinished(batches: Sequence[StartedBatch]) -> None:
    """Stopped while waiting for one model's job: the others' jobs must not run on,
    billed and unobserved, either (cancelling an ended job changes nothing)."""
    for batch in batches:
        try:
            if batch.job.is_active(batch.name):
                log.warning("cancelling %s batch prediction job %s", batch.target.role, batch.name)
                batch.job.cancel(batch.name)
        except Exception as error:  # still stop: the task is going away
            log.error("could not cancel %s: %s", batch.name, error)


def output_directory(job) -> str:
    """Where this job wrote its results: ``outputInfo.gcsOutputDirectory`` (a folder the
    service creates under the output prefix); the prefix only if the service gave none."""
    info = getattr(job, "output_info", None)
    directory = getattr(info, "gcs_output_directory", None)
    if directory:
        return directory
    log.warning("batch job %s reports no output directory; reading its prefix", job.name)
    return job.dest.gcs_uri
