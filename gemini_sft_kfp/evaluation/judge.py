"""Model-based (LLM-judge) metrics through the Gen AI evaluation service.

Exact match, BLEU and ROUGE say little about free-text answers; Google's documentation
evaluates tuned models there with the Gen AI evaluation service. This module calls its
``evaluateInstances`` method (REST, the same lean connections as the predictions):

- pointwise (``pointwiseMetricInput``, one call per example): ``fluency`` (1-5),
  ``groundedness`` (0-1) and ``rubric`` (your own criteria, 1-5), each with a metric
  prompt template in the service's format (``{prompt}``, ``{response}``,
  ``{reference}`` are filled from the ``jsonInstance``);
- pairwise (``pairwiseMetricInput``): ``win_rate``, the tuned model (``response``,
  the candidate) against the baseline (``baseline_model_response``): wins + half the
  ties over the examples judged.

Every score is put on 0..1 (``judge_<name>``) so one threshold means the same for all
and any of them can be the gate metric. An example whose prediction failed scores 0
(like an empty answer); a judge call that fails after its retries is recorded and
left out of the mean (``judge_errors``). Against the emulator the judge is a labelled
deterministic simulation (token overlap with the reference): it proves the plumbing,
not the quality.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import orjson

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.retry import http_status
from gemini_sft_kfp.evaluation.eval_data import EvalExample
from gemini_sft_kfp.evaluation.rate_limit import RateLimiter
from gemini_sft_kfp.evaluation.runner import (
    SETUP_ERROR_CODES,
    Prediction,
    Settings,
    retry_policy,
)

log = logging.getLogger(__name__)

PREFIX = "judge_"
SIMULATED_HEADER = "x-emulator-simulated"
WORST_SHOWN = 5

_HEAD = (
    "# Instruction\nYou are an expert evaluator. Rate the AI-generated response to the "
    "user input below following the Rating Rubric; explain your rating step by step and "
    "only choose ratings from the Rating Rubric.\n\n# Evaluation\n"
)
_INPUTS = (
    "\n\n# User Inputs and AI-generated Response\n## User Inputs\n### Prompt\n{prompt}\n\n"
    "### Reference answer\n{reference}\n\n## AI-generated Response\n{response}\n"
)
FLUENCY = (
    _HEAD + "## Criteria\nFluency: free of grammatical errors, varied sentence structure, a "
    "consistent tone, a natural flow that is easy to understand.\n\n## Rating Rubric\n"
    "5: (completely fluent)\n4: (mostly fluent)\n3: (somewhat fluent)\n"
    "2: (somewhat inarticulate)\n1: (inarticulate)" + _INPUTS
)
GROUNDEDNESS = (
    _HEAD + "## Criteria\nGroundedness: the response contains only information from the "
    "user prompt and the reference answer, no outside information.\n\n## Rating Rubric\n"
    "1: (fully grounded)\n0: (not fully grounded)" + _INPUTS
)
RUBRIC = (
    _HEAD + "## Criteria\n{criteria}\n\n## Rating Rubric\n5: (fully meets the criteria)\n"
    "4: (mostly meets them)\n3: (partly meets them)\n2: (barely meets them)\n"
    "1: (does not meet them)" + _INPUTS
)
PAIRWISE = (
    "# Instruction\nYou are an expert evaluator. Compare two AI-generated responses "
    "(Response A and Response B) to the user input below for correctness against the "
    'reference answer, helpfulness and fluency. Output your preference of "A", "SAME" '
    'or "B" to the pairwise_choice field, with a step by step explanation.\n\n'
    "# User Inputs\n### Prompt\n{prompt}\n\n### Reference answer\n{reference}\n\n"
    "# AI-generated Responses\n### Response A\n{baseline_model_response}\n\n"
    "### Response B\n{response}\n"
)


@dataclass(frozen=True)
class JudgeMetric:
    name: str
    template: str
    low: float  # the rubric's lowest and highest rating, for the 0..1 scale
    high: float
    pairwise: bool = False

    @property
    def key(self) -> str:
        return PREFIX + self.name

    def normalise(self, score: float) -> float:
        return min(1.0, max(0.0, (score - self.low) / (self.high - self.low)))


POINTWISE = {
    "fluency": JudgeMetric("fluency", FLUENCY, 1, 5),
    "groundedness": JudgeMetric("groundedness", GROUNDEDNESS, 0, 1),
    "rubric": JudgeMetric("rubric", RUBRIC, 1, 5),
}
WIN_RATE = JudgeMetric("win_rate", PAIRWISE, 0, 1, pairwise=True)
JUDGE_METRICS = (*POINTWISE, WIN_RATE.name)
GATE_METRICS = tuple(PREFIX + name for name in JUDGE_METRICS)


def parse_names(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"fluency, win_rate"`` or a list -> the names, checked; ``judge_`` prefixes allowed."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = []
    for item in items:
        if not isinstance(item, str):  # a JSON list from a pipeline parameter: [1, null]
            raise UserError(f"judge metric names are strings, got {item!r}", field="judge")
        name = item.strip().removeprefix(PREFIX)
        if not name:
            continue
        if name not in JUDGE_METRICS:
            raise UserError(
                f"unknown judge metric {name!r}; choose from {', '.join(JUDGE_METRICS)}",
                field="judge",
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def metrics_for(names: Sequence[str], rubric: str) -> list[JudgeMetric]:
    chosen = []
    for name in names:
        if name == WIN_RATE.name:
            chosen.append(WIN_RATE)
        elif name == "rubric":
            if not rubric.strip():
                raise UserError("the 'rubric' judge metric needs criteria", field="judge_rubric")
            metric = POINTWISE["rubric"]
            template = metric.template.replace("{criteria}", rubric.strip())
            chosen.append(JudgeMetric(metric.name, template, metric.low, metric.high))
        else:
            chosen.append(POINTWISE[name])
    return chosen


@dataclass
class Verdict:
    """One judged example: the 0..1 score (None when the judge call failed) and why."""

    score: float | None = None
    raw: float | str | None = None  # the service's score, or its pairwise choice
    explanation: str = ""
    error: str | None = None
    simulated: bool = False

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", False)}


@dataclass
class JudgeResult:
    """Per metric: one verdict per example, in order."""

    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)

    def scores(self) -> dict[str, float]:
        values: dict[str, float] = {}
        errors = 0
        for key, verdicts in self.verdicts.items():
            judged = [v.score for v in verdicts if v.score is not None]
            values[key] = sum(judged) / len(judged) if judged else 0.0
            errors += sum(v.error is not None for v in verdicts)
        if self.verdicts:
            values["judge_errors"] = errors
        return values

    @property
    def simulated(self) -> bool:
        return any(v.simulated for vs in self.verdicts.values() for v in vs)

    def judged(self, key: str) -> int:
        """Examples the service actually rated for ``key`` (not failed answers' zeros)."""
        return sum(v.error is None and v.raw is not None for v in self.verdicts.get(key, []))


def _instance(example: EvalExample, response: str, baseline: str | None = None) -> dict[str, str]:
    instance = {
        "prompt": example.prompt_text,
        "reference": example.reference,
        "response": response,
    }
    if baseline is not None:
        instance["baseline_model_response"] = baseline
    return instance


def request_body(metric: JudgeMetric, instance: dict[str, str]) -> dict:
    """The ``evaluateInstances`` JSON for one instance of one metric."""
    field_name = "pairwiseMetricInput" if metric.pairwise else "pointwiseMetricInput"
    return {
        field_name: {
            "metricSpec": {"metricPromptTemplate": metric.template},
            "instance": {"jsonInstance": orjson.dumps(instance).decode()},
        }
    }


def _read(metric: JudgeMetric, data: dict, headers: dict[str, str]) -> Verdict:
    simulated = any(
        k.lower() == SIMULATED_HEADER and str(v).lower() == "true" for k, v in headers.items()
    )
    if metric.pairwise:
        result = data.get("pairwiseMetricResult") or {}
        choice = result.get("pairwiseChoice", "PAIRWISE_CHOICE_UNSPECIFIED")
        score = {"CANDIDATE": 1.0, "BASELINE": 0.0, "TIE": 0.5}.get(choice)
        error = None if score is not None else f"no pairwise choice ({choice})"
        return Verdict(score, choice, result.get("explanation", ""), error, simulated)
    result = data.get("pointwiseMetricResult") or {}
    raw = result.get("score")
    if raw is None:
        return Verdict(None, None, result.get("explanation", ""), "no score", simulated)
    return Verdict(
        metric.normalise(float(raw)), raw, result.get("explanation", ""), None, simulated
    )


def judge(
    caller,
    metrics: Sequence[JudgeMetric],
    examples: Sequence[EvalExample],
    tuned: Sequence[Prediction],
    baseline: Sequence[Prediction] | None,
    settings: Settings,
    *,
    concurrency: int = 8,
    limiter: RateLimiter | None = None,
) -> tuple[JudgeResult, JudgeResult | None]:
    """Judge the tuned answers (and the baseline's, pointwise): one result per model."""
    limiter = limiter or RateLimiter(0)
    stop = threading.Event()
    policy = retry_policy(settings, stop)
    runs = [("tuned", tuned)] + ([("baseline", baseline)] if baseline is not None else [])
    results = {role: JudgeResult() for role, _ in runs}
    tasks = []
    for metric in metrics:
        if metric.pairwise:
            if baseline is None:
                raise UserError("the 'win_rate' judge metric needs a baseline", field="judge")
            verdicts = [Verdict() for _ in examples]
            results["tuned"].verdicts[metric.key] = verdicts
            for example in examples:
                tasks.append((metric, example, verdicts))
            continue
        for role, predictions in runs:
            verdicts = [Verdict() for _ in examples]
            results[role].verdicts[metric.key] = verdicts
            for example in examples:
                if predictions[example.index].ok:
                    tasks.append((metric, example, verdicts, predictions))
                else:  # a failed prediction is an empty answer: the worst score
                    verdicts[example.index] = Verdict(0.0, None, "no answer (request failed)")

    def one(task) -> None:
        metric, example, verdicts = task[:3]
        i = example.index
        if metric.pairwise:
            instance = _instance(example, _text(tuned[i]), _text(baseline[i]))
        else:
            instance = _instance(example, _text(task[3][i]))
        request = caller.prepare_evaluation(request_body(metric, instance))

        def attempt():
            limiter.acquire()
            return caller.send(request)

        try:
            data, headers = policy(attempt)
        except Exception as exc:
            status = http_status(exc)
            if status in SETUP_ERROR_CODES:
                stop.set()
                raise UserError(
                    f"the Gen AI evaluation service cannot be called: {exc}", field="judge"
                ) from exc
            verdicts[i] = Verdict(error=f"{type(exc).__name__}: {exc}"[:500])
            log.warning("judge %s line %d: %s", metric.name, example.line, verdicts[i].error)
            return
        verdicts[i] = _read(metric, data, headers)

    log.info(
        "judge: %d evaluateInstances calls (%s)", len(tasks), ", ".join(m.key for m in metrics)
    )
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for future in [pool.submit(one, task) for task in tasks]:
            try:
                future.result()
            except BaseException:
                stop.set()
                pool.shutdown(cancel_futures=True)
                raise
    # pairwise is symmetric: the baseline wins what the tuned model loses
    if baseline is not None and WIN_RATE.key in results["tuned"].verdicts:
        results["baseline"].verdicts[WIN_RATE.key] = [
            Verdict(None if v.score is None else 1.0 - v.score, v.raw, v.explanation, v.error)
            for v in results["tuned"].verdicts[WIN_RATE.key]
        ]
    return results["tuned"], results.get("baseline")


def _text(prediction: Prediction) -> str:
    return prediction.text or "" if prediction.ok else ""


def worst(result: JudgeResult, key: str, n: int = WORST_SHOWN) -> list[tuple[int, Verdict]]:
    """The ``n`` lowest-scored examples the judge rated, lowest first (a failed request's
    0 carries no judge's explanation: those are counted in ``errors``)."""
    scored = [
        (i, v)
        for i, v in enumerate(result.verdicts.get(key, []))
        if v.score is not None and v.raw is not None
    ]
    return sorted(scored, key=lambda item: (item[1].score, item[0]))[:n]
