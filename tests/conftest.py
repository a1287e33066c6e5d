"""Shared fixtures: one emulator for the whole session, reset before each test that uses it.

``emulator`` (session): the running Vertex AI + Cloud Storage emulator; its ``env`` is
set in ``os.environ`` for the session so every client the project builds talks to it.
``emu`` (function): the same handle after ``reset()``: no jobs, models, buckets or faults.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

TEST_TUNING_SECONDS = 1.0


@pytest.fixture(scope="session")
def emulator() -> Iterator:
    from gemini_sft_kfp.emulator import Emulator

    # strict: every response body is checked against the aiplatform protos (500 if not)
    with Emulator(tuning_seconds=TEST_TUNING_SECONDS, strict=True) as running:
        saved = {key: os.environ.get(key) for key in running.env}
        os.environ.update(running.env)
        try:
            yield running
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def emu(emulator) -> Iterator:
    emulator.reset()
    yield emulator
    emulator.clear_faults()
