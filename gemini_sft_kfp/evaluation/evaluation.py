"""Evaluate a tuned endpoint (and optionally a baseline) on an eval set, then gate it.

The one entry point both the KFP component and ``gemini-sft evaluate`` call, so the
numbers a user sees locally are the numbers the pipeline branches on.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import orjson

from gemini_sft_kfp.core.errors import CloudJobError, UserError
from gemini_sft_kfp.evaluation import judge as j
from gemini_sft_kfp.evaluation import metrics as m
from gemini_sft_kfp.evaluation.batch import (
    AUTO_BATCH_MIN_EXAMPLES,
    batch_models,
    cancel_unfinished,
    finish_batch,
    resolve_method,
    start_batch,
)
from gemini_sft_kfp.evaluation.eval_data import EvalExample, read_examples
from gemini_sft_kfp.evaluation.gate import GateResult, check_settings, decide
from gemini_sft_kfp.evaluation.rate_limit import RateLimiter
from gemini_sft_kfp.evaluation.runner import (
    Prediction,
    RunStats,
    Settings,
    Target,
    baseline_target,
    is_endpoint_name,
    predict_all,
    tuned_target,
)

log = logging.getLogger(__name__)

LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms")

MAX_TEMPERATURE = 2.0  # Gemini's range is 0..2: Vertex AI refuses anything else
MAX_OUTPUT_TOKENS = 65_536  # generationConfig.maxOutputTokens' ceiling (Gemini 2.5+)


@dataclass(frozen=True)
class EvalConfig:
    """Everything that decides what is evaluated and how the gate judges it."""

    eval_data: str
    endpoint: str
    baseline: str = ""
    base_model: str = ""
    metric: str = "exact_match"
    threshold: float = 0.0
    min_improvement: float = 0.0
    gate: str = "all"
    concurrency: int = 8
    requests_per_minute: int = 0
    max_examples: int = 0  # 0: all
    settings: Settings = field(default_factory=Settings)
    judge_metrics: tuple[str, ...] = ()  # fluency, groundedness, rubric, win_rate
    judge_rubric: str = ""  # the criteria of the "rubric" judge metric
    method: str = "online"  # online | batch | auto (see batch.py)
    staging_uri: str = ""  # gs:// prefix for batch request and result files
    gcp_resources_path: str | None = None  # where batch jobs are recorded (resume)
    idempotency_key: str = ""
    pipeline_job_id: str = ""
    task_name: str = ""
    batch_poll_seconds: float = 10.0

    @property
    def judges(self) -> tuple[str, ...]:
        """The judge metrics to compute: those asked for, plus the gate metric's."""
        names = j.parse_names(self.judge_metrics)
        if self.metric.startswith(j.PREFIX):
            names = tuple(dict.fromkeys((*names, *j.parse_names(self.metric))))
        return names


@dataclass
class ModelResult:
    """One model's predictions and scores."""

    target: Target
    predictions: list[Prediction]
    metrics: dict[str, float]
    per_example: dict[str, list[float]]  # exact_match, rouge_l (, preference_accuracy)
    classification: m.Classification | None
    judge: j.JudgeResult | None = None

    @property
    def errors(self) -> int:
        return sum(not p.ok for p in self.predictions)

    @property
    def simulated(self) -> bool:
        return any(p.simulated for p in self.predictions)


@dataclass
class EvalResult:
    config: EvalConfig
    examples: list[EvalExample]
    tuned: ModelResult
    baseline: ModelResult | None
    gate: GateResult
    method: str = "online"  # as resolved: online or batch

    @property
    def simulated(self) -> bool:
        """True when any answer came from the emulator's simulation, not a real model."""
        from gemini_sft_kfp.core.clients import vertex_emulator_url

        runs = [self.tuned] + ([self.baseline] if self.baseline else [])
        judged = any(r.judge and r.judge.simulated for r in runs)
        return bool(vertex_emulator_url()) or judged or any(r.simulated for r in runs)

    def summary(self) -> dict:
        """The CLI's JSON: ``examples, errors, tuned, baseline, passed, score`` (+ extras)."""
        return {
            "examples": len(self.examples),
            "errors": self.tuned.errors,
            "tuned": self.tuned.metrics,
            "baseline": self.baseline.metrics if self.baseline else {},
            "passed": self.gate.passed,
            "score": self.gate.score,
            "metric": self.gate.metric,
            "baseline_errors": self.baseline.errors if self.baseline else 0,
            "gate": self.gate.to_dict(),
            "endpoint": self.config.endpoint,
            "baseline_model": self.config.baseline,
            "simulated": self.simulated,
            "judge": list(self.config.judges),
            "method": self.method,
        }

    def prediction_rows(self) -> Iterator[dict]:
        """One row per example: prompt, reference, and each model's answer and scores."""
        for example in self.examples:
            row = {
                "index": example.index,
                "line": example.line,
                "prompt": example.prompt_text,
                "reference": example.reference,
            }
            if example.is_preference:
                row["dispreferred"] = example.dispreferred
            for run in (self.tuned, self.baseline):
                if run is None:
                    continue
                prediction = run.predictions[example.index]
                row[run.target.role] = {
                    **prediction.to_dict(),
                    **{name: scores[example.index] for name, scores in run.per_example.items()},
                }
                if run.judge:
                    row[run.target.role]["judge"] = {
                        key: verdicts[example.index].to_dict()
                        for key, verdicts in run.judge.verdicts.items()
                    }
            yield row

    def write_predictions(self, path: str) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as f:
            for row in self.prediction_rows():
                f.write(orjson.dumps(row) + b"\n")


def score(
    predictions: Sequence[Prediction],
    references: Sequence[str],
    *,
    classify: bool,
    dispreferred: Sequence[str] | None = None,
) -> tuple[dict[str, float], dict[str, list[float]], m.Classification | None]:
    """Quality, latency and token metrics; an errored example counts as an empty answer.

    ``dispreferred`` (preference eval data): adds ``preference_accuracy``, the references
    being the preferred completions.
    """
    answers = [p.text if p.ok and p.text is not None else "" for p in predictions]
    exact = m.exact_matches(answers, references)
    rouge = m.rouge_l_scores(answers, references)
    per_example = {"exact_match": exact, "rouge_l": rouge}
    if dispreferred is not None:
        per_example["preference_accuracy"] = m.preference_wins(answers, references, dispreferred)
    errors = sum(not p.ok for p in predictions)
    latencies = [p.latency_ms for p in predictions if p.ok and p.latency_ms is not None]
    values: dict[str, float] = {
        "exact_match": m.mean(exact),
        "rouge_l": m.mean(rouge),
        "bleu": m.corpus_bleu(answers, references),
        "chrf": m.corpus_chrf(answers, references),
    }
    classification = m.classification(answers, references) if classify else None
    if classification:
        values["accuracy"] = classification.accuracy
        values["macro_f1"] = classification.macro_f1
    if "preference_accuracy" in per_example:
        values["preference_accuracy"] = m.mean(per_example["preference_accuracy"])
    values |= {
        "examples": len(predictions),
        "errors": errors,
        "error_rate": errors / len(predictions) if predictions else 0.0,
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
        "prompt_tokens": sum(p.prompt_tokens for p in predictions),
        "output_tokens": sum(p.output_tokens for p in predictions),
        "total_tokens": sum(p.total_tokens for p in predictions),
    }
    return values, per_example, classification


def resolve_base_model(config: EvalConfig) -> str:
    """The tuned model's base (for its thinking config); the baseline id when not given."""
    if config.base_model:
        return config.base_model
    if config.baseline and not is_endpoint_name(config.baseline):
        return config.baseline
    log.warning(
        "base model of %s unknown: no thinking config is sent to it (pass base_model)",
        config.endpoint,
    )
    return ""


def _run(client, target, examples, config, limiter, classify) -> ModelResult:
    """One model's predictions (online) and scores."""
    stats = RunStats()
    predictions = predict_all(
        client,
        target,
        examples,
        config.settings,
        concurrency=config.concurrency,
        limiter=limiter,
        stats=stats,
    )
    return _scored(target, predictions, examples, stats, classify, batch=False)


def _run_batches(targets, examples, config, classify, project, location, models) -> list:
    """Every model's batch job started before any is waited for: they run side by side
    (a batch job may queue for many minutes). Stopped while waiting (SIGTERM, Ctrl-C),
    the other models' jobs are cancelled too."""
    started = [
        start_batch(
            target,
            examples,
            config.settings,
            project=project,
            location=location,
            staging_uri=config.staging_uri,
            gcp_resources_path=config.gcp_resources_path,
            idempotency_key=config.idempotency_key,
            pipeline_job_id=config.pipeline_job_id,
            task_name=config.task_name,
            poll_seconds=config.batch_poll_seconds,
            stats=RunStats(),
            model=models[target.role],
        )
        for target in targets
    ]
    try:
        answered = [finish_batch(batch) for batch in started]
    except SystemExit:  # the wait's own job is cancelled already; the rest here
        cancel_unfinished(started)
        raise
    return [
        _scored(batch.target, predictions, examples, batch.stats, classify, batch=True)
        for batch, predictions in zip(started, answered, strict=True)
    ]


def _scored(target, predictions, examples, stats, classify, *, batch: bool) -> ModelResult:
    references = [e.reference for e in examples]
    dispreferred = [e.dispreferred for e in examples] if examples[0].is_preference else None
    values, per_example, classification = score(
        predictions, references, classify=classify, dispreferred=dispreferred
    )
    if batch:  # a batch job times no request: no latency to report (not 0 ms)
        values = {k: v for k, v in values.items() if k not in LATENCY_METRICS}
    values |= stats.to_metrics()
    log.info(
        "%s: %d requests in %.2f s (%.0f a minute), client CPU %.2f ms a request",
        target.role,
        stats.requests,
        stats.wall_seconds,
        stats.requests_per_minute,
        stats.client_cpu_ms_per_request,
    )
    return ModelResult(target, predictions, values, per_example, classification)


def _judge(caller, config: EvalConfig, examples, tuned: ModelResult, baseline) -> None:
    """Model-based metrics (Gen AI evaluation service) beside the computed ones."""
    tuned.judge, baseline_judge = j.judge(
        caller,
        j.metrics_for(config.judges, config.judge_rubric),
        examples,
        tuned.predictions,
        baseline.predictions if baseline else None,
        config.settings,
        concurrency=config.concurrency,
        limiter=RateLimiter(config.requests_per_minute),  # the service's own quota
    )
    tuned.metrics |= tuned.judge.scores()
    if baseline is not None and baseline_judge is not None:
        baseline.judge = baseline_judge
        baseline.metrics |= baseline_judge.scores()


def default_client(project: str, location: str, config: EvalConfig):
    """The lean REST caller (see ``rest.py`` for why not the google-genai client)."""
    from gemini_sft_kfp.evaluation.rest import RestCaller

    return RestCaller(project, location, timeout_seconds=config.settings.timeout_seconds)


def check_config(config: EvalConfig, location: str = "") -> None:
    """The whole configuration, before any model is called."""
    if not config.endpoint:
        raise UserError("the tuned endpoint is required", field="endpoint")
    if not is_endpoint_name(config.endpoint):
        raise UserError(
            f"{config.endpoint!r} is not an endpoint resource name "
            "(projects/P/locations/L/endpoints/ID)",
            field="endpoint",
        )
    check_options(config, has_baseline=bool(config.baseline), location=location)


def check_options(config: EvalConfig, *, has_baseline: bool, location: str = "") -> None:
    """Everything but the endpoint: what ``check_run_inputs`` checks before a pipeline
    tunes the model this will evaluate (``has_baseline``: a baseline will be given;
    ``location``: where it runs, as batch is refused in ``global``)."""
    if config.concurrency < 1:
        raise UserError("concurrency must be at least 1", field="concurrency")
    if config.requests_per_minute < 0:
        raise UserError("requests per minute must be >= 0 (0: no limit)", field="rpm")
    if not 1 <= config.settings.max_output_tokens <= MAX_OUTPUT_TOKENS:
        raise UserError(  # above it every request is a 400: a failed run, not a check
            f"max output tokens must be from 1 to {MAX_OUTPUT_TOKENS:,}, got "
            f"{config.settings.max_output_tokens:,}",
            field="max_output_tokens",
        )
    if not 0.0 <= config.settings.temperature <= MAX_TEMPERATURE:  # NaN fails too
        raise UserError(
            f"temperature must be from 0 to {MAX_TEMPERATURE:g}, got {config.settings.temperature}",
            field="temperature",
        )
    if config.max_examples < 0:
        raise UserError("max examples must be >= 0 (0: all)", field="max_examples")
    check_settings(
        config.metric,
        config.gate,
        has_baseline=has_baseline,
        threshold=config.threshold,
        min_improvement=config.min_improvement,
    )
    judges = config.judges
    if j.WIN_RATE.name in judges and not has_baseline:
        raise UserError("the 'win_rate' judge metric needs a baseline", field="judge")
    j.metrics_for(judges, config.judge_rubric)  # a rubric without criteria fails here
    # batch needs its staging prefix wherever it may run (auto: on a large enough set)
    if resolve_method(config.method, AUTO_BATCH_MIN_EXAMPLES, location) == "batch":
        check_staging(config.staging_uri)


def check_metric_data(metric: str, examples: Sequence[EvalExample], eval_data: str) -> None:
    """A metric that needs preference data (``preference_accuracy``) refuses an eval set
    of tuning examples, before any model is called."""
    if metric in m.PREFERENCE_METRICS and not (examples and examples[0].is_preference):
        raise UserError(
            f"metric {metric!r} needs preference eval data (contents + a preferred and a "
            "dispreferred completion per line); this file holds tuning examples",
            file=eval_data,
            field="metric",
        )


def check_exists(caller, target: Target) -> None:
    """Refuse a model the service does not know (404), by reading it. Only a 404 is
    refused: a caller may be allowed to predict without being allowed to read. A
    caller that cannot read (a test's stand-in) skips this."""
    from gemini_sft_kfp.core.retry import call_with_retry, http_status

    read = getattr(caller, "read", None)
    if read is None:
        return
    name = target.model
    if not is_endpoint_name(name):
        name = f"publishers/google/models/{name.rsplit('/', 1)[-1]}"
    try:
        call_with_retry(read, name)
    except Exception as exc:
        if http_status(exc) != 404:
            log.warning("could not check %s model %s: %s", target.role, target.model, exc)
            return
        raise UserError(
            f"{target.role} model {target.model!r} does not exist: {exc}",
            field="baseline" if target.role == "baseline" else "endpoint",
        ) from None


def check_staging(staging_uri: str) -> None:
    """A gs:// prefix in a validly named bucket: batch writes its files there."""
    from gemini_sft_kfp.core.gcp_names import check_gcs_prefix

    check_gcs_prefix(
        staging_uri,
        field="staging_uri",
        needs="batch prediction needs a gs:// staging prefix for its files",
    )


# Above this share of examples without an answer (every retry failed, e.g. 400 for all),
# the scores describe the failures, not the model: the evaluation fails, with the reason.
MAX_ERROR_RATE = 0.1


class EvaluationFailed(CloudJobError):
    """Too many requests failed for the scores to mean anything: a failure, not a verdict."""


def check_answered(run: ModelResult, examples: int) -> None:
    """Raise ``EvaluationFailed`` when more than ``MAX_ERROR_RATE`` of ``run``'s requests
    failed, naming the commonest error (its status and message)."""
    failed = [p for p in run.predictions if not p.ok]
    if not examples or len(failed) <= MAX_ERROR_RATE * examples:
        return
    counts = Counter((p.status, p.error) for p in failed)
    (status, error), seen = counts.most_common(1)[0]
    first = " ".join(str(error or "").split())[:300]
    raise EvaluationFailed(
        f"evaluation failed: {len(failed)} of {examples} requests to the {run.target.role} "
        f"model {run.target.model} got no answer (more than {MAX_ERROR_RATE:.0%}); the "
        f"commonest error ({seen}x): {status or ''} {first}".rstrip(),
        code=status,
        state="FAILED",
    )


def check_judged(run: ModelResult, metric: str, examples: int) -> None:
    """The judge metric the gate uses must rest on ratings: more than ``MAX_ERROR_RATE``
    of the examples unrated (judge requests refused) fails the evaluation too."""
    judged = run.judge.judged(metric) if run.judge else 0
    if examples and examples - judged > MAX_ERROR_RATE * examples:
        raise EvaluationFailed(
            f"evaluation failed: the judge rated {judged} of {examples} answers for the gate "
            f"metric {metric} (more than {MAX_ERROR_RATE:.0%} unrated); see judge_errors",
            state="FAILED",
        )


def evaluate(project: str, location: str, config: EvalConfig, *, client=None) -> EvalResult:
    """Read the eval set, run tuned (then baseline), score both, apply the gate."""
    check_config(config, location)
    examples = read_examples(config.eval_data, project=project, max_examples=config.max_examples)
    check_metric_data(config.metric, examples, config.eval_data)
    references = [e.reference for e in examples]
    classify = m.is_label_like(references) or config.metric in m.CLASSIFICATION_METRICS
    client = client if client is not None else default_client(project, location, config)
    limiter = RateLimiter(config.requests_per_minute)  # one quota budget for both models
    base_model = resolve_base_model(config)
    targets = [tuned_target(config.endpoint, base_model)]
    if config.baseline:
        targets.append(baseline_target(config.baseline, base_model))
    method = resolve_method(config.method, len(examples), location)
    # both models are read before the tuned model is paid for: a wrong baseline must not
    # be found out after it (batch needs the deployed model version anyway)
    models = batch_models(project, location, targets) if method == "batch" else {}
    if method == "online" and config.baseline:
        check_exists(client, targets[1])
    if method == "batch":
        runs = _run_batches(targets, examples, config, classify, project, location, models)
    else:
        runs = [_run(client, t, examples, config, limiter, classify) for t in targets]
    tuned, baseline = runs[0], (runs[1] if config.baseline else None)
    for run in runs:
        check_answered(run, len(examples))  # no answers is a failed evaluation, not a score
    if config.judges:
        judge_caller = client if hasattr(client, "prepare_evaluation") else None
        judge_caller = judge_caller or default_client(project, location, config)
        _judge(judge_caller, config, examples, tuned, baseline)
        if config.metric.startswith(j.PREFIX):  # the gate stands on the judge's ratings
            check_judged(tuned, config.metric, len(examples))
    gate = decide(
        config.metric,
        tuned.metrics[config.metric],
        baseline.metrics[config.metric] if baseline else None,
        threshold=config.threshold,
        min_improvement=config.min_improvement,
        mode=config.gate,
        answered=len(examples) - tuned.errors,
        judged=tuned.judge.judged(config.metric) if config.metric.startswith(j.PREFIX) else None,
    )
    log.info("gate %s: %s", "passed" if gate.passed else "failed", gate.reason)
    return EvalResult(config, examples, tuned, baseline, gate, method)
