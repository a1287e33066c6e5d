"""``gemini-sft emulator --detach`` waits for start-up by reading only what the emulator's
log gained since the last look, and names the log's last line when start-up fails."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from gemini_sft_kfp.cli import emulator_detach
from gemini_sft_kfp.core.errors import UserError

LOG_CHUNKS, CHUNK_BYTES = 12, 170_000  # ~2 MB of start-up log over ~0.6 s
CHATTY_EMULATOR = f"""
import sys, time
line = b"x" * 99 + b"\\n"
for _ in range({LOG_CHUNKS}):
    sys.stderr.buffer.write(line * ({CHUNK_BYTES} // len(line)))
    sys.stderr.flush()
    time.sleep(0.05)
print("VERTEX_AI_EMULATOR_HOST=http://127.0.0.1:1", flush=True)
sys.stderr.write("{emulator_detach.READY}\\n")
sys.stderr.flush()
time.sleep(60)
"""
FAILING_EMULATOR = "import sys; sys.stderr.write('booting\\nport 1 in use\\n'); sys.exit(1)"


@pytest.fixture
def fake_emulator(monkeypatch):
    """``start_detached`` runs ``script`` instead of the emulator; killed afterwards."""
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def use(script: str) -> None:
        def popen(args, **kwargs):
            process = real_popen([sys.executable, "-c", script], **kwargs)
            started.append(process)
            return process

        monkeypatch.setattr(emulator_detach.subprocess, "Popen", popen)

    yield use
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its own session (start_new_session)
            process.wait()


def _bytes_read() -> int:
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("rchar:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs /proc/self/io")
def test_waiting_reads_each_byte_of_the_log_once(fake_emulator, tmp_path, capsys):
    fake_emulator(CHATTY_EMULATOR)
    before = _bytes_read()
    emulator_detach.start_detached([], tmp_path)
    read = _bytes_read() - before
    log_size = (tmp_path / "emulator.log").stat().st_size
    assert log_size > LOG_CHUNKS * CHUNK_BYTES * 0.9
    assert read < 1.5 * log_size  # was the whole log at every 0.1 s poll: ~3x and growing
    assert "export VERTEX_AI_EMULATOR_HOST=http://127.0.0.1:1" in capsys.readouterr().out


def test_a_failed_start_names_the_logs_last_line(fake_emulator, tmp_path):
    fake_emulator(FAILING_EMULATOR)
    with pytest.raises(UserError, match=r"did not start \(port 1 in use\); log: "):
        emulator_detach.start_detached([], tmp_path)


def test_the_ready_marker_is_found_across_two_reads(tmp_path):
    log_file = tmp_path / "emulator.log"
    log_file.write_bytes(b"starting\n" + emulator_detach.READY[:5].encode())
    with emulator_detach.LogTail(log_file) as log:
        assert not log.shows(emulator_detach.READY)
        with log_file.open("ab") as log_writer:
            log_writer.write(emulator_detach.READY[5:].encode() + b"\n")
        assert log.shows(emulator_detach.READY)


def test_an_emulator_that_failed_on_a_full_disk_is_said_to_have_had_no_room(
    fake_emulator, tmp_path, monkeypatch
):
    import gemini_sft_kfp.core.outputs as outputs

    fake_emulator("import sys; sys.exit(1)")  # its log could not be written: empty
    monkeypatch.setattr(outputs, "free_bytes", lambda path: 0)
    with pytest.raises(UserError, match=f"the disk of {tmp_path} is full"):
        emulator_detach.start_detached([], tmp_path)
