"""The README's "use the components in your own pipeline" example works as printed."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from tests.support.pipeline_helpers import REPO, needs_components

pytestmark = needs_components


def _python_blocks_after(heading: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    section = section[: section.index("\n## ")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture
def example_blocks():
    blocks = _python_blocks_after("### Using the components in your own pipeline")
    assert len(blocks) == 2, "expected the pipeline example and the local-run example"
    return blocks


def test_readme_pipeline_example_compiles(example_blocks, tmp_path):
    code = example_blocks[0].replace('"my_pipeline.yaml"', repr(str(tmp_path / "p.yaml")))
    exec(compile(code, "README.md", "exec", dont_inherit=True), {"__name__": "readme_example"})
    spec = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert spec["pipelineInfo"]["name"] == "my-gemini-tuning"


@pytest.mark.e2e
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
def test_readme_local_run_example_registers_a_champion(example_blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # the example's data paths are relative to the repository
    namespace = {"__name__": "readme_example"}
    pipeline_code = example_blocks[0].replace('"my_pipeline.yaml"', repr(str(tmp_path / "p.yaml")))
    exec(compile(pipeline_code, "README.md", "exec", dont_inherit=True), namespace)
    run_code = example_blocks[1].replace('"./outputs"', repr(str(tmp_path / "outputs")))
    saved = dict(os.environ)
    try:
        exec(compile(run_code, "README.md", "exec", dont_inherit=True), namespace)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    runs = list(
        (tmp_path / "outputs").glob("my-gemini-tuning-*/register-model/executor_output.json")
    )
    assert runs, "the example pipeline did not reach register-model"
