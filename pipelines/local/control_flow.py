"""KFP control flow on the local runner as Vertex AI Pipelines runs it, or refused up front.

kfp 2.17's local runner (``kfp.local.orchestrator.enhanced_dag_orchestrator``) evaluates
a ``dsl.If`` condition by guessing where each ``pipelinechannel--…`` value lives: only a
task's single output (``Output``) or a parent input. A condition on a *named* output
(``evaluate.outputs["passed"] == True``, the lone ``dsl.If`` of
``components/evaluate_model/README.md``) resolves to nothing, the condition counts as
false and the branch is skipped with a warning: the run reports SUCCESS and the model is
never registered. Its evaluator also lacks CEL's ``double()`` (an int output compared with
a float) and turns any error into "false".

``patch_kfp_local()`` replaces that evaluator with ``evaluate_condition``: every value is
resolved (named outputs too) and anything that cannot be resolved or evaluated fails the
run loudly instead of skipping a branch. ``If/Elif/Else`` already worked (their conditions
read the branch group's inputs); they go through the same evaluator now.

``check_constructs(pipeline_spec)`` refuses, before the first task, what the local runner
cannot run as Vertex does, with one line naming the construct and what to do.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gemini_sft_kfp.core.errors import UserError

CHANNEL_PREFIX = "pipelinechannel--"
_REFERENCE = re.compile(r"inputs\.parameter_values\['([^']+)'\]")
_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")
_CEL_NAMES = {"true": True, "false": False, "null": None, "int": int, "double": float}
_ALLOWED = re.compile(r"^[\s\w().<>=!&|+\-*/]*$")  # what remains once values are bound


class ConditionError(RuntimeError):
    """A ``dsl.If`` condition the local runner cannot decide: the run fails, never skips."""


def resolve_channel(name: str, io_store: Any) -> Any:
    """The value a condition's ``inputs.parameter_values['NAME']`` stands for.

    In a sub-DAG (a branch group, a loop, a sub-pipeline) the value is one of its inputs,
    stored under the channel's name; at the root it is a pipeline parameter
    (``pipelinechannel--threshold`` -> ``threshold``) or a task output
    (``pipelinechannel--evaluate-model-passed`` -> task ``evaluate-model``, output
    ``passed``; output names have no dash, so the last dash that names a stored task
    splits them).
    """
    for key in (name, name.removeprefix(CHANNEL_PREFIX)):
        try:
            return io_store.get_parent_input(key)
        except (KeyError, ValueError):
            pass
    reference = name.removeprefix(CHANNEL_PREFIX)
    dashes = [i for i, char in enumerate(reference) if char == "-"]
    for i in reversed(dashes):
        try:
            return io_store.get_task_output(reference[:i], reference[i + 1 :])
        except (KeyError, ValueError):
            continue
    raise ConditionError(
        f"condition value {name!r} is neither an input of its group nor a task output"
    )


def evaluate_condition(condition: str, io_store: Any) -> bool:
    """Decide a compiled ``dsl.If`` condition (the CEL subset kfp's compiler writes:
    comparisons, ``&&``, ``||``, ``!(…)``, ``int()``, ``double()``, literals)."""
    if not condition or not condition.strip():
        return True
    values: dict[str, Any] = {}

    def bind(value: Any) -> str:
        name = f"_v{len(values)}"
        values[name] = value
        return name

    expression = _REFERENCE.sub(lambda m: bind(resolve_channel(m[1], io_store)), condition)
    expression = _STRING.sub(lambda m: bind(re.sub(r"\\(.)", r"\1", m[1])), expression)
    if not _ALLOWED.match(expression):
        raise ConditionError(f"cannot evaluate condition {condition!r} locally")
    expression = expression.replace("&&", " and ").replace("||", " or ")
    expression = re.sub(r"!(?!=)", " not ", expression)
    try:
        result = eval(expression, {"__builtins__": {}}, {**_CEL_NAMES, **values})
    except Exception as exc:
        raise ConditionError(f"cannot evaluate condition {condition!r}: {exc}") from None
    decided = bool(result)
    logging.info("condition %s is %s", condition, str(decided).lower())
    return decided


def patch_kfp_local() -> None:
    """Make kfp's local runner decide conditions with ``evaluate_condition`` (idempotent)."""
    from kfp.local.orchestrator import enhanced_dag_orchestrator

    enhanced_dag_orchestrator.ConditionEvaluator.evaluate_condition = staticmethod(
        evaluate_condition
    )


def _dags(pipeline_spec) -> list[tuple[str, Any]]:
    dags = [("the pipeline", pipeline_spec.root.dag)]
    for name, component in pipeline_spec.components.items():
        if component.WhichOneof("implementation") == "dag":
            dags.append((name.removeprefix("comp-"), component.dag))
    return dags


def check_constructs(pipeline_spec) -> None:
    """Refuse, before anything runs, a construct kfp's local runner would not run as
    Vertex AI Pipelines does (one ``UserError`` line naming it and what to do)."""
    for _, dag in _dags(pipeline_spec):
        for task_name, task in dag.tasks.items():
            if task.WhichOneof("iterator"):
                _check_collected(pipeline_spec, task_name, task)
            if task.WhichOneof("iterator") != "parameter_iterator":
                continue
            items = task.parameter_iterator.items
            if not items.HasField("input_parameter"):
                continue  # a constant list: runs
            source = task.inputs.parameters.get(items.input_parameter)
            if source is None or not source.HasField("task_output_parameter"):
                continue  # a pipeline parameter or a group input: runs
            output = source.task_output_parameter.output_parameter_key
            if output != "Output":
                producer = source.task_output_parameter.producer_task
                raise UserError(
                    f"dsl.ParallelFor over the named output {output!r} of task {producer!r} "
                    f"({task_name}) does not run on the local runner (kfp 2.17 iterates a "
                    "task's single output only): make the list the component's only return "
                    "value (-> list) and loop over task.output",
                    field="pipeline",
                )


def _check_collected(pipeline_spec, loop_name: str, loop) -> None:
    """``dsl.Collected`` of a task inside a ``dsl.If`` in the loop: kfp's local runner
    fails every iteration whose branch is skipped."""
    body = pipeline_spec.components.get(loop.component_ref.name)
    if body is None or body.WhichOneof("implementation") != "dag":
        return
    outputs = body.dag.outputs
    producers = [p.value_from_parameter.producer_subtask for p in outputs.parameters.values()]
    for artifact in outputs.artifacts.values():
        producers += [s.producer_subtask for s in artifact.artifact_selectors]
    for producer in producers:
        task = body.dag.tasks.get(producer)
        if task is not None and task.trigger_policy.condition:
            raise UserError(
                f"dsl.Collected of a task inside a dsl.If within dsl.ParallelFor ({loop_name}) "
                "does not run on the local runner (kfp 2.17 fails each iteration whose "
                "branch is skipped): collect a task outside the dsl.If, or give every "
                "branch an output and collect dsl.OneOf(...)",
                field="pipeline",
            )
