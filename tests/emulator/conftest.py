"""Emulator tests: jobs finish in 0.2 s here (the session default is about 1 s)."""

from __future__ import annotations

import time

import pytest

from tests.support.emu_helpers import PARENT, call, example_lines, tuning_body, upload

FAST_TUNING_SECONDS = 0.2


@pytest.fixture
def emu(emu):
    """The shared ``emu`` handle with short tuning jobs here (restored afterwards)."""
    saved = emu.service.tuning_seconds
    emu.service.tuning_seconds = FAST_TUNING_SECONDS
    yield emu
    emu.service.tuning_seconds = saved


@pytest.fixture
def fast(emu):
    return emu


@pytest.fixture
def tuned_job(fast) -> dict:
    """A SUCCEEDED tuning job (REST JSON) on a small synthetic dataset, 2 epochs."""
    uri = upload(example_lines(16), "gs://b/t.jsonl")
    status, created, _ = call(fast, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))
    assert status == 200, created
    time.sleep(FAST_TUNING_SECONDS + 0.02)
    job = call(fast, "GET", created["name"])[1]
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    return job
