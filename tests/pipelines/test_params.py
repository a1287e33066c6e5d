"""Command-line pipeline parameters are typed from the pipeline signature."""

from __future__ import annotations

from typing import ClassVar

import pytest
from gemini_sft_kfp.components.check_run_inputs.executor import check_parameters
from gemini_sft_kfp.pipelines.params import (
    build_arguments,
    check_required,
    coerce,
    parse_pairs,
)

from gemini_sft_kfp.core.errors import UserError


class _Spec:
    def __init__(self, kfp_type: str, optional: bool = True):
        self.type, self.optional = kfp_type, optional


class _Pipeline:
    """Just the part of a KFP pipeline object that params.py reads."""

    class component_spec:
        inputs: ClassVar[dict] = {
            "project": _Spec("String", optional=False),
            "epochs": _Spec("Integer"),
            "eval_threshold": _Spec("Float"),
            "keep_on_fail": _Spec("Boolean"),
            "labels": _Spec("Dict"),
            "model_aliases": _Spec("List"),
        }


def test_values_are_converted_to_the_declared_types():
    args = build_arguments(
        _Pipeline,
        {"project": "p", "epochs": None},
        ["epochs=3", "eval_threshold=0.5", "keep_on_fail=yes", "labels=team=ml,env=dev"],
    )
    assert args == {
        "project": "p",
        "epochs": 3,
        "eval_threshold": 0.5,
        "keep_on_fail": True,
        "labels": {"team": "ml", "env": "dev"},
    }


def test_json_and_comma_lists():
    assert coerce("model_aliases", "List", "champion,latest") == ["champion", "latest"]
    assert coerce("model_aliases", "List", '["a"]') == ["a"]
    assert coerce("labels", "Dict", '{"a": "b"}') == {"a": "b"}


def test_unknown_parameter_is_a_user_error_naming_the_known_ones():
    with pytest.raises(UserError, match="unknown pipeline parameter 'epoch'.*epochs"):
        build_arguments(_Pipeline, {}, ["epoch=3"])


@pytest.mark.parametrize(
    ("name", "kfp_type", "value"),
    [("epochs", "Integer", "three"), ("keep_on_fail", "Boolean", "maybe")],
)
def test_bad_values_are_user_errors(name, kfp_type, value):
    with pytest.raises(UserError) as info:
        coerce(name, kfp_type, value)
    assert info.value.field == name


def test_pairs_need_an_equals_sign():
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_pairs(["oops"])


def test_missing_required_parameter_is_reported():
    with pytest.raises(UserError, match="project"):
        check_required(_Pipeline, {"epochs": 1})


def test_disallowed_adapter_size_is_refused_before_anything_runs():
    arguments = {"base_model": "gemini-2.5-pro", "adapter_size": "16"}
    with pytest.raises(UserError, match="allowed: 1, 2, 4, 8") as info:
        check_parameters(arguments)
    assert info.value.field == "adapter_size"
    check_parameters({"base_model": "gemini-2.5-flash", "adapter_size": "16"})


def test_retired_base_model_is_refused_by_the_pipeline_default_check():
    with pytest.raises(UserError, match="no longer supported"):
        check_parameters({"base_model": "gemini-1.5-pro"})


def test_continuous_tuning_leaves_the_adapter_check_to_the_champions_base():
    # The champion may be a gemini-2.5-flash model, where 16 is allowed: launch decides.
    check_parameters({"base_model": "gemini-2.5-pro", "adapter_size": "16", "champion_model": "m"})


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("quota_timeout_seconds", float("nan"), "between"),
        ("quota_timeout_seconds", -1.0, "between"),
        ("beta", 0.0, "greater than 0"),
        ("beta", "x", "finite number"),
        ("beta", float("inf"), "finite"),
        ("validation_split_seed", -1, "between"),
        ("validation_split_seed", 1.5, "whole number"),
    ],
)
def test_every_declared_number_is_checked_before_anything_runs(name, value, says):
    with pytest.raises(UserError, match=says) as info:
        check_parameters({name: value})
    assert info.value.field == name
