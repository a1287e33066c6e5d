"""Every task handles SIGTERM (Python as PID 1 would ignore it) and loads the installed
component; the compiled command makes Python PID 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from gemini_sft_kfp.jobs import stop as stopping
from gemini_sft_kfp.runtime import image, task


def test_load_returns_the_component_and_installs_the_sigterm_handler(monkeypatch):
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        component = task.load("validate_dataset", compiled_with="0.0.0-other")
        assert getattr(component, "python_func", component).__name__ == "validate_dataset"
        with pytest.raises(stopping.Terminated) as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert stop.value.code == 143
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_deferred_sigterm_lets_the_call_finish_then_raises():
    previous = signal.getsignal(signal.SIGTERM)
    stopping.exit_on_sigterm()
    finished = []
    try:
        with pytest.raises(stopping.Terminated) as stop, stopping.sigterm_deferred(5.0):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
            finished.append(True)
        assert finished and not stop.value.cut_short
        with pytest.raises(stopping.Terminated) as stop, stopping.sigterm_deferred(0.2):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        assert stop.value.cut_short
        assert signal.getsignal(signal.SIGTERM) is stopping._raise_terminated  # restored
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_task_command_execs_python_so_it_receives_sigterm(tmp_path):
    """The compiled shell line, run as is: the shell's PID becomes Python's."""
    probe = textwrap.dedent(
        """
        import os, signal, sys, time
        from gemini_sft_kfp.jobs.stop import exit_on_sigterm
        exit_on_sigterm()
        try:
            print(os.getpid(), flush=True)
            time.sleep(30)
        finally:
            print("cleaned up", flush=True)
        """
    )
    shell = image.TASK_SHELL.replace("python3", sys.executable).replace(
        "-m kfp.dsl.executor_main --component_module_path", ""
    )
    proc = subprocess.Popen(
        ["sh", "-ec", shell, probe], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert int(proc.stdout.readline()) == proc.pid  # exec: no shell in between
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert "cleaned up" in out
    assert proc.returncode == 143


def test_compiled_components_run_the_installed_code_not_pasted_source():
    from gemini_sft_kfp.components import COMPONENT_NAMES, load

    for name in COMPONENT_NAMES:
        container = load(name).component_spec.implementation.container
        assert container.command == image.task_command(name)
        assert "exec python3 -m kfp.dsl.executor_main" in container.command[2]
        assert f"{name} = load({name!r}" in container.command[3]
        assert "def " not in container.command[3]
