"""The Markdown comparison report: metrics side by side, the gate's verdict, examples."""

from __future__ import annotations

from gemini_sft_kfp.evaluation import judge as j
from gemini_sft_kfp.evaluation.evaluation import EvalResult, ModelResult
from gemini_sft_kfp.evaluation.metrics import QUALITY_METRICS

MAX_SHOWN_EXAMPLES = 25
MAX_CELL_CHARS = 160

_ROWS = (
    *QUALITY_METRICS,
    *j.GATE_METRICS,
    "judge_errors",
    "errors",
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "prompt_tokens",
    "output_tokens",
    "total_tokens",
    "wall_seconds",
    "requests",
    "requests_per_minute",
    "client_cpu_ms_per_request",
)


def _cell(text: str | None) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped, shortened."""
    if text is None:
        return ""
    text = " ".join(text.split())
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text.replace("|", "\\|")


def _fmt(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    if name.endswith("_ms"):
        return f"{value:.0f}"
    if name in ("wall_seconds", "client_cpu_ms_per_request", "requests_per_minute"):
        return f"{value:.2f}"
    if name in (
        "errors",
        "judge_errors",
        "requests",
        "prompt_tokens",
        "output_tokens",
        "total_tokens",
    ):
        return f"{int(value):,}"
    return f"{value:.4f}"


def _metrics_table(tuned: ModelResult, baseline: ModelResult | None, gate_metric: str) -> list:
    lines = ["| metric | tuned | baseline | Δ |", "|---|---:|---:|---:|"]
    for name in _ROWS:
        if name not in tuned.metrics:
            continue
        t = tuned.metrics[name]
        b = baseline.metrics.get(name) if baseline else None
        scored = name in QUALITY_METRICS or name in j.GATE_METRICS
        delta = "–" if b is None else f"{t - b:+.4f}" if scored else "–"
        label = f"**{name}** (gate)" if name == gate_metric else name
        lines.append(f"| {label} | {_fmt(name, t)} | {_fmt(name, b)} | {delta} |")
    return lines


def _confusion(run: ModelResult) -> list[str]:
    c = run.classification
    if c is None:
        return []
    lines = [
        f"### Confusion matrix ({run.target.role}; rows: reference, columns: prediction)",
        "",
        "| | " + " | ".join(_cell(label) for label in c.labels) + " |",
        "|---|" + "---:|" * len(c.labels),
    ]
    for label, row in zip(c.labels, c.matrix, strict=True):
        lines.append(f"| **{_cell(label)}** | " + " | ".join(str(v) for v in row) + " |")
    return [*lines, ""]


def _f1_by_label(tuned: ModelResult, baseline: ModelResult | None) -> list[str]:
    """Per-label F1 side by side: where the tuned model gained or lost."""
    t = tuned.classification
    if t is None:
        return []
    b = baseline.classification if baseline else None
    lines = [
        "### F1 by label",
        "",
        "| label | examples | tuned F1 | baseline F1 | Δ |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, f1 in t.f1_by_label.items():
        other = b.f1_by_label.get(label) if b else None
        delta = "–" if other is None else f"{f1 - other:+.4f}"
        lines.append(
            f"| {_cell(label)} | {t.support[label]} | {f1:.4f} | {_fmt('f1', other)} | {delta} |"
        )
    return [*lines, ""]


def _answer(run: ModelResult | None, index: int) -> str:
    if run is None:
        return ""
    p = run.predictions[index]
    mark = "✅" if run.per_example["exact_match"][index] else "❌"
    return f"⚠️ error: {_cell(p.error)}" if not p.ok else f"{mark} {_cell(p.text)}"


def _examples(result: EvalResult) -> list[str]:
    """Examples where the models disagree with the reference first: those teach the most."""
    tuned, baseline = result.tuned, result.baseline

    def interesting(i: int) -> tuple:
        wrong = not tuned.per_example["exact_match"][i]
        flipped = baseline is not None and (
            tuned.per_example["exact_match"][i] != baseline.per_example["exact_match"][i]
        )
        return (not flipped, not wrong, i)

    order = sorted(range(len(result.examples)), key=interesting)[:MAX_SHOWN_EXAMPLES]
    header = "| line | prompt | reference | tuned |" + (" baseline |" if baseline else "")
    lines = [
        f"## Examples ({len(order)} of {len(result.examples)}; changed and wrong answers first)",
        "",
        header,
        "|---:|---|---|---|" + ("---|" if baseline else ""),
    ]
    for i in order:
        example = result.examples[i]
        row = (
            f"| {example.line} | {_cell(example.prompt_text)} | {_cell(example.reference)} "
            f"| {_answer(tuned, i)} |"
        )
        if baseline:
            row += f" {_answer(baseline, i)} |"
        lines.append(row)
    return lines


def _judge_section(result: EvalResult) -> list[str]:
    """Judge scores are in the metrics table; here: why the worst examples scored low."""
    judged = result.tuned.judge
    if judged is None:
        return []
    lines = [
        "## Judge metrics (Gen AI evaluation service)",
        "",
        "Model-based scores on 0..1 (fluency and rubric: (rating - 1) / 4; groundedness: "
        "0 or 1; win_rate: tuned against baseline, wins + half the ties).",
    ]
    if judged.simulated:
        lines += [
            "",
            "> **Simulated judge.** The local emulator answers `evaluateInstances` with a "
            "deterministic stand-in (token overlap with the reference), not an LLM judge.",
        ]
    for key in judged.verdicts:
        worst = j.worst(judged, key)
        if not worst:
            continue
        lines += [
            "",
            f"### Lowest `{key}` (tuned)",
            "",
            "| line | prompt | answer | score | explanation |",
            "|---:|---|---|---:|---|",
        ]
        for index, verdict in worst:
            example = result.examples[index]
            answer = result.tuned.predictions[index].text
            lines.append(
                f"| {example.line} | {_cell(example.prompt_text)} | {_cell(answer)} "
                f"| {verdict.raw} | {_cell(verdict.explanation)} |"
            )
    return [*lines, ""]


def render(result: EvalResult) -> str:
    """The whole report as Markdown (KFP's ``Markdown`` artifact renders it in the UI)."""
    gate = result.gate
    config = result.config
    lines = ["# Evaluation: tuned model vs baseline", ""]
    if result.simulated:
        lines += [
            "> **Simulated.** These answers come from the local Vertex AI emulator, which "
            "imitates a tuned model by recalling the closest training example; the numbers "
            "show the pipeline works, not how a real tuned Gemini model performs.",
            "",
        ]
    verdict = "✅ **PASSED**" if gate.passed else "❌ **FAILED**"
    lines += [
        f"- Tuned endpoint: `{config.endpoint}`",
        f"- Baseline: `{config.baseline}`" if config.baseline else "- Baseline: none",
        f"- Eval data: `{config.eval_data}` ({len(result.examples)} examples"
        + (
            "; preference lines: the reference is the preferred completion)"
            if result.examples[0].is_preference
            else ")"
        ),
        f"- Gate ({gate.mode}, metric `{gate.metric}`): {verdict}: {gate.reason}",
        f"- Generation: temperature {config.settings.temperature:g}, "
        f"max output tokens {config.settings.max_output_tokens}; the tuned model gets no "
        "system instruction, a base-model baseline gets each example's system instruction",
        "",
        "## Metrics",
        "",
        *_metrics_table(result.tuned, result.baseline, gate.metric),
        "",
        "Exact match and labels compare case-folded text with whitespace collapsed; BLEU and "
        "chrF are sacreBLEU corpus scores / 100; an error counts as an empty answer."
        + (
            " preference_accuracy: the share of answers closer (ROUGE-L) to the preferred "
            "than to the dispreferred completion, ties half, no answer 0."
            if result.examples[0].is_preference
            else ""
        ),
        "",
        *_judge_section(result),
        *_f1_by_label(result.tuned, result.baseline),
        *_confusion(result.tuned),
        *(_confusion(result.baseline) if result.baseline else []),
        *_examples(result),
        "",
    ]
    return "\n".join(lines)
