"""One declaration per pipeline parameter, one home per default.

Every place a parameter or a default appears is derived from
``pipelines/parameters.py`` and ``core/defaults.py``; these tests read each of those
places (the pipeline signatures, the input check's component, the CLI options, the
compiled YAML, the README's table) and fail on any value that is not the table's.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import typer
import yaml
from gemini_sft_kfp.pipelines import parameters as table
from gemini_sft_kfp.pipelines.compile import PIPELINE_ALIASES, PIPELINES, pipeline_by_name

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.models import known_model_ids, recommended_model

ROOT = Path(__file__).resolve().parents[1]
KFP_TYPES = {
    str: "STRING",
    int: "NUMBER_INTEGER",
    float: "NUMBER_DOUBLE",
    bool: "BOOLEAN",
    dict: "STRUCT",
    list: "LIST",
}


def _root_inputs(file_name: str) -> dict:
    docs = list(yaml.safe_load_all((ROOT / "compiled" / file_name).read_text("utf-8")))
    spec = next(d for d in docs if d and "root" in d)
    return spec["root"]["inputDefinitions"]["parameters"]


@pytest.mark.parametrize("pipeline", list(PIPELINE_ALIASES))
def test_each_pipeline_signature_is_the_tables(pipeline):
    func = pipeline_by_name(pipeline)
    declared = {p.name: p for p in table.of_pipeline(pipeline)}
    params = inspect.signature(func.pipeline_func).parameters
    assert list(params) == list(declared)
    for name, parameter in params.items():
        p = declared[name]
        assert parameter.annotation is p.type, name
        expected = p.default_in(pipeline)
        if expected is table.REQUIRED:
            assert parameter.default is inspect.Parameter.empty, name
        else:
            assert parameter.default == expected, name
        spec = func.component_spec.inputs[name]
        assert " ".join((spec.description or "").split()) == " ".join(
            p.help_in(pipeline).split()
        ), name


@pytest.mark.parametrize("file_name", list(PIPELINES))
def test_compiled_yaml_has_the_tables_names_types_and_defaults(file_name):
    pipeline = next(k for k, v in PIPELINE_ALIASES.items() if v == file_name)
    compiled = _root_inputs(file_name)
    declared = {p.name: p for p in table.of_pipeline(pipeline)}
    assert set(compiled) == set(declared)
    for name, spec in compiled.items():
        p = declared[name]
        assert spec["parameterType"] == KFP_TYPES[p.type], name
        expected = p.default_in(pipeline)
        if expected is table.REQUIRED:
            assert "defaultValue" not in spec, name
        else:
            assert spec["defaultValue"] == expected, name


def test_check_run_inputs_takes_every_checked_parameter_with_the_tables_defaults():
    from gemini_sft_kfp.components import check_run_inputs

    inputs = check_run_inputs.component_spec.inputs
    checked = {p.name: p for p in table.checked_parameters()}
    assert set(inputs) == set(checked) | {"pipeline_job_id"}
    for name, p in checked.items():
        if p.required:
            assert not inputs[name].optional, name
        else:
            assert inputs[name].default == p.default, name


def test_cli_options_are_the_tables_flags(cli_app):
    command = typer.main.get_command(cli_app).commands["run"]
    options = {param.name: param for param in command.params}
    for p in table.PARAMETERS:
        if p.flag and p.name not in {"project", "location"}:
            flags = p.flag.split("/")
            assert options[p.name].opts[0] == flags[0], p.name
            assert options[p.name].default is None, p.name  # the table's default applies


def test_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text("utf-8")
    start, end = readme.index(table.TABLE_START), readme.index(table.TABLE_END)
    assert readme[start : end + len(table.TABLE_END)] + "\n" == table.parameter_table()


def test_defaults_come_from_the_model_table_and_one_module():
    assert defaults.BASE_MODEL == recommended_model() in known_model_ids()
    assert table.BY_NAME["base_model"].default == defaults.BASE_MODEL
    assert table.BY_NAME["location"].default == defaults.LOCATION
    assert table.BY_NAME["model_aliases"].default == [defaults.CHAMPION_ALIAS]
    assert table.BY_NAME["champion_alias"].default == defaults.CHAMPION_ALIAS


MODEL_DEFAULT_INPUTS = {"base_model", "model"}


def test_no_component_or_pipeline_signature_has_another_default():
    """Every component's model, location and alias defaults are core/defaults.py's."""
    from gemini_sft_kfp import components

    for name in components.COMPONENT_NAMES:
        for input_name, spec in components.load(name).component_spec.inputs.items():
            if spec.default in (None, ""):
                continue
            if input_name in MODEL_DEFAULT_INPUTS:
                assert spec.default == defaults.BASE_MODEL, (name, input_name)
            if input_name == "location":
                assert spec.default == defaults.LOCATION, (name, input_name)
            if input_name in {"alias", "champion_alias"}:
                assert spec.default == defaults.CHAMPION_ALIAS, (name, input_name)


GEMINI_MODEL = re.compile(r"\bgemini-\d[\w.-]*")


@pytest.mark.parametrize("file_name", list(PIPELINES))
def test_compiled_yaml_names_no_other_default_model(file_name):
    """Descriptions and defaults in the compiled YAML name only the recommended model."""
    text = (ROOT / "compiled" / file_name).read_text("utf-8")
    defaults_named = {
        m.group(0).rstrip(".,)")
        for line in text.splitlines()
        if "defaultValue" in line or "default" in line.lower()
        for m in GEMINI_MODEL.finditer(line)
    }
    assert defaults_named <= {defaults.BASE_MODEL}
