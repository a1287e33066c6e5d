"""Papercuts a new user meets, each fixed once: hints name the real command and flag,
and the SDK's console links are not printed for jobs that only exist on the emulator."""

from __future__ import annotations

import logging
import sys

import orjson
import pytest

from gemini_sft_kfp.core.errors import UserError
from tests.support.model_helpers import tuned_versions

CONSOLE = "View Pipeline Job:\nhttps://console.cloud.google.com/vertex-ai/pipelines/runs/x"


def test_eval_data_in_openai_format_names_the_convert_command(tmp_path):
    from gemini_sft_kfp.evaluation.eval_data import read_examples

    path = tmp_path / "eval.jsonl"
    record = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]
    }
    path.write_bytes(orjson.dumps(record) + b"\n")
    with pytest.raises(UserError) as caught:
        read_examples(str(path))
    assert f"gemini-sft convert {path} OUT.jsonl" in str(caught.value)


def test_models_delete_refusal_names_the_force_flag(emu, run_cli):
    (version,) = tuned_versions(1)
    code, _, text = run_cli("models", "promote", version, "--json")
    assert code == 0, text
    with pytest.raises(UserError) as caught:
        run_cli("models", "delete", version)
    message = str(caught.value)
    assert "gemini-sft models delete --force" in message and "pass force" not in message
    assert "\n" not in message


@pytest.fixture
def sdk_logger(capsys):
    """An aiplatform module logger as the SDK makes one in a fresh process (no handler
    up the tree): its own ``StreamHandler(sys.stdout)`` (google.cloud.aiplatform.base)."""
    logger = logging.getLogger("google.cloud.aiplatform.rehearsal_test")
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger
    logger.removeHandler(handler)


def test_sdk_chatter_goes_to_stderr_and_no_console_link_on_the_emulator(emu, sdk_logger, capsys):
    from gemini_sft_kfp.pipelines.vertex import route_sdk_logs

    route_sdk_logs()
    sdk_logger.info("Creating PipelineJob")
    sdk_logger.info(CONSOLE)
    out, err = capsys.readouterr()
    assert out == "" and "Creating PipelineJob" in err
    assert "console.cloud.google.com" not in err  # an emulator job has no console page


def test_console_link_is_kept_for_real_vertex(sdk_logger, capsys, monkeypatch):
    from gemini_sft_kfp.pipelines.vertex import route_sdk_logs

    monkeypatch.delenv("VERTEX_AI_EMULATOR_HOST", raising=False)
    route_sdk_logs()
    sdk_logger.info(CONSOLE)
    out, err = capsys.readouterr()
    assert out == "" and "console.cloud.google.com" in err
