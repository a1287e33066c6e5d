"""The end-of-run summary of ``gemini-sft run``: job, model, metrics, verdict, artifacts.

Built from the task outputs the local runner wrote (``RunResult``), as a plain dict
(``--json``) and as a rich rendering of the same dict.
"""

from __future__ import annotations

from typing import Any

from gemini_sft_kfp.pipelines import tasks
from gemini_sft_kfp.pipelines.local.kfp_runner import RunResult, task_log_tail
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# The pipelines' steps, by their task (and local task directory) names.
LAUNCH, WAIT, EVALUATE, SELECT = tasks.LAUNCH, tasks.WAIT, tasks.EVALUATE, tasks.SELECT_CHECKPOINT
REGISTER, DELETE, FINALIZE = tasks.REGISTER, tasks.DELETE, tasks.FINALIZE
CHAMPION = tasks.GET_CHAMPION
_SHOWN_METRICS = (
    "preference_accuracy",  # preference eval data only
    "exact_match",
    "accuracy",
    "macro_f1",
    "rouge_l",
    "bleu",
    "chrf",
)


def _artifact_uri(result: RunResult, task: str, name: str) -> str:
    artifact = result.artifact(task, name)
    return artifact["uri"] if artifact else ""


def _metadata(result: RunResult, task: str, name: str) -> dict[str, Any]:
    artifact = result.artifact(task, name)
    return dict(artifact["metadata"]) if artifact else {}


def verdict(result: RunResult, keep_on_fail: bool) -> str:
    """promoted | rejected-deleted | rejected-kept | failed | unknown."""
    if not result.succeeded:
        return "failed"
    if result.ran(REGISTER):
        return "promoted"
    if result.ran(DELETE):
        return "rejected-deleted"
    passed = result.parameter(EVALUATE, "passed")
    if passed is False and keep_on_fail:
        return "rejected-kept"
    return "unknown"


def build_summary(
    result: RunResult, *, backend: str, simulated: bool, keep_on_fail: bool = False
) -> dict[str, Any]:
    """Everything the user needs after a run, JSON-serialisable."""
    failed = [t for t in result.failed_tasks if t != FINALIZE] or result.failed_tasks
    summary: dict[str, Any] = {
        "succeeded": result.succeeded,
        "verdict": verdict(result, keep_on_fail),
        "backend": backend,
        "simulated": simulated,
        "seconds": round(result.seconds, 2),
        "tasks": {result.display(t): status for t, status in result.task_status.items()},
        "failed_tasks": [result.display(t) for t in failed],
        "champion": result.parameter(CHAMPION, "model", ""),
        "lineage": result.parameter(CHAMPION, "lineage", ""),
        "baseline": result.parameter(CHAMPION, "baseline", ""),
        "tuning_job": result.parameter(LAUNCH, "Output", ""),
        "tuned_model": result.parameter(WAIT, "tuned_model", ""),
        "tuned_endpoint": result.parameter(WAIT, "tuned_endpoint", ""),
        "training_metrics": _metadata(result, WAIT, "metrics"),
        "best_checkpoint": result.parameter(SELECT, "checkpoint_id", ""),
        "checkpoint_scores": _metadata(result, SELECT, "metrics"),
        "gate": {
            "passed": result.parameter(EVALUATE, "passed"),
            "score": result.parameter(EVALUATE, "score"),
        },
        "tuned_metrics": _metadata(result, EVALUATE, "tuned_metrics"),
        "baseline_metrics": _metadata(result, EVALUATE, "baseline_metrics"),
        "registered_model": result.parameter(REGISTER, "Output", ""),
        "deleted": result.parameter(DELETE, "Output"),
        "artifacts": {
            "run_dir": str(result.run_dir or ""),
            "log": str(result.log_path),
            "evaluation_report": _artifact_uri(result, EVALUATE, "report"),
            "checkpoint_report": _artifact_uri(result, SELECT, "report"),
            "tuning_report": _artifact_uri(result, WAIT, "report"),
            "predictions": _artifact_uri(result, EVALUATE, "predictions"),
            "validation_report": _artifact_uri(result, tasks.VALIDATE, "report"),
        },
    }
    if failed:
        summary["error"] = task_log_tail(result.log_path, failed[0], log_text=result.log_tail)
    if result.log_error is not None:
        summary["log_incomplete"] = f"{result.log_path}: {result.log_error.strerror}"
    summary["cleanup"] = _cleanup_report(_artifact_uri(result, FINALIZE, "report"))
    return summary


def _cleanup_report(report_path: str) -> list[str]:
    """What the exit handler did about a failed run, from its report file."""
    if not report_path:
        return []
    try:
        with open(report_path, encoding="utf-8") as f:
            return cleanup_notes(f.read())
    except OSError:
        return []


def cleanup_notes(report: str) -> list[str]:
    """The lines of an exit handler's report (``finalize_run``'s Markdown) that say what
    became of the run's jobs and tuned model (cancelled, kept or deleted)."""
    notes = ("cancel", "tuned model")
    return [
        ln.removeprefix("- ").replace("`", "")
        for ln in report.splitlines()
        if any(n in ln for n in notes)
    ]


_VERDICT_TEXT = {
    "promoted": "[bold green]PROMOTED[/]: the tuned model passed the gate and was registered",
    "rejected-deleted": "[bold yellow]REJECTED[/]: below the gate; the tuned model was deleted",
    "rejected-kept": "[bold yellow]REJECTED[/]: below the gate; the tuned model was kept",
    "failed": "[bold red]FAILED[/]",
    "unknown": "[bold]finished[/]",
}


def _metrics_table(summary: dict[str, Any]) -> Table | None:
    tuned, baseline = summary["tuned_metrics"], summary["baseline_metrics"]
    names = [m for m in _SHOWN_METRICS if m in tuned] or sorted(
        k for k, v in tuned.items() if isinstance(v, int | float)
    )[:8]
    names += [k for k in _judge_metrics(summary) if k not in names]
    if not names:
        return None
    table = Table(title="Evaluation", show_edge=False, title_justify="left")
    table.add_column("metric")
    table.add_column("tuned", justify="right")
    table.add_column("baseline", justify="right")
    for name in names:
        base = baseline.get(name)
        table.add_row(name, f"{tuned[name]:.3f}", "-" if base is None else f"{base:.3f}")
    return table


def _judge_metrics(summary: dict[str, Any]) -> list[str]:
    """The judge scores the evaluation computed (``judge_fluency``...), if any."""
    return [k for k in summary["tuned_metrics"] if k.startswith("judge_") and k != "judge_errors"]


def _facts(summary: dict[str, Any]) -> Table:
    """Label / value rows; long resource names wrap inside the value column."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("verdict", _VERDICT_TEXT.get(summary["verdict"], summary["verdict"]))
    if summary["simulated"]:
        simulated = (
            "training, loss, the tuned model's answers and the judge's scores"
            if _judge_metrics(summary)
            else "training, loss and the tuned model's answers"
        )
        grid.add_row("backend", f"[yellow]emulator: {simulated} are simulated[/]")
    else:
        grid.add_row("backend", escape(summary["backend"]))
    rows = [
        ("lineage", summary.get("lineage", "")),
        ("champion (start)", summary["champion"]),
        ("compared with", summary.get("baseline", "")),
        ("tuning job", summary["tuning_job"]),
        ("tuned model", summary["tuned_model"]),
        ("endpoint", summary["tuned_endpoint"]),
        ("registered", summary["registered_model"]),
    ]
    for label, value in rows:
        if value:
            grid.add_row(label, escape(str(value)))
    training = summary["training_metrics"]
    if training:
        shown = ", ".join(f"{k}={v:g}" for k, v in training.items() if isinstance(v, int | float))
        grid.add_row("training", escape(shown))
    scores = summary.get("checkpoint_scores") or {}
    if scores:
        shown = ", ".join(
            f"{k.removeprefix('checkpoint_').split('_', 1)[0]}={v:.3f}" for k, v in scores.items()
        )
        grid.add_row("checkpoints", escape(f"{shown} (best: {summary['best_checkpoint']})"))
    gate = summary["gate"]
    if gate["passed"] is not None:
        grid.add_row("gate", f"passed={gate['passed']} score={gate['score']:.3f}")
    if summary["failed_tasks"]:
        grid.add_row("[red]failed task[/]", escape(", ".join(summary["failed_tasks"])))
    return grid


def render(summary: dict[str, Any], console: Console) -> None:
    """The human-readable summary."""
    console.print()
    console.rule("gemini-sft run")
    console.print(_facts(summary), highlight=False)
    for line in summary.get("error", []):
        console.print(f"  {escape(line)}", highlight=False)
    if summary.get("log_incomplete"):
        console.print(
            f"[yellow]log incomplete[/]  {escape(summary['log_incomplete'])}", highlight=False
        )
    for note in summary.get("cleanup", []):
        console.print(f"[bold]cleanup[/]  {escape(note)}", highlight=False)
    table = _metrics_table(summary)
    if table is not None:
        console.print(table)
    artifacts = Table.grid(padding=(0, 2))
    artifacts.add_column(style="bold", no_wrap=True)
    artifacts.add_column(overflow="fold")
    for label, path in summary["artifacts"].items():
        if path:
            artifacts.add_row(label.replace("_", " "), escape(path))
    console.print(artifacts, highlight=False)
    console.print(f"took {summary['seconds']:.1f} s")
