"""The quality gate a pipeline branches on (``dsl.If(passed == True)``).

Two checks, on the chosen metric of the tuned model (``score``):
- threshold:   ``score >= threshold``                      (applies when threshold > 0)
- improvement: ``score >= baseline score + min_improvement`` (applies when a baseline ran;
  ``min_improvement`` 0 means "at least as good as the baseline", negative tolerates a drop)

``mode`` combines them:
- ``all`` (default): every check that applies must pass;
- ``any``: one passing check is enough;
- ``threshold`` / ``improvement``: only that check (``improvement`` needs a baseline).

With no check applying (no threshold, no baseline) the gate passes and says so. A tuned
model that answered no example at all never passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation.metrics import QUALITY_METRICS

GATE_MODES = ("all", "any", "threshold", "improvement")
_EPSILON = 1e-9  # 0.7 - 0.6 >= 0.1 must hold despite floating point


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateResult:
    passed: bool
    score: float
    metric: str
    mode: str
    baseline_score: float | None
    checks: tuple[Check, ...]
    reason: str

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "score": self.score,
            "metric": self.metric,
            "mode": self.mode,
            "baseline_score": self.baseline_score,
            "checks": [c.__dict__ for c in self.checks],
            "reason": self.reason,
        }


def check_settings(
    metric: str,
    mode: str,
    *,
    has_baseline: bool,
    threshold: float = 0.0,
    min_improvement: float = 0.0,
) -> None:
    """Reject a gate that cannot be evaluated before any model is called. Metrics are on a
    0..1 scale: a threshold outside it (or NaN, which every comparison fails to reject)
    would make the gate pass or fail regardless of the model."""
    from gemini_sft_kfp.evaluation.judge import GATE_METRICS

    if not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise UserError(f"threshold must be a finite number, got {threshold!r}", field="threshold")
    if not 0.0 <= threshold <= 1.0:
        raise UserError(
            f"threshold must be between 0 and 1 (metrics are on a 0..1 scale), got {threshold}",
            field="threshold",
        )
    if not isinstance(min_improvement, int | float) or not math.isfinite(min_improvement):
        raise UserError(
            f"min_improvement must be a finite number, got {min_improvement!r}",
            field="min_improvement",
        )
    if not -1.0 <= min_improvement <= 1.0:
        raise UserError(
            f"min_improvement must be between -1 and 1 (metrics are on a 0..1 scale), "
            f"got {min_improvement}",
            field="min_improvement",
        )
    if metric not in QUALITY_METRICS and metric not in GATE_METRICS:
        raise UserError(
            f"unknown metric {metric!r}; choose one of "
            f"{', '.join((*QUALITY_METRICS, *GATE_METRICS))}",
            field="metric",
        )
    if mode not in GATE_MODES:
        raise UserError(
            f"unknown gate mode {mode!r}; choose one of {', '.join(GATE_MODES)}", field="gate"
        )
    if mode == "improvement" and not has_baseline:
        raise UserError("gate mode 'improvement' needs a baseline to compare with", field="gate")


def decide(
    metric: str,
    score: float,
    baseline_score: float | None,
    *,
    threshold: float = 0.0,
    min_improvement: float = 0.0,
    mode: str = "all",
    answered: int = 1,
    judged: int | None = None,
) -> GateResult:
    """Apply the gate to the tuned model's ``score`` (and the baseline's, when there is one).

    ``judged``: for a judge metric, the examples the judge rated; none rated never passes
    (its 0.0 would otherwise tie a baseline's 0.0 and pass an improvement of 0)."""
    check_settings(
        metric,
        mode,
        has_baseline=baseline_score is not None,
        threshold=threshold,
        min_improvement=min_improvement,
    )
    if not math.isfinite(score) or (
        baseline_score is not None and not math.isfinite(baseline_score)
    ):
        raise UserError(
            f"the {metric} score is not a number; the gate cannot judge it", field="metric"
        )
    checks: list[Check] = []
    if (mode in ("all", "any") and threshold > 0) or mode == "threshold":
        checks.append(
            Check(
                "threshold",
                score + _EPSILON >= threshold,
                f"{metric} {score:.4f} {'>=' if score + _EPSILON >= threshold else '<'} "
                f"threshold {threshold:.4f}",
            )
        )
    if baseline_score is not None and mode in ("all", "any", "improvement"):
        needed = baseline_score + min_improvement
        ok = score + _EPSILON >= needed
        checks.append(
            Check(
                "improvement",
                ok,
                f"{metric} {score:.4f} vs baseline {baseline_score:.4f}: "
                f"{score - baseline_score:+.4f} ({'>=' if ok else '<'} {min_improvement:+.4f})",
            )
        )
    if answered == 0:
        passed, reason = False, "the tuned model answered no example"
    elif judged == 0:
        passed, reason = False, f"the judge rated no example for {metric} (see judge_errors)"
    elif not checks:
        passed, reason = True, "no criterion configured (no threshold, no baseline)"
    else:
        combine = any if mode == "any" else all
        passed = combine(c.passed for c in checks)
        reason = "; ".join(c.detail for c in checks)
    return GateResult(passed, score, metric, mode, baseline_score, tuple(checks), reason)
