"""Shared fixtures. The tree mirrors the source: tests/components/<name>/, tests/core/,
tests/pipelines/, tests/emulator/, tests/cli/; shared fakes live in tests/support/.

``emulator`` (session): the running Vertex AI + Cloud Storage emulator; its ``env`` is
set in ``os.environ`` for the session so every client the project builds talks to it.
``emu`` (function): the same handle after ``reset()``: no jobs, models, buckets or faults.
``tiny_model``: a model table with tiny caps. ``no_retry_sleep``: the shared retry
policy without its real sleeps. ``cli_app`` / ``run_cli`` / ``local_run``: the CLI
in-process and local runs into tmp_path.

Parallel (pytest-xdist, on by default: pyproject's ``addopts``): every worker has its own
session emulator on free ports, and its own tmp_path. ``pytest_collection_modifyitems``
keeps together on one worker (an ``xdist_group``) the tests that share a module- or
package-scoped fixture, so it is built once, and every test under a directory in
``ONE_WORKER_DIRECTORIES``; it sends the slow end-to-end tests out first. ``-n 0`` runs
serially.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import orjson
import pytest

from gemini_sft_kfp.core import models, retry
from tests.support.cli import invoke_cli

TEST_TUNING_SECONDS = 1.0

# Tests under these directories share one Docker engine, one image build and emulators whose
# jobs run for minutes: one worker runs them all, one after another.
ONE_WORKER_DIRECTORIES = {"tests/containers": "containers"}
SHARED_SCOPES = ("class", "module", "package")
WORKERS_PER_CORE = 2  # most tests wait on subprocesses, emulated jobs and sockets


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: more workers than cores, as the tests mostly wait on other processes."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return WORKERS_PER_CORE * (cores or 1)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config, items) -> None:
    for item, group in zip(items, _worker_groups(items), strict=True):
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
            if getattr(config.option, "loadgroup", False):  # on an xdist worker
                _suffix_node_id(item, group)
    # slow first (stable sort: whole modules move, so their module fixtures are made once)
    slow = {item.path for item in items if item.get_closest_marker("e2e")}
    items.sort(key=lambda item: item.path not in slow)


def _suffix_node_id(item, group: str) -> None:
    """xdist's loadgroup finds the group in a ``@group`` suffix of the node id, which it
    writes to ``item._nodeid``; pytest 9.2 keeps the id in ``item._id``, so that write is
    lost and every group is silently split (pytest-dev/pytest-xdist#1386, fix in #1388)."""
    if not item.nodeid.endswith(f"@{group}") and hasattr(item, "_id"):
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(f"{item.nodeid}@{group}")


def _worker_groups(items) -> list[str | None]:
    """One group per set of tests linked by shared fixtures (union-find on the fixtures),
    or by a directory that runs on one worker."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    keys_of = [_shared_keys(item) for item in items]
    for keys in keys_of:
        for other in keys[1:]:
            parent[root(other)] = root(keys[0])
    return [root(keys[0]) if keys else None for keys in keys_of]


def _shared_keys(item) -> list[str]:
    path = item.nodeid.split("::", 1)[0]
    for directory, group in ONE_WORKER_DIRECTORIES.items():
        if path.startswith(directory + "/"):
            return [group]
    info = getattr(item, "_fixtureinfo", None)
    keys = []
    for name in sorted(item.fixturenames):
        definitions = info.name2fixturedefs.get(name) if info else None
        if definitions and definitions[-1].scope in SHARED_SCOPES:
            keys.append(f"{definitions[-1].baseid or 'tests'}::{name}")
    return keys


@pytest.fixture(scope="session")
def emulator() -> Iterator:
    from gemini_sft_kfp.emulator import Emulator

    # strict: every response body is checked against the aiplatform protos (500 if not)
    with (
        Emulator(tuning_seconds=TEST_TUNING_SECONDS, strict=True) as running,
        pytest.MonkeyPatch.context() as env,
    ):
        for key, value in running.env.items():  # restored when the emulator stops
            env.setenv(key, value)
        yield running


@pytest.fixture
def emu(emulator) -> Iterator:
    emulator.reset()
    yield emulator
    emulator.clear_faults()


@pytest.fixture
def tiny_model(tmp_path, monkeypatch):
    """A model-table entry with tiny caps, proving limits come from the table."""
    table = {
        "models": [
            {
                "id": "tiny-model",
                "family": "tiny",
                "max_example_tokens": 50,
                "adapter_sizes": [1],
                "max_validation_examples": 3,
                "max_training_examples_text": 20,
                "max_training_examples_multimodal": 5,
                "max_file_bytes": 4000,
                "tokenizer": "gemma3",
                "thinking": False,
                "supported": True,
            }
        ]
    }
    path = tmp_path / "table.json"
    path.write_bytes(orjson.dumps(table))
    monkeypatch.setenv("GEMINI_SFT_MODEL_TABLE", str(path))
    models.model_table.cache_clear()
    yield "tiny-model"
    models.model_table.cache_clear()


@pytest.fixture
def no_retry_sleep(monkeypatch):
    """Keep the shared retry policy, minus its real sleeps."""
    real = retry.retrying

    def fast(**kwargs):
        policy = real(**kwargs)
        policy.sleep = lambda seconds: None
        return policy

    monkeypatch.setattr(retry, "retrying", fast)  # cloud_job calls it through the module
    monkeypatch.setattr("gemini_sft_kfp.core.storage.retrying", fast)
    monkeypatch.setattr("gemini_sft_kfp.jobs.runner.CREATE_BACKOFF_SECONDS", (0.01, 0.05))
    monkeypatch.setattr("gemini_sft_kfp.jobs.runner.QUOTA_BACKOFF_SECONDS", (0.01, 0.05))


@pytest.fixture(scope="session")
def cli_app():
    """The ``gemini-sft`` typer app with every command group registered (once)."""
    from gemini_sft_kfp.cli import _register_all, app

    _register_all()
    return app


@pytest.fixture
def run_cli(cli_app):
    """``run_cli(*args) -> (exit_code, parsed --json output or None, text)``."""

    return lambda *args: invoke_cli(cli_app, *args)


@pytest.fixture
def local_run(run_cli, tmp_path):
    """``gemini-sft run --json`` into tmp_path on the session emulator (env already set)."""

    def invoke(*args: str):
        return run_cli("run", "--output-dir", str(tmp_path / "runs"), "--json", *args)

    return invoke
