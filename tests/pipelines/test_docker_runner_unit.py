"""What `--runner docker` hands KFP's DockerRunner, without Docker."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from gemini_sft_kfp.pipelines.local import docker_runner
from gemini_sft_kfp.pipelines.local.run import LocalRunOptions, task_runner

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


def test_the_containers_get_the_resume_key_and_the_runs_labels(tmp_path, monkeypatch):
    from gemini_sft_kfp.pipelines.local.docker_tasks import (
        OUTPUT_DIR_LABEL,
        RUN_PID_LABEL,
        run_labels,
    )

    from gemini_sft_kfp.jobs.identity import RESUME_KEY_ENV

    monkeypatch.setenv(RESUME_KEY_ENV, "dead-runs-key")
    args = docker_runner.runner_arguments([], emulated=True, labels=run_labels(tmp_path / "x"))
    assert args["environment"][RESUME_KEY_ENV] == "dead-runs-key"
    assert args["labels"][OUTPUT_DIR_LABEL] == str((tmp_path / "x").resolve())
    assert args["labels"][RUN_PID_LABEL] == str(docker_runner.os.getpid())


class FakeContainer:
    def __init__(self, function: str, pid: int, log: list) -> None:
        from gemini_sft_kfp.pipelines.local.docker_tasks import RUN_PID_LABEL

        self.short_id = f"{function}-{pid}"
        self.labels = {RUN_PID_LABEL: str(pid)}
        self.attrs = {"Args": ["--executor_input", "{}", "--function_to_execute", function]}
        self.log = log

    def stop(self, timeout):
        self.log.append(("stop", self.short_id))

    def kill(self):
        self.log.append(("kill", self.short_id))

    def wait(self, timeout):
        return {"StatusCode": 137}


def test_a_dead_runs_containers_are_killed_before_the_resume_decision(tmp_path):
    """Every container of a dead run is killed (no clean-up: a crash is a crash), then the
    decision is taken with none left to create or cancel a job behind its back."""
    from gemini_sft_kfp.pipelines.local import dead_tasks, docker_tasks

    log: list = []
    containers = [
        FakeContainer("launch_tuning_job", 101, log),
        FakeContainer("wait_for_tuning_job", 101, log),
        FakeContainer("wait_for_tuning_job", 202, log),
        FakeContainer("wait_for_tuning_job", os.getpid(), log),  # this run's own: spared
    ]

    def listed(filters):
        assert f"{docker_tasks.OUTPUT_DIR_LABEL}={tmp_path.resolve()}" in filters["label"]
        return containers

    client = SimpleNamespace(containers=SimpleNamespace(list=listed))

    def find_resumable():
        log.append(("decide", ""))
        return ("projects/p/locations/l/tuningJobs/1", "key", 101)

    found, ended = dead_tasks.end_dead_runs(
        [docker_tasks.DockerTasks(client)], tmp_path, find_resumable
    )
    assert found[2] == 101 and ended == 3
    assert sorted(log[:3]) == [
        ("kill", "launch_tuning_job-101"),
        ("kill", "wait_for_tuning_job-101"),
        ("kill", "wait_for_tuning_job-202"),
    ]
    assert log[3:] == [("decide", "")]


def test_an_interrupted_run_stops_its_running_task(tmp_path, monkeypatch):
    """Ctrl-C / SIGTERM of the CLI reaches no container: the run stops its task itself,
    before it waits for its task processes."""
    from gemini_sft_kfp.pipelines.local import kfp_runner as kfp_local
    from gemini_sft_kfp.pipelines.sft import sft_pipeline

    class Interrupted:
        pipeline_spec = sft_pipeline.pipeline_spec

        def __call__(self, **arguments):
            raise KeyboardInterrupt  # Ctrl-C while a task runs

    calls = []
    monkeypatch.setattr(kfp_local, "_reap_tasks", lambda: calls.append("reap"))
    result = kfp_local.run_pipeline_locally(
        Interrupted(), {}, pipeline_root=tmp_path, on_interrupt=lambda: calls.append("stop")
    )
    assert result.interrupted and calls == ["stop", "reap"]
