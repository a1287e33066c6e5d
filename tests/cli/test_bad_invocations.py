"""Bad invocations of every command: a one-line ``error: ...`` and exit 1 (2 for usage
errors), never a traceback (issue 14, section 4).

Each row runs the real entry point (``gemini_sft_kfp.cli.main``) in-process against the
session emulator; an exception escaping ``main`` is exactly what would print a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from gemini_sft_kfp.cli import main
from tests.support import REPO

TRAIN = str(REPO / "examples" / "data" / "train.jsonl")
EVAL = str(REPO / "examples" / "data" / "eval.jsonl")
ROOT = "gs://bkt/root"
CLOUD = ("--project", "my-project", "--pipeline-root", ROOT, "--bucket", "bkt")
SUBMIT = ("submit", *CLOUD, "--train", "gs://bkt/t.jsonl", "--eval", "gs://bkt/e.jsonl")
SCHEDULE = (
    "schedule",
    *CLOUD,
    "--pipeline",
    "sft",
    "--train",
    "gs://bkt/t.jsonl",
    "--eval",
    "gs://bkt/e.jsonl",
)
ENDPOINT = "projects/local-project/locations/us-central1/endpoints/1"

# (id, argv with {tmp} / {file} / {dir} / {binary} placeholders, exit code, text in stderr)
CASES = [
    # the command line itself
    ("unknown-command", ["nosuch"], 2, ""),
    ("unknown-option", ["validate", "--bogus", TRAIN], 2, ""),
    # validate
    ("validate-missing-file", ["validate", "{tmp}/missing.jsonl"], 1, "missing.jsonl"),
    ("validate-directory", ["validate", "{dir}"], 1, ""),
    ("validate-negative-epochs", ["validate", TRAIN, "--epochs", "-1"], 2, ""),
    ("validate-unknown-model", ["validate", TRAIN, "--model", "nosuch-model"], 2, ""),
    ("validate-bad-tokens", ["validate", TRAIN, "--tokens", "bogus"], 2, ""),
    # convert
    ("convert-missing-source", ["convert", "{tmp}/missing.jsonl", "{tmp}/o.jsonl"], 1, ""),
    ("convert-source-is-dir", ["convert", "{dir}", "{tmp}/o.jsonl"], 1, "directory"),
    ("convert-binary-source", ["convert", "{binary}", "{tmp}/o.jsonl"], 1, ""),
    ("convert-output-is-dir", ["convert", TRAIN, "{dir}"], 1, "directory"),
    ("convert-output-folder-missing", ["convert", TRAIN, "{tmp}/no/o.jsonl"], 1, "exist"),
    (
        "convert-validation-out-dir",
        ["convert", TRAIN, "{tmp}/o.jsonl", "--validation-out", "{dir}"],
        1,
        "directory",
    ),
    ("convert-bad-format", ["convert", TRAIN, "{tmp}/o.jsonl", "--from", "bogus"], 2, ""),
    # compile
    ("compile-out-is-file", ["compile", "--out", "{file}"], 1, ""),
    ("compile-out-in-proc", ["compile", "--out", "/proc/x"], 1, ""),
    ("compile-docs-is-dir", ["compile", "--out", "{tmp}/c", "--docs", "{dir}"], 1, "directory"),
    # evaluate
    ("evaluate-no-endpoint", ["evaluate", "--data", EVAL], 2, ""),
    ("evaluate-missing-data", ["evaluate", "--endpoint", "1", "--data", "{tmp}/no.jsonl"], 1, ""),
    (
        "evaluate-output-dir-is-file",
        ["evaluate", "--endpoint", "1", "--data", EVAL, "--output-dir", "{file}"],
        1,
        "not a directory",
    ),
    (
        "evaluate-threshold-nan",
        ["evaluate", "--endpoint", "1", "--data", EVAL, "--threshold", "nan", "--fail-on-gate"],
        1,
        "threshold",
    ),
    (
        "evaluate-threshold-2",
        ["evaluate", "--endpoint", "1", "--data", EVAL, "--threshold", "2"],
        1,
        "threshold",
    ),
    ("evaluate-metric", ["evaluate", "--endpoint", "1", "--data", EVAL, "--metric", "foo"], 1, ""),
    ("evaluate-gate", ["evaluate", "--endpoint", "1", "--data", EVAL, "--gate", "foo"], 1, ""),
    (
        "evaluate-concurrency",
        ["evaluate", "--endpoint", "1", "--data", EVAL, "--concurrency", "-3"],
        1,
        "",
    ),
    (
        "evaluate-bad-project",
        ["evaluate", "--endpoint", ENDPOINT, "--data", EVAL, "--project", "a b/../c"],
        1,
        "project",
    ),
    # models
    *[
        (
            f"models-{command}-bad-project",
            ["models", command, *extra, "--project", "a b/../c"],
            1,
            "project",
        )
        for command, extra in (("list", []), ("promote", ["123"]), ("delete", ["123"]))
    ],
    *[
        (
            f"models-{command}-bad-location",
            ["models", command, *extra, "--location", "../../"],
            1,
            "location",
        )
        for command, extra in (("list", []), ("promote", ["123"]), ("delete", ["123"]))
    ],
    ("models-delete-nosuch", ["models", "delete", "nosuch"], 1, "no model"),
    ("models-delete-traversal", ["models", "delete", "../123"], 1, "no model"),
    ("models-list-bad-alias", ["models", "list", "--alias", "Bad Alias"], 1, "alias"),
    ("models-promote-gone", ["models", "promote", "987654321"], 1, ""),
    # run
    ("run-output-dir-is-file", ["run", "--output-dir", "{file}", "--train", TRAIN], 1, ""),
    ("run-missing-train", ["run", "--output-dir", "{tmp}/r", "--train", "{tmp}/no.jsonl"], 1, ""),
    ("run-unknown-pipeline", ["run", "--output-dir", "{tmp}/r", "--pipeline", "nightly"], 1, ""),
    # submit
    ("submit-no-project", ["submit", "--pipeline-root", ROOT], 2, ""),
    ("submit-template-missing", [*SUBMIT, "--template", "{tmp}/none.yaml"], 1, "none.yaml"),
    ("submit-template-binary", [*SUBMIT, "--template", "{binary}"], 1, ""),
    ("submit-template-dir", [*SUBMIT, "--template", "{dir}"], 1, ""),
    ("submit-root-not-gs", ["submit", "--project", "my-project", "--pipeline-root", "/tmp"], 1, ""),
    # schedule: every invalid cron, and times
    *[
        (f"schedule-cron-{i}", [*SCHEDULE, "--cron", cron], 1, "cron")
        for i, cron in enumerate(
            ["61 25 * * *", "every day", "", "TZ=Nowhere/Bad 0 3 * * *", "0 0 3 * * *", "* * *"]
        )
    ],
    (
        "schedule-start-yesterday",
        [*SCHEDULE, "--cron", "0 3 * * *", "--start-time", "yesterday"],
        1,
        "start",
    ),
    ("schedule-end-garbage", [*SCHEDULE, "--cron", "0 3 * * *", "--end-time", "soon"], 1, "end"),
    # emulator
    ("emulator-port-negative", ["emulator", "--port", "-1"], 2, ""),
    ("emulator-port-too-big", ["emulator", "--port", "70000"], 2, ""),
    ("emulator-gcs-port-too-big", ["emulator", "--port", "0", "--gcs-port", "70000"], 2, ""),
    ("emulator-negative-tuning", ["emulator", "--tuning-seconds", "-1"], 2, ""),
]


@pytest.fixture
def places(tmp_path) -> dict[str, str]:
    folder = tmp_path / "adir"
    folder.mkdir()
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 8)
    return {
        "tmp": str(tmp_path),
        "dir": str(folder),
        "file": str(tmp_path / "a-file"),
        "binary": str(tmp_path / "binary.bin"),
    }


def invoke(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the CLI entry point; (exit code, stdout, stderr). A traceback fails the test."""
    saved = sys.argv
    sys.argv = ["gemini-sft", *argv]
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        pytest.fail(f"traceback for {argv}:\n{traceback.format_exc()}")
    finally:
        sys.argv = saved
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "code", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_invocation_is_one_line_and_the_right_exit_code(
    argv, code, text, places, capsys, emu, monkeypatch
):
    monkeypatch.chdir(places["tmp"])  # nothing a case writes lands in the repository
    args = [a.format(**places) for a in argv]
    exit_code, out, err = invoke(args, capsys)
    assert "Traceback" not in out + err
    if code is None:  # usage error or one-line error, both fine
        assert exit_code in (1, 2), (exit_code, err)
    else:
        assert exit_code == code, (args, exit_code, out, err)
    if exit_code == 1 and args[0] == "validate":  # its report names the problem on stdout
        assert "error" in out and text in out, out
    elif exit_code == 1:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert lines and lines[-1].startswith("error:"), err
        assert text.lower() in lines[-1].lower(), lines[-1]


def test_models_without_credentials_is_one_line(tmp_path):
    """A fresh process: no emulator variables, no credentials anywhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VERTEX_AI_EMULATOR_HOST", "STORAGE_EMULATOR_HOST")
    }
    env.update(
        GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "none.json"),
        NO_GCE_CHECK="True",
        HOME=str(tmp_path),
        CLOUDSDK_CONFIG=str(tmp_path / "gcloud"),
    )
    for argv in (
        ["models", "list", "--project", "my-project", "--location", "us-central1"],
        ["models", "delete", "123", "--project", "my-project", "--location", "us-central1"],
    ):
        result = subprocess.run(
            [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().startswith("error:") and "credentials" in result.stderr


def test_no_case_writes_into_the_repository():
    assert not Path(REPO / "x").exists()


def test_an_unreachable_service_is_one_line_saying_what_was_tried(capsys, monkeypatch):
    """A dead endpoint (a stopped emulator): reported in seconds, no traceback."""
    import socket

    from gemini_sft_kfp.core import retry

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(retry, "UNREACHABLE_SECONDS", 0.5)
    monkeypatch.setenv("VERTEX_AI_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    argv = ["models", "list", "--project", "p", "--location", "us-central1"]
    exit_code, _, err = invoke(argv, capsys)
    last = err.strip().splitlines()[-1]
    assert exit_code == 1 and last.startswith("error:"), err
    assert "Connection refused" in last and "tried" in last
