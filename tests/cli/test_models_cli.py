"""`gemini-sft models list|promote|delete` against the emulator: JSON shape, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
import typer
from typer.testing import CliRunner

from gemini_sft_kfp.cli import models as models_cli
from gemini_sft_kfp.core.errors import UserError
from tests.support.model_helpers import DISPLAY_NAME, tuned_versions


@pytest.fixture
def cli(emu):
    app = typer.Typer()
    app.callback()(lambda: None)
    models_cli.register(app)

    def invoke(*args: str):
        return CliRunner().invoke(app, ["models", *args])

    return invoke


def one_json(result) -> dict:
    assert result.exit_code == 0, (result.output, result.exception)
    return orjson.loads(result.stdout)  # exactly one JSON document on stdout


def test_promote_list_and_rollback(cli) -> None:
    v1, v2 = tuned_versions(2)
    model_id = v1.partition("@")[0].rsplit("/", 1)[-1]
    promoted = one_json(cli("promote", model_id, "--json"))  # no version: the newest
    assert promoted["model"] == v2 and promoted["changed"] is True
    listed = one_json(cli("list", "--alias", "champion", "--json"))
    assert [v["model"] for v in listed["versions"]] == [v2]
    assert listed["alias"] == "champion" and listed["project"] and listed["location"]
    rollback = one_json(cli("promote", f"{DISPLAY_NAME}@1", "--json"))
    assert rollback["model"] == v1 and rollback["previous"] == {"champion": [v2]}
    again = one_json(cli("promote", f"{model_id}@1", "--json"))
    assert again["changed"] is False
    everything = one_json(cli("list", "--json"))
    assert [v["versionId"] for v in everything["versions"]] == ["1", "2"]
    human = cli("list", "--model", DISPLAY_NAME)
    assert human.exit_code == 0 and "champion" in human.stdout
    champion = one_json(cli("champion", DISPLAY_NAME, "--json"))
    assert champion["found"] is True and champion["model"] == v1
    assert champion["baseModel"] == "gemini-2.5-flash" and champion["endpoint"]
    nobody = one_json(cli("champion", DISPLAY_NAME, "--alias", "canary", "--json"))
    assert nobody["found"] is False and nobody["model"] == ""


def test_delete_json_refusal_force_and_gone(cli) -> None:
    v1, v2 = tuned_versions(2)
    one_json(cli("promote", v2, "--json"))
    refused = cli("delete", v2, "--json")
    assert isinstance(refused.exception, UserError) and refused.stdout == ""
    dry = one_json(cli("delete", v1.partition("@")[0], "--dry-run", "--force", "--json"))
    assert dry["dryRun"] is True and dry["deleted"] is False and dry["scope"] == "model"
    deleted = one_json(cli("delete", v1, "--json"))
    assert deleted["deleted"] and deleted["scope"] == "version" and deleted["endpointsDeleted"]
    forced = one_json(cli("delete", v2, "--force", "--json"))
    assert forced["deleted"] and forced["scope"] == "model"
    gone = one_json(cli("delete", v2, "--json"))
    assert gone["deleted"] and gone["alreadyGone"]


def test_refusal_is_one_line_and_exit_1(emu) -> None:
    (v1,) = tuned_versions(1)
    env = {**os.environ, **emu.env}
    command = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()"]
    promote = subprocess.run(
        [*command, "models", "promote", v1, "--json"], env=env, capture_output=True, text=True
    )
    assert promote.returncode == 0, promote.stderr
    assert orjson.loads(promote.stdout)["model"] == v1
    refused = subprocess.run(
        [*command, "models", "delete", v1], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert "champion" in refused.stderr and refused.stdout == ""


def test_project_is_required_without_the_emulator(monkeypatch) -> None:
    monkeypatch.delenv("VERTEX_AI_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    app = typer.Typer()
    app.callback()(lambda: None)
    models_cli.register(app)
    result = CliRunner().invoke(app, ["models", "list", "--location", "us-central1"])
    assert isinstance(result.exception, UserError) and "--project" in str(result.exception)
