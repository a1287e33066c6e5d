"""Every KFP control-flow construct a user can compile runs on the local runner as on
Vertex AI Pipelines, or is refused before the first task with one line.

(No ``from __future__ import annotations`` here: kfp reads the components' type hints.)
"""

from typing import List, NamedTuple  # noqa: UP035 (kfp reads typing.List[int])

import pytest
from gemini_sft_kfp.pipelines.local.control_flow import (
    ConditionError,
    check_constructs,
    evaluate_condition,
)
from gemini_sft_kfp.pipelines.local.kfp_runner import run_pipeline_locally
from kfp import dsl
from kfp.local import io

from gemini_sft_kfp.core.errors import UserError


@dsl.component(base_image="python:3.11")
def score(value: float) -> NamedTuple("Gate", [("passed", bool), ("score", float)]):
    from collections import namedtuple

    return namedtuple("Gate", ["passed", "score"])(value >= 0.5, value)


@dsl.component(base_image="python:3.11")
def mark(label: str) -> str:
    return label


@dsl.component(base_image="python:3.11")
def numbers() -> List[int]:  # noqa: UP006
    return [1, 2, 3]


@dsl.component(base_image="python:3.11")
def lists() -> NamedTuple("Lists", [("items", list), ("count", int)]):
    from collections import namedtuple

    return namedtuple("Lists", ["items", "count"])([1, 2], 2)


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    return x * x


@dsl.component(base_image="python:3.11")
def total(values: list) -> int:
    return int(sum(values))  # JSON numbers arrive as floats


@dsl.component(base_image="python:3.11")
def final(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.component(base_image="python:3.11")
def fail():
    raise RuntimeError("boom")


def run(pipeline, tmp_path, **arguments):
    """The run's result and the display names of the tasks that succeeded."""
    result = run_pipeline_locally(pipeline, arguments, pipeline_root=tmp_path)
    ran = {result.display(t) for t, status in result.task_status.items() if status == "SUCCESS"}
    return result, ran


# --- the condition evaluator itself -----------------------------------------------------


def store() -> io.IOStore:
    values = io.IOStore()
    values.put_parent_input("threshold", 0.5)
    values.put_task_output("evaluate-model", "passed", True)
    values.put_task_output("lists", "count", 2)
    values.put_task_output("mark", "Output", "a && b")
    return values


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("inputs.parameter_values['pipelinechannel--evaluate-model-passed'] == true", True),
        ("!(inputs.parameter_values['pipelinechannel--evaluate-model-passed'] == true)", False),
        ("double(int(inputs.parameter_values['pipelinechannel--lists-count'])) > 1.5", True),
        ("inputs.parameter_values['pipelinechannel--threshold'] != 0.5", False),
        ("inputs.parameter_values['pipelinechannel--mark-Output'] == 'a && b'", True),
        (
            "!(int(inputs.parameter_values['pipelinechannel--lists-count']) == 0) && "
            "int(inputs.parameter_values['pipelinechannel--lists-count']) == 2",
            True,
        ),
    ],
)
def test_conditions_are_decided_as_cel_decides_them(condition, expected):
    assert evaluate_condition(condition, store()) is expected


def test_an_unresolvable_condition_fails_instead_of_skipping_the_branch():
    with pytest.raises(ConditionError, match="pipelinechannel--nowhere-passed"):
        evaluate_condition(
            "inputs.parameter_values['pipelinechannel--nowhere-passed'] == true", store()
        )


# --- one pipeline per construct, on the local runner ------------------------------------


@dsl.pipeline(name="lone-if")
def lone_if(value: float):
    gate = score(value=value)
    with dsl.If(gate.outputs["passed"] == True):  # noqa: E712
        mark(label="registered").set_display_name("register")


@pytest.mark.parametrize(("value", "registered"), [(0.9, True), (0.1, False)])
def test_lone_if_on_a_named_output_runs_exactly_when_true(value, registered, tmp_path):
    """kfp 2.17 alone skips this branch for either value ("Could not resolve CEL
    parameter") and reports SUCCESS."""
    result, ran = run(lone_if, tmp_path, value=value)
    assert result.succeeded
    assert ("register" in ran) is registered
    if not registered:
        assert result.task_status["condition-1"] == "SKIPPED"  # said, not silent


@dsl.pipeline(name="if-elif-else")
def if_elif_else(value: float):
    gate = score(value=value)
    with dsl.If(gate.outputs["score"] > 0.8):
        mark(label="high").set_display_name("high")
    with dsl.Elif(gate.outputs["score"] > 0.4):
        mark(label="middle").set_display_name("middle")
    with dsl.Else():
        mark(label="low").set_display_name("low")


def test_if_elif_else_runs_exactly_one_branch(tmp_path):
    result, ran = run(if_elif_else, tmp_path, value=0.6)
    assert result.succeeded
    assert {"high", "middle", "low"} & ran == {"middle"}


@dsl.pipeline(name="nested-if")
def nested_if(value: float, threshold: float = 0.7):
    gate = score(value=value)
    with dsl.If(gate.outputs["passed"] == True):  # noqa: E712, SIM117 (nested on purpose)
        with dsl.If(gate.outputs["score"] > threshold):
            mark(label="deep").set_display_name("deep")


@pytest.mark.parametrize(("value", "deep"), [(0.9, True), (0.6, False)])
def test_nested_conditions_on_outputs_and_parameters(value, deep, tmp_path):
    result, ran = run(nested_if, tmp_path, value=value)
    assert result.succeeded
    assert ("deep" in ran) is deep


@dsl.pipeline(name="parallel-for")
def parallel_for() -> int:
    items = numbers()
    with dsl.ParallelFor(items.output) as item:
        squared = square(x=item)
    with dsl.ParallelFor(items.output) as item:  # noqa: SIM117 (a condition per item)
        with dsl.If(item > 2):
            mark(label="big").set_display_name("big")
    return total(values=dsl.Collected(squared.output)).output


def test_parallel_for_with_collected_outputs_and_a_condition_per_item(tmp_path):
    result, ran = run(parallel_for, tmp_path)
    assert result.succeeded
    assert result.parameter("total", "Output") == 1 + 4 + 9
    assert "big" in ran  # item 3
    assert "SKIPPED" in result.task_status.values()  # items 1 and 2


@dsl.pipeline(name="exit-handler")
def exit_handler():
    with dsl.ExitHandler(final()):
        fail()


def test_exit_handler_runs_after_a_failed_body(tmp_path):
    result, ran = run(exit_handler, tmp_path)
    assert not result.succeeded
    assert "final" in ran and result.parameter("final", "Output") == "FAILED"


@dsl.pipeline(name="inner")
def inner(value: float) -> float:
    gate = score(value=value)
    with dsl.If(gate.outputs["passed"] == True):  # noqa: E712
        mark(label="inner-passed").set_display_name("inner-passed")
    return gate.outputs["score"]


@dsl.pipeline(name="outer")
def outer(value: float):
    mark(label="after").set_display_name("after").after(inner(value=value))


def test_sub_pipeline_with_its_own_lone_if(tmp_path):
    result, ran = run(outer, tmp_path, value=0.9)
    assert result.succeeded
    assert {"inner-passed", "after"} <= ran


@dsl.pipeline(name="loop-over-named-output")
def loop_over_named_output():
    made = lists()
    with dsl.ParallelFor(made.outputs["items"]) as item:
        square(x=item)


def test_parallel_for_over_a_named_output_is_refused_with_one_line():
    with pytest.raises(UserError) as refused:
        check_constructs(loop_over_named_output.pipeline_spec)
    message = str(refused.value)
    assert "\n" not in message
    assert "dsl.ParallelFor" in message and "'items'" in message and "task.output" in message


@dsl.pipeline(name="collected-through-if")
def collected_through_if() -> int:
    with dsl.ParallelFor([1, 2, 3]) as item:  # noqa: SIM117 (the construct under test)
        with dsl.If(item > 1):
            squared = square(x=item)
    return total(values=dsl.Collected(squared.output)).output


def test_collected_from_inside_a_condition_in_a_loop_is_refused_with_one_line():
    with pytest.raises(UserError, match=r"dsl.Collected .* dsl.If .* dsl.ParallelFor") as refused:
        check_constructs(collected_through_if.pipeline_spec)
    assert "\n" not in str(refused.value) and "dsl.OneOf" in str(refused.value)


@dsl.pipeline(name="one-of")
def one_of(value: float) -> str:
    gate = score(value=value)
    with dsl.If(gate.outputs["passed"] == True):  # noqa: E712
        passed = mark(label="passed")
    with dsl.Else():
        failed = mark(label="failed")
    return dsl.OneOf(passed.output, failed.output)


@dsl.pipeline(name="uses-one-of")
def uses_one_of(value: float):
    mark(label=one_of(value=value).output).set_display_name("verdict")


def test_one_of_passes_on_the_branch_that_ran(tmp_path):
    result, ran = run(uses_one_of, tmp_path, value=0.1)
    assert result.succeeded and "verdict" in ran
    verdict = [t for t in result.outputs if result.display(t) == "verdict"]
    assert result.parameter(verdict[0], "Output") == "failed"


@pytest.mark.parametrize(
    "pipeline", [lone_if, if_elif_else, nested_if, parallel_for, exit_handler, outer, uses_one_of]
)
def test_constructs_that_run_are_not_refused(pipeline):
    check_constructs(pipeline.pipeline_spec)
