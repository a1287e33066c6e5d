"""A full disk during ``gemini-sft run`` (issue 22): one line, the summary, and the tuned
model in a stated place; and a disk too small for the run is refused before anything.

The run's output directory is a tmpfs of its own (mounting needs root: skipped where
it is not allowed). The emulator's state is elsewhere, as Google Cloud's would be. The
disk is filled the moment the tuned model is first called (checkpoint selection), after
tuning has succeeded: the most expensive point to lose the run at.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import subprocess
from pathlib import Path

import orjson
import pytest
from gemini_sft_kfp.components.finalize_run.executor import KEPT_AFTER_FAILURE, OUTCOME_LABEL
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
from gemini_sft_kfp.pipelines.local.cleanup import account_for_run
from gemini_sft_kfp.pipelines.local.kfp_runner import _ProgressStream, task_log_tail

from gemini_sft_kfp.core.registry import Registry, find_version
from tests.support.cli import main_cli, one_line_error
from tests.support.model_helpers import tune_for_run
from tests.support.pipeline_helpers import model_version, needs_components


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> None:
    """Write zeros until the disk is full."""
    with open(directory / "filler", "wb") as f:
        chunk = b"\0" * 2**20
        with contextlib.suppress(OSError):
            while True:
                f.write(chunk)
                f.flush()


def fill_when_the_tuned_model_is_called(emu, directory: Path):
    faults = emu.service.faults
    decide = faults.decide
    filled = []

    def watching(method: str):
        if method.endswith("generateContent") and not filled:
            filled.append(True)
            fill(directory)
        return decide(method)

    faults.decide = watching
    return lambda: setattr(faults, "decide", decide)


@needs_components
@pytest.mark.e2e
@pytest.mark.parametrize(
    "keep_on_fail",
    # delete-on-fail is also run end to end by test_e2e_failed_after_tuning
    [pytest.param(False, marks=pytest.mark.slow), True],
    ids=["delete-on-fail", "keep-on-fail"],
)
def test_a_disk_filling_up_after_tuning_ends_in_one_line_a_summary_and_a_settled_model(
    emu, local_run, tmp_path, keep_on_fail, caplog
):
    with tmpfs(tmp_path / "runs", "48m") as runs:
        restore = fill_when_the_tuned_model_is_called(emu, runs)
        try:
            code, summary, out = local_run("--keep-on-fail" if keep_on_fail else "--delete-on-fail")
        finally:
            restore()
        assert code == 1, out
        assert summary is not None, out  # the summary, whole, on stdout
        assert summary["succeeded"] is False and summary["verdict"] == "failed"
        assert summary["tasks"]["wait-for-tuning-job"] == "SUCCESS"
        assert summary["error"][0].startswith(f"the disk of {runs} is full"), summary["error"]
        assert "No space left on device" in " ".join(summary["error"])
        assert "Logging error" not in out + caplog.text

    model = summary["tuned_model"]
    assert model
    version = model_version(model)
    if keep_on_fail:
        assert version is not None and version.labels[OUTCOME_LABEL] == KEPT_AFTER_FAILURE
        assert any(f"tuned model {model} kept" in note for note in summary["cleanup"])
    else:
        assert version is None
        assert any(f"tuned model {model}" in note for note in summary["cleanup"])
    jobs = list(orjson.loads(emu.dump_state())["tuningJobs"].values())
    assert [j["state"] for j in jobs] == ["JOB_STATE_SUCCEEDED"]  # one job, none left running


def test_a_disk_too_small_for_the_run_is_refused_before_anything_is_created(emu, tmp_path, capsys):
    with tmpfs(tmp_path / "runs", "1m") as runs:
        code, _, err = main_cli(capsys, "run", "--output-dir", str(runs))
    one_line_error(code, err, str(runs), "free on this disk", "output_dir")
    assert orjson.loads(emu.dump_state())["tuningJobs"] == {}


@pytest.mark.parametrize("keep_on_fail", [False, True])
def test_a_run_whose_exit_handler_left_no_report_still_settles_its_tuned_model(emu, keep_on_fail):
    model = tune_for_run("run-disk-full")
    notes = account_for_run(DEFAULT_PROJECT, DEFAULT_LOCATION, "run-disk-full", keep_on_fail)
    version = find_version(Registry(DEFAULT_PROJECT, DEFAULT_LOCATION), model)
    if keep_on_fail:
        assert version is not None and version.labels[OUTCOME_LABEL] == KEPT_AFTER_FAILURE
        assert notes == [
            f"tuned model {model} kept (keep_on_fail), labelled "
            f"{OUTCOME_LABEL}={KEPT_AFTER_FAILURE}: the run failed after tuning"
        ]
    else:
        assert version is None
        assert notes == [
            f"tuned model {model} deleted: the run failed after tuning (keep_on_fail=false)"
        ]
        again = account_for_run(DEFAULT_PROJECT, DEFAULT_LOCATION, "run-disk-full", False)
        assert again == [f"tuned model {model} is deleted"]  # said, whoever deleted it


class _FullDisk(io.StringIO):
    """A log file on a disk that fills after ``room`` characters (buffered, as a real
    file is: what a failed flush held is lost)."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room
        self.buffered = ""

    def write(self, text: str) -> int:
        self.buffered += text
        if len(self.buffered) > 64:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if len(self.getvalue()) + len(self.buffered) > self.room:
            self.buffered = ""
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write(self.buffered)
        self.buffered = ""


def test_a_log_file_that_fills_up_neither_fails_the_run_nor_floods_it_and_keeps_the_error(
    capsys,
):
    events = []
    stream = _ProgressStream(_FullDisk(room=200), events.append)
    handler = logging.StreamHandler(stream)  # as kfp's own log records reach the stream
    logger = logging.getLogger("test.full_disk")
    logger.addHandler(handler)
    try:
        stream.write("12:00:00.000 - INFO - Executing task 'evaluate-model'\n")
        stream.write("x" * 300 + "\n")
        logger.error("writing the predictions")  # the handler flushes: the disk is full
        stream.write('File "executor.py", line 3, in run\n')
        stream.write("OSError: [Errno 28] No space left on device\n")
        stream.write("12:00:01.000 - ERROR - Task 'evaluate-model' finished with status FAILURE\n")
        stream.close_log()
    finally:
        logger.removeHandler(handler)
    assert "Logging error" not in capsys.readouterr().err
    assert stream.log_error is not None and stream.log_error.errno == errno.ENOSPC
    assert [(e.task, e.status) for e in events][-1] == ("evaluate-model", "FAILURE")
    tail = task_log_tail(Path("/nonexistent"), "evaluate-model", log_text="\n".join(stream.tail))
    assert tail[0] == "OSError: [Errno 28] No space left on device"
