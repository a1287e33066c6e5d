"""Unit tests of retry decisions should not sleep for real between attempts."""

from __future__ import annotations

import pytest

from gemini_sft_kfp.core import retry


@pytest.fixture
def no_retry_sleep(monkeypatch):
    """Keep the shared retry policy, minus its real sleeps."""
    real = retry.retrying

    def fast(**kwargs):
        policy = real(**kwargs)
        policy.sleep = lambda seconds: None
        return policy

    monkeypatch.setattr(retry, "retrying", fast)
    monkeypatch.setattr("gemini_sft_kfp.components.wait_for_tuning_job.poller.retrying", fast)
    monkeypatch.setattr("gemini_sft_kfp.components.upload_dataset.sources.retrying", fast)
    monkeypatch.setattr(
        "gemini_sft_kfp.components.launch_tuning_job.launcher.CREATE_BACKOFF_SECONDS", (0.01, 0.05)
    )
