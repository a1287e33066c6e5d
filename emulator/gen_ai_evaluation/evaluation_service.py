"""``:evaluateInstances`` of the Gen AI evaluation service, pointwise and pairwise.

**Simulated judge** (header ``x-emulator-simulated: true``, explanations say so): no
LLM rates anything here. A response's quality is its token F1 against the instance's
``reference`` (against the ``prompt`` when there is none), mapped onto the rating scale
the metric prompt template's "Rating Rubric" declares (1..5 when it declares none);
pairwise, the higher quality wins (a tie within 0.05). Deterministic, so a test or a
gate sees the same verdict every run.
"""

from __future__ import annotations

import re

import orjson
from gemini_sft_kfp.emulator.common.api_errors import invalid
from gemini_sft_kfp.emulator.common.http import Call, Reply, route
from gemini_sft_kfp.emulator.common.service import SIMULATED_HEADER, Service

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
_TOKEN = re.compile(r"\w+", re.UNICODE)
_RUBRIC_HEADING = re.compile(r"^#+\s*Rating Rubric[^\n]*$", re.MULTILINE)
_RATING = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:(]", re.MULTILINE)
TIE_MARGIN = 0.05
LABEL = "[simulated by the local emulator: token overlap, not an LLM judge]"
SUPPORTED = ("pointwiseMetricInput", "pairwiseMetricInput")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def overlap(response: str, reference: str) -> float:
    """Token F1 of ``response`` against ``reference`` (0 for an empty response)."""
    got, want = _tokens(response), _tokens(reference)
    if not got or not want:
        return 0.0
    counts: dict[str, int] = {}
    for token in want:
        counts[token] = counts.get(token, 0) + 1
    common = 0
    for token in got:
        if counts.get(token, 0) > 0:
            counts[token] -= 1
            common += 1
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def rating_scale(template: str) -> tuple[float, float]:
    """Lowest and highest rating listed under the template's "Rating Rubric"."""
    heading = _RUBRIC_HEADING.search(template)
    rubric = template[heading.end() :].split("\n#", 1)[0] if heading else ""
    ratings = [float(value) for value in _RATING.findall(rubric)]
    return (min(ratings), max(ratings)) if len(set(ratings)) >= 2 else (1.0, 5.0)


def _input(call: Call) -> tuple[str, dict, dict]:
    present = [key for key in call.body if key.endswith("Input")]
    if len(present) != 1:
        raise invalid("Exactly one metric input must be set in EvaluateInstancesRequest.")
    kind = present[0]
    if kind not in SUPPORTED:
        raise invalid(f"{kind} is not emulated; supported: {', '.join(SUPPORTED)}.")
    metric_input = call.body[kind]
    template = ((metric_input.get("metricSpec") or {}).get("metricPromptTemplate")) or ""
    if not template.strip():
        raise invalid(f"{kind}.metricSpec.metricPromptTemplate is required.")
    raw = (metric_input.get("instance") or {}).get("jsonInstance")
    try:
        instance = orjson.loads(raw) if isinstance(raw, str) else None
    except orjson.JSONDecodeError:
        instance = None
    if not isinstance(instance, dict):
        raise invalid(f"{kind}.instance.jsonInstance must be a JSON object as a string.")
    return kind, metric_input, {**instance, "_template": template}


def _quality(instance: dict, key: str) -> float:
    reference = str(instance.get("reference") or instance.get("prompt") or "")
    return overlap(str(instance.get(key) or ""), reference)


def evaluate_instances(service: Service, call: Call) -> Reply:
    kind, _, instance = _input(call)
    if kind == "pairwiseMetricInput":
        candidate = _quality(instance, "response")
        baseline = _quality(instance, "baseline_model_response")
        if abs(candidate - baseline) <= TIE_MARGIN:
            choice = "TIE"
        else:
            choice = "CANDIDATE" if candidate > baseline else "BASELINE"
        explanation = (
            f"{LABEL} response {candidate:.2f} vs baseline response {baseline:.2f}: {choice}"
        )
        body = {"pairwiseMetricResult": {"pairwiseChoice": choice, "explanation": explanation}}
    else:
        low, high = rating_scale(instance["_template"])
        quality = _quality(instance, "response")
        score = float(round(low + quality * (high - low)))
        explanation = f"{LABEL} overlap {quality:.2f} -> {score:g} on {low:g}..{high:g}"
        body = {"pointwiseMetricResult": {"score": score, "explanation": explanation}}
    return Reply(body, headers={SIMULATED_HEADER: "true"})


ROUTES = [
    route("POST", P, "locations.evaluateInstances", evaluate_instances, "evaluateInstances"),
]
