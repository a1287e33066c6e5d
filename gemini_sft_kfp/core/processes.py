"""Is a process still there, is this the main thread: one answer each for every caller.

A run and its tasks watch each other (a task whose run died stops; a rerun ends the tasks
a dead run left), and signal handlers can be installed only from the main thread.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_PROC = Path("/proc")


def process_alive(pid: int) -> bool:
    """Whether ``pid`` still runs. A zombie (exited, not yet reaped by its parent) does
    not: it will never act again. Without ``/proc`` (not Linux) the kernel is asked."""
    if not _PROC.is_dir():
        return _signal_reaches(pid)
    try:
        status = (_PROC / str(pid) / "status").read_text()
    except OSError:  # gone (or hidden from us)
        return False
    return "State:\tZ" not in status


def _signal_reaches(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: there all the same
        return True
    return True


def in_main_thread() -> bool:
    """Signals reach only the main thread, and only it may install their handlers."""
    return threading.current_thread() is threading.main_thread()
