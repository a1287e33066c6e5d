"""The end-of-run summary shows judge scores beside the computed ones, labelled simulated."""

from __future__ import annotations

from gemini_sft_kfp.pipelines.local.summary import render
from rich.console import Console


def _summary(tuned: dict, baseline: dict) -> dict:
    return {
        "verdict": "promoted",
        "simulated": True,
        "backend": "emulator",
        "champion": "",
        "tuning_job": "",
        "tuned_model": "",
        "tuned_endpoint": "",
        "registered_model": "",
        "training_metrics": {},
        "gate": {"passed": True, "score": 0.75},
        "failed_tasks": [],
        "tuned_metrics": tuned,
        "baseline_metrics": baseline,
        "artifacts": {},
        "seconds": 1.0,
    }


def _text(summary: dict) -> str:
    console = Console(record=True, width=200)
    render(summary, console)
    return console.export_text()


def test_judge_scores_are_in_the_table_and_called_simulated():
    text = _text(
        _summary(
            {"exact_match": 0.9, "judge_win_rate": 0.75, "judge_errors": 0.0},
            {"exact_match": 0.1, "judge_win_rate": 0.25},
        )
    )
    assert "judge's scores are simulated" in text
    [row] = [line for line in text.splitlines() if line.strip().startswith("judge_win_rate")]
    assert [cell for cell in row.split() if cell != "│"][1:] == ["0.750", "0.250"]
    assert "judge_errors" not in text


def test_without_judge_metrics_the_summary_is_unchanged():
    text = _text(_summary({"exact_match": 0.9}, {"exact_match": 0.1}))
    assert "emulator: training, loss and the tuned model's answers are simulated" in text
    assert "judge" not in text
