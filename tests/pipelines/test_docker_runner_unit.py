"""What `--runner docker` hands KFP's DockerRunner, without Docker."""

from __future__ import annotations

from pathlib import Path

import pytest
from gemini_sft_kfp.pipelines import docker_runner
from gemini_sft_kfp.pipelines.local_runner import LocalRunOptions, task_runner

from gemini_sft_kfp.core.errors import UserError


def test_runs_as_the_invoking_user_on_the_host_network_with_data_read_only(tmp_path, monkeypatch):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    monkeypatch.setattr(docker_runner.os, "getuid", lambda: 1234)
    monkeypatch.setattr(docker_runner.os, "getgid", lambda: 567)
    monkeypatch.setenv("VERTEX_AI_EMULATOR_HOST", "http://127.0.0.1:9")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "adc.json"))
    (tmp_path / "adc.json").write_text("{}")
    args = docker_runner.runner_arguments([str(data), str(data)], emulated=True)
    assert args["user"] == "1234:567"
    assert args["network_mode"] == "host"
    assert args["environment"]["HOME"] == "/tmp"
    assert args["environment"]["VERTEX_AI_EMULATOR_HOST"] == "http://127.0.0.1:9"
    assert args["environment"]["STORAGE_EMULATOR_HOST"] == "http://127.0.0.1:8"
    [mount] = args["mounts"]  # deduplicated; no credentials against the emulator
    assert (mount["Source"], mount["Target"], mount["ReadOnly"]) == (str(data), str(data), True)
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in args["environment"]


def test_against_the_cloud_the_credentials_file_is_mounted_read_only(tmp_path, monkeypatch):
    adc = tmp_path / "adc.json"
    adc.write_text("{}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    args = docker_runner.runner_arguments([], emulated=False)
    [mount] = args["mounts"]
    assert mount["Source"] == str(adc) and mount["ReadOnly"]
    assert args["environment"]["GOOGLE_APPLICATION_CREDENTIALS"] == mount["Target"]


def test_executor_images_points_every_task_at_the_image_then_restores():
    from gemini_sft_kfp.pipelines.sft import sft_pipeline

    executors = sft_pipeline.pipeline_spec.deployment_spec["executors"]
    before = {name: e["container"]["image"] for name, e in executors.items()}
    with docker_runner.executor_images(sft_pipeline, "local/test:1"):
        assert {e["container"]["image"] for e in executors.values()} == {"local/test:1"}
    assert {name: e["container"]["image"] for name, e in executors.items()} == before


def test_unknown_runner_is_refused_before_anything_runs():
    with (
        pytest.raises(UserError, match="unknown runner 'k8s'"),
        task_runner(LocalRunOptions(runner="k8s"), None, {}, None),
    ):
        pass


def test_image_build_runs_docker_build_with_the_local_tag(run_cli, monkeypatch):
    from gemini_sft_kfp.cli import image as image_cli

    calls = []
    monkeypatch.setattr(image_cli.shutil, "which", lambda name: "/usr/bin/docker")
    monkeypatch.setattr(image_cli.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    code, _, out = run_cli("image", "build", "--base", "python:3.11-slim")
    assert code == 0, out
    [command] = calls
    assert command[:4] == ["/usr/bin/docker", "build", "--tag", "gemini-sft-kfp:0.1.0"]
    assert "PYTHON_IMAGE=python:3.11-slim" in command
    assert (Path(command[-1]) / "Dockerfile").is_file()  # this checkout
    assert out.strip().endswith("gemini-sft-kfp:0.1.0")
