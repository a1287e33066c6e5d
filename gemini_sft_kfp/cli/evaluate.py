"""`gemini-sft evaluate`: score a tuned endpoint against a baseline, apply the quality gate.

With ``--json`` stdout carries exactly one JSON object (progress goes to stderr):
``{"examples", "errors", "tuned": {metric: value}, "baseline": {...}, "passed", "score"}``
plus extra keys. Exit codes: 0 evaluated (whatever the gate said, unless
``--fail-on-gate``), 1 a user error, 2 the gate failed with ``--fail-on-gate``.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

GATE_FAILED_EXIT = 2
COUNTS = frozenset(
    {"examples", "errors", "requests", "prompt_tokens", "output_tokens", "total_tokens"}
)
_ENDPOINT_ID = re.compile(r"^\d+$")


def resolve_endpoint(endpoint: str, project: str, location: str) -> str:
    """Accept a bare endpoint ID as well as the full resource name (model ids pass through)."""
    endpoint = endpoint.strip()
    if _ENDPOINT_ID.match(endpoint):
        return f"projects/{project}/locations/{location}/endpoints/{endpoint}"
    return endpoint


def _print_table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary['examples']} examples, {summary['errors']} tuned errors")
    table.add_column("metric")
    table.add_column("tuned", justify="right")
    table.add_column("baseline", justify="right")

    def fmt(name: str, value: float | None) -> str:
        if value is None:
            return ""
        if name.endswith("_ms"):
            return f"{value:,.0f}"
        return f"{value:,.0f}" if name in COUNTS else f"{value:.4f}"

    for name, value in summary["tuned"].items():
        table.add_row(name, fmt(name, value), fmt(name, summary["baseline"].get(name)))
    console = Console()
    console.print(table)
    verdict = "[green]PASSED[/]" if summary["passed"] else "[red]FAILED[/]"
    console.print(f"gate {verdict}: {summary['gate']['reason']}", highlight=False)
    if summary["simulated"]:
        console.print("[yellow]answers simulated by the local emulator[/]")


def evaluate_command(
    endpoint: str = typer.Option(
        ..., "--endpoint", help="Tuned endpoint: resource name or numeric ID."
    ),
    data: str = typer.Option(
        ...,
        "--data",
        help="Eval JSONL (local path or gs://): tuning examples, or preference lines "
        "(contents + completions: the preferred one is the reference).",
    ),
    baseline: str = typer.Option(
        "",
        "--baseline",
        help="Base model id (e.g. gemini-2.5-flash) or endpoint (name or ID) to compare with.",
    ),
    base_model: str = typer.Option(
        "", "--base-model", help="Base model of the tuned endpoint (thinking budget 0)."
    ),
    metric: str = typer.Option(
        "exact_match",
        "--metric",
        help="Metric the gate judges: exact_match, rouge_l, bleu, chrf, accuracy, macro_f1, "
        "preference_accuracy (preference eval data: answers closer to the preferred than to "
        "the dispreferred completion), or a judge metric: judge_fluency, judge_groundedness, "
        "judge_rubric, judge_win_rate.",
    ),
    judge: str = typer.Option(
        "",
        "--judge",
        help="Model-based metrics from the Gen AI evaluation service, comma-separated: "
        "fluency, groundedness, rubric (needs --judge-rubric), win_rate (needs --baseline).",
    ),
    judge_rubric: str = typer.Option(
        "", "--judge-rubric", help="Criteria of the 'rubric' judge metric, in plain words."
    ),
    method: str = typer.Option(
        "online",
        "--method",
        help="online (concurrent calls), batch (one batch prediction job per model), or "
        "auto (batch from 5,000 examples); batch and auto need --staging.",
    ),
    staging: str = typer.Option(
        "", "--staging", help="gs:// prefix for batch request and result files."
    ),
    threshold: float = typer.Option(0.0, "--threshold", help="Pass when metric >= this."),
    min_improvement: float = typer.Option(
        0.0, "--min-improvement", help="Pass when metric >= baseline + this."
    ),
    gate: str = typer.Option("all", "--gate", help="all | any | threshold | improvement."),
    temperature: float = typer.Option(0.0, "--temperature"),
    max_output_tokens: int = typer.Option(256, "--max-output-tokens"),
    concurrency: int = typer.Option(8, "--concurrency", help="Requests in flight."),
    rpm: int = typer.Option(
        0,
        "--rpm",
        help="Requests per minute limit (0: none), for the model calls and, separately, "
        "the judge's calls.",
    ),
    max_examples: int = typer.Option(0, "--max-examples", help="Evaluate the first N only."),
    project: str | None = typer.Option(None, "--project", envvar="GOOGLE_CLOUD_PROJECT"),
    location: str | None = typer.Option(None, "--location", envvar="GOOGLE_CLOUD_LOCATION"),
    output_dir: Path | None = typer.Option(
        None, "--output-dir", help="Write predictions.jsonl and report.md here."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    fail_on_gate: bool = typer.Option(
        False, "--fail-on-gate", help=f"Exit {GATE_FAILED_EXIT} when the gate fails."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Evaluate a tuned endpoint (and a baseline) on an eval set; apply the quality gate."""
    import logging

    import orjson

    from gemini_sft_kfp.core.project import resolve_project_location
    from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate
    from gemini_sft_kfp.evaluation.judge import parse_names
    from gemini_sft_kfp.evaluation.runner import Settings, quiet_sdk_logs

    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    quiet_sdk_logs()
    project, location = resolve_project_location(project, location)
    outputs = []
    if output_dir:  # before the evaluation runs (and is paid for), not after
        from gemini_sft_kfp.core.outputs import check_output_dir, check_output_file

        check_output_dir(output_dir, field="output-dir")
        outputs = [output_dir / "predictions.jsonl", output_dir / "report.md"]
        for path in outputs:
            check_output_file(path, field="output-dir", inputs=[data])
    config = EvalConfig(
        eval_data=data,
        endpoint=resolve_endpoint(endpoint, project, location),
        baseline=resolve_endpoint(baseline, project, location) if baseline else "",
        base_model=base_model,
        metric=metric,
        threshold=threshold,
        min_improvement=min_improvement,
        gate=gate,
        concurrency=concurrency,
        requests_per_minute=rpm,
        max_examples=max_examples,
        settings=Settings(temperature=temperature, max_output_tokens=max_output_tokens),
        judge_metrics=parse_names(judge),
        judge_rubric=judge_rubric,
        method=method,
        staging_uri=staging,
    )
    result = evaluate(project, location, config)
    summary = result.summary()
    if outputs:
        from gemini_sft_kfp.core.outputs import staged_files
        from gemini_sft_kfp.evaluation.report import render

        with staged_files(*outputs, inputs=[data]) as (
            predictions,
            report,
        ):  # both files, or neither
            result.write_predictions(str(predictions))
            report.write_text(render(result), encoding="utf-8")
        summary["outputs"] = {"predictions": str(outputs[0]), "report": str(outputs[1])}
    if as_json:
        from gemini_sft_kfp.cli.output import json_text

        typer.echo(json_text(summary, option=orjson.OPT_SERIALIZE_NUMPY))
    else:
        _print_table(summary)
    if fail_on_gate and not summary["passed"]:
        raise typer.Exit(GATE_FAILED_EXIT)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("evaluate")(evaluate_command)
