"""Pick the best checkpoint by measurement, not by guessing the epoch count.

Every epoch's checkpoint has its own endpoint. Each is scored on the eval set with the
gate's metric (the same evaluation code as ``evaluate_model``), the best becomes the
model's default checkpoint (``PATCH models/ID@V {"defaultCheckpointId": N}``; continuous
tuning and a plain model reference then use it), and the gate judges that checkpoint.
Ties go to the later checkpoint, so an unchanged default is never patched for nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.retry import call_with_retry

log = logging.getLogger(__name__)


@dataclass
class CheckpointScore:
    checkpoint_id: str
    epoch: int | None
    endpoint: str
    score: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "checkpointId": self.checkpoint_id,
            "epoch": self.epoch,
            "endpoint": self.endpoint,
            "score": self.score,
            "metrics": self.metrics,
        }


@dataclass
class Choice:
    """The checkpoint the gate will judge, and how it was chosen."""

    checkpoint_id: str
    endpoint: str
    metric: str
    scores: list[CheckpointScore] = field(default_factory=list)
    default_changed: bool = False
    reason: str = ""

    @property
    def score(self) -> float:
        best = next((s for s in self.scores if s.checkpoint_id == self.checkpoint_id), None)
        return best.score if best and best.score is not None else -1.0

    def to_dict(self) -> dict:
        return {
            "checkpointId": self.checkpoint_id,
            "endpoint": self.endpoint,
            "metric": self.metric,
            "score": self.score,
            "defaultChanged": self.default_changed,
            "reason": self.reason,
            "checkpoints": [s.to_dict() for s in self.scores],
        }

    def report(self, simulated: bool) -> str:
        lines = ["# Best checkpoint", "", self.reason, ""]
        if simulated:
            lines += ["*Scores come from the emulator's simulated checkpoints.*", ""]
        if self.scores:
            lines += [f"| checkpoint | epoch | {self.metric} | endpoint |", "|---|---|---|---|"]
            for s in self.scores:
                mark = " **(best)**" if s.checkpoint_id == self.checkpoint_id else ""
                value = f"{s.score:.4f}" if s.score is not None else "-"
                lines.append(f"| {s.checkpoint_id}{mark} | {s.epoch} | {value} | `{s.endpoint}` |")
        return "\n".join(lines) + "\n"


def parse_checkpoints(text: str) -> list[CheckpointScore]:
    """``wait_for_tuning_job``'s ``checkpoints`` JSON, ordered by epoch (endpoints only)."""
    try:
        raw = orjson.loads(text or "[]")
    except orjson.JSONDecodeError as exc:
        raise UserError(f"checkpoints is not JSON: {exc}", field="checkpoints") from None
    found = [
        CheckpointScore(str(c.get("checkpointId", "")), c.get("epoch"), c.get("endpoint", ""))
        for c in raw
        if isinstance(c, dict) and c.get("endpoint")
    ]
    return sorted(found, key=lambda c: (c.epoch or 0, c.checkpoint_id))


def set_default_checkpoint(client, model: str, checkpoint_id: str) -> None:
    """``PATCH models/ID@V`` with ``defaultCheckpointId`` (google-genai sends no mask)."""
    from google.genai import types

    config = types.UpdateModelConfig(default_checkpoint_id=checkpoint_id)
    call_with_retry(client.models.update, model=model, config=config)


def choose(
    *,
    model: str,
    endpoint: str,
    checkpoints: str,
    metric: str,
    enabled: bool,
    score_endpoint: Callable[[str], dict[str, float]],
    set_default: Callable[[str], None],
) -> Choice:
    """Score each checkpoint with ``score_endpoint``; make the best the default."""
    candidates = parse_checkpoints(checkpoints)
    current = next((c for c in candidates if c.endpoint == endpoint), None)
    current = current or (candidates[-1] if candidates else None)
    default_id = current.checkpoint_id if current else ""
    if not enabled or len(candidates) < 2:
        why = "disabled" if not enabled else f"{len(candidates)} checkpoint(s) with an endpoint"
        return Choice(default_id, endpoint, metric, reason=f"Not compared ({why}): the "
                      "model's default checkpoint is judged.")  # fmt: skip
    for candidate in candidates:
        candidate.metrics = score_endpoint(candidate.endpoint)
        if metric not in candidate.metrics:
            raise UserError(f"metric {metric!r} was not computed", field="metric")
        candidate.score = candidate.metrics[metric]
        log.info("checkpoint %s: %s=%.4f", candidate.checkpoint_id, metric, candidate.score)
    best = max(candidates, key=lambda c: (c.score, c.epoch or 0))
    changed = best.checkpoint_id != default_id
    if changed:
        set_default(best.checkpoint_id)
        log.info("default checkpoint of %s set to %s", model, best.checkpoint_id)
    reason = (
        f"Checkpoint {best.checkpoint_id} (epoch {best.epoch}) scored best on {metric} "
        f"({best.score:.4f}) of {len(candidates)}; "
        + (
            f"it is now the model's default checkpoint (was {default_id})."
            if changed
            else "it already was the model's default checkpoint."
        )
    )
    return Choice(best.checkpoint_id, best.endpoint, metric, candidates, changed, reason)


def run(
    project: str,
    location: str,
    *,
    model: str,
    endpoint: str,
    checkpoints: str,
    eval_data: str,
    metric: str = "exact_match",
    enabled: bool = True,
    base_model: str = "",
    concurrency: int = 8,
    requests_per_minute: int = 0,
    temperature: float = 0.0,
    max_output_tokens: int = 256,
    baseline: str = "",
    judge_rubric: str = "",
    client=None,
) -> Choice:
    """The component's body: evaluate with ``evaluate_model``'s code, patch with google-genai.

    A judge ``metric`` is computed alone (no other judge metric); ``baseline`` is used
    only by ``judge_win_rate``, the one metric that compares with it.
    """
    from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate
    from gemini_sft_kfp.evaluation.judge import WIN_RATE
    from gemini_sft_kfp.evaluation.runner import Settings

    if client is None:
        from gemini_sft_kfp.core.clients import genai_client

        client = genai_client(project, location, timeout_ms=120_000)
    settings = Settings(temperature=temperature, max_output_tokens=max_output_tokens)

    def score_endpoint(checkpoint_endpoint: str) -> dict[str, float]:
        config = EvalConfig(
            eval_data=eval_data,
            endpoint=checkpoint_endpoint,
            base_model=base_model,
            metric=metric,
            gate="threshold",
            concurrency=concurrency,
            requests_per_minute=requests_per_minute,
            settings=settings,
            baseline=baseline if metric == WIN_RATE.key else "",
            judge_rubric=judge_rubric,
        )
        return evaluate(project, location, config, client=client).tuned.metrics

    return choose(
        model=model,
        endpoint=endpoint,
        checkpoints=checkpoints,
        metric=metric,
        enabled=enabled,
        score_endpoint=score_endpoint,
        set_default=lambda checkpoint_id: set_default_checkpoint(client, model, checkpoint_id),
    )
