"""run, submit and schedule take the pipeline options from one declaration."""

from __future__ import annotations

import dataclasses

import pytest
import typer

from gemini_sft_kfp.cli import pipeline as pipeline_cli

SHARED = [
    f.name
    for group in (pipeline_cli.DataOptions, pipeline_cli.ParameterOptions)
    for f in dataclasses.fields(group)
]


def _options(cli_app, command: str) -> dict[str, tuple]:
    click_command = typer.main.get_command(cli_app).commands[command]
    return {p.name: (tuple(p.opts), tuple(p.secondary_opts), p.help) for p in click_command.params}


def test_every_shared_option_is_declared_alike_on_the_three_commands(cli_app):
    run, submit, schedule = (_options(cli_app, c) for c in ("run", "submit", "schedule"))
    for name in SHARED:
        assert run[name] == submit[name] == schedule[name], name
    # --train ... --param (20 before --eval-method, --judge-metric and --judge-rubric):
    # each was written three times before
    assert len(SHARED) == 23


def test_option_groups_reach_the_command_filled_in():
    seen = {}

    @pipeline_cli.with_option_groups
    def command(*, first: str = "a", data: pipeline_cli.DataOptions, last: int = 1) -> None:
        seen.update(first=first, data=data, last=last)

    assert list(command.__signature__.parameters) == [
        "first",
        "train",
        "validation",
        "eval_data",
        "last",
    ]
    command(first="x", train="t.jsonl", validation=None, eval_data="e.jsonl", last=2)
    assert seen == {
        "first": "x",
        "data": pipeline_cli.DataOptions(train="t.jsonl", eval_data="e.jsonl"),
        "last": 2,
    }


@pytest.mark.parametrize(
    ("field", "flag", "value", "parameter", "expected"),
    [
        ("label", "--label", ["team=ml"], "labels", {"team": "ml"}),
        ("alias", "--alias", ("champion",), "model_aliases", ["champion"]),
        ("display_name", "--display-name", "m", "tuned_model_display_name", "m"),
        ("eval_method", "--eval-method", "batch", "eval_method", "batch"),
        (
            "judge_metric",
            "--judge-metric",
            ["fluency", "rubric,win_rate"],
            "eval_judge_metrics",
            ["fluency", "rubric", "win_rate"],
        ),
        ("judge_rubric", "--judge-rubric", "polite", "eval_judge_rubric", "polite"),
    ],
)
def test_options_map_to_pipeline_parameters(field, flag, value, parameter, expected):
    params = pipeline_cli.ParameterOptions(**{field: value})
    named = pipeline_cli._named(pipeline_cli.DataOptions(train="t"), params, location="l")
    assert named[parameter] == expected
    assert named["training_data"] == "t" and named["location"] == "l"
    assert "project" not in named  # not given: never sent
