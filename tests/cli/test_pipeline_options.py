"""run, submit and schedule take the pipeline options from one declaration."""

from __future__ import annotations

import dataclasses

import pytest
import typer
from gemini_sft_kfp.pipelines.parameters import BY_NAME, PARAMETERS

from gemini_sft_kfp.cli import pipeline as pipeline_cli

SHARED = [f.name for f in dataclasses.fields(pipeline_cli.PipelineOptions)]


def _options(cli_app, command: str) -> dict[str, tuple]:
    click_command = typer.main.get_command(cli_app).commands[command]
    return {p.name: (tuple(p.opts), tuple(p.secondary_opts), p.help) for p in click_command.params}


def test_every_shared_option_is_declared_alike_on_the_three_commands(cli_app):
    run, submit, schedule = (_options(cli_app, c) for c in ("run", "submit", "schedule"))
    for name in SHARED:
        assert run[name] == submit[name] == schedule[name], name
    # every parameter with a flag in the table, plus --param: each was written three
    # times before the table
    flagged = [p.name for p in PARAMETERS if p.flag and p.name not in {"project", "location"}]
    assert [*flagged, "param"] == SHARED
    assert len(SHARED) >= 25


@dataclasses.dataclass
class Data:
    train: str | None = None
    eval_data: str | None = None


def test_option_groups_reach_the_command_filled_in():
    seen = {}

    @pipeline_cli.with_option_groups
    def command(*, first: str = "a", data: Data, last: int = 1) -> None:
        seen.update(first=first, data=data, last=last)

    assert list(command.__signature__.parameters) == ["first", "train", "eval_data", "last"]
    command(first="x", train="t.jsonl", eval_data="e.jsonl", last=2)
    assert seen == {"first": "x", "data": Data(train="t.jsonl", eval_data="e.jsonl"), "last": 2}


@pytest.mark.parametrize(
    ("field", "flag", "value", "parameter", "expected"),
    [
        ("labels", "--label", ["team=ml"], "labels", {"team": "ml"}),
        ("model_aliases", "--alias", ("champion",), "model_aliases", ["champion"]),
        ("tuned_model_display_name", "--display-name", "m", "tuned_model_display_name", "m"),
        ("eval_method", "--eval-method", "batch", "eval_method", "batch"),
        (
            "eval_judge_metrics",
            "--judge-metric",
            ["fluency", "rubric,win_rate"],
            "eval_judge_metrics",
            ["fluency", "rubric", "win_rate"],
        ),
        ("eval_judge_rubric", "--judge-rubric", "polite", "eval_judge_rubric", "polite"),
        ("beta", "--beta", 0.2, "beta", 0.2),
    ],
)
def test_options_map_to_pipeline_parameters(field, flag, value, parameter, expected):
    params = pipeline_cli.PipelineOptions(training_data="t", **{field: value})
    named = pipeline_cli._named(params, location="l")
    assert BY_NAME[parameter].flag.startswith(flag)
    assert named[parameter] == expected
    assert named["training_data"] == "t" and named["location"] == "l"
    assert "project" not in named  # not given: never sent
