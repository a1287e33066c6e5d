"""One answer to "is that process still there" for the run, its tasks and the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from gemini_sft_kfp.core import processes
from gemini_sft_kfp.core.processes import in_main_thread, process_alive


def test_a_running_process_is_alive_a_zombie_and_a_reaped_one_are_not():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_alive(child.pid)
    finally:
        child.kill()
    deadline = time.monotonic() + 5
    while process_alive(child.pid) and time.monotonic() < deadline:  # exited, not reaped
        time.sleep(0.01)
    assert not process_alive(child.pid) and child.poll() is not None
    assert not process_alive(child.pid)  # reaped: gone


def test_without_proc_the_kernel_is_asked(monkeypatch, tmp_path):
    monkeypatch.setattr(processes, "_PROC", tmp_path / "no-proc")
    assert process_alive(os.getpid())
    assert process_alive(1)  # init: there (a PermissionError unless we are root)
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    assert not process_alive(child.pid)


def test_only_the_main_thread_is_the_main_thread():
    seen = []
    worker = threading.Thread(target=lambda: seen.append(in_main_thread()))
    worker.start()
    worker.join()
    assert in_main_thread() and seen == [False]
