"""Hostile use through the real entry points (issue 22): each case counts what must not be
lost (models left, files changed, jobs created) and the one line a user mistake gets.

Cases are grouped by class: registry, files, checked too late, failed evaluation, user
mistakes. Each failed on the code before the fix that closes its class.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest
from gemini_sft_kfp.components.register_model.executor import run as register_model
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.labels import MAX_USER_LABELS, PIPELINE_LABELS
from gemini_sft_kfp.core.lineage import DEFAULT_LINEAGE, alias_holders, lineage_of
from gemini_sft_kfp.core.registry import Registry, ref_of
from tests.support import REPO
from tests.support.cli import main_cli as cli
from tests.support.cli import one_line_error
from tests.support.model_helpers import tune, tuned_versions, upload_training_data

# ---- registry ------------------------------------------------------------------------


@pytest.fixture
def registry(emu) -> Registry:
    return Registry(DEFAULT_PROJECT, DEFAULT_LOCATION)


def test_delete_protect_adds_to_champion_never_replaces_it(emu, registry, capsys) -> None:
    (v1,) = tuned_versions(1)
    register_model(registry, v1)
    code, _, err = cli(capsys, "models", "delete", v1, "--protect", "staging")
    one_line_error(code, err, "champion")
    assert registry.get(registry.resolve(v1)) is not None  # the champion is still there


def promote_at_once(registry: Registry, names: list[str], lineage: str) -> list[BaseException]:
    """Promote every name in its own thread, released together; the unexpected errors."""
    barrier = threading.Barrier(len(names))
    errors: list[BaseException] = []

    def promote(name: str) -> None:
        barrier.wait()
        try:
            register_model(registry, name, lineage=lineage)
        except UserError as exc:  # lost to a concurrent promote: said, not silent
            if "same time" not in str(exc):
                errors.append(exc)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.timeout(240)
def test_concurrent_promotes_of_one_lineage_leave_exactly_one_champion(emu, registry) -> None:
    """Three versions of one lineage across two models (two versions share a model, so
    both Vertex's in-model move and the cross-model removal race) promoted at once,
    many rounds: every round ends with exactly one champion, and it is one of them."""
    uri = upload_training_data()
    a1, a2 = tuned_versions(2, display_name="race")
    b1 = tune("gemini-2.5-flash", uri, "race")
    contenders = [a1, a2, b1]
    for name in contenders:
        register_model(registry, name, aliases=["staging"], lineage="race")
    for round_number in range(12):
        order = contenders[round_number % 3 :] + contenders[: round_number % 3]
        errors = promote_at_once(registry, order, lineage="race")
        assert not errors, errors
        holders = [v.resource_name for v in alias_holders(registry, "race", "champion")]
        assert len(holders) == 1, f"round {round_number}: champions {holders}"
        assert holders[0].rsplit("/", 1)[-1] in {c.rsplit("/", 1)[-1] for c in contenders}


@pytest.mark.timeout(240)
def test_concurrent_cli_promotes_in_separate_processes_leave_one_champion(emu, registry) -> None:
    """The same race between ``gemini-sft models promote`` processes (true parallelism,
    each with its own client): every round ends with exactly one champion."""
    uri = upload_training_data()
    contenders = [tune("gemini-2.5-flash", uri, "race-cli") for _ in range(3)]
    for name in contenders:
        register_model(registry, name, aliases=["staging"], lineage="race-cli")
    command = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()"]
    command += ["models", "promote"]
    for round_number in range(2):
        order = contenders[round_number:] + contenders[:round_number]
        procs = [
            subprocess.Popen([*command, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name in order
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0 or b"same time" in err, err.decode()
        holders = [v.resource_name for v in alias_holders(registry, "race-cli", "champion")]
        assert len(holders) == 1, f"round {round_number}: champions {holders}"


def test_settle_keeps_the_latest_stamp_and_gives_a_lost_alias_back() -> None:
    """The rule each concurrent promoter applies, on views it could read: the holder with
    the latest ``promoted_at`` stays; an alias two stale views both removed comes back."""
    from gemini_sft_kfp.core.registry import PROMOTED_LABEL, ModelVersion, _settle

    def version(model: str, stamp: int, *aliases: str) -> ModelVersion:
        labels = {PROMOTED_LABEL: str(stamp)}
        return ModelVersion(f"projects/1/locations/l/models/{model}", "1", aliases=[*aliases],
                            labels=labels)  # fmt: skip

    class Calls:
        def __init__(self) -> None:
            self.made: list[tuple[str, list[str]]] = []

        def merge_aliases(self, name: str, changes: list[str]) -> None:
            self.made.append((name.rsplit("/", 1)[-1], changes))

    old, newest, middle = (
        version("a", 5, "champion"),
        version("b", 9, "champion"),
        version("c", 7, "champion"),
    )
    calls = Calls()
    assert _settle(calls, [old, newest, middle], ["champion"], old)
    assert sorted(calls.made) == [("a@1", ["-champion"]), ("c@1", ["-champion"])]
    calls = Calls()
    assert _settle(calls, [version("a", 5), version("b", 9)], ["champion"], version("a", 5))
    assert calls.made == [("a@1", ["champion"])]
    calls = Calls()
    assert not _settle(calls, [newest], ["champion"], newest) and not calls.made


# ---- files: no write lands on an input or on a non-regular file -----------------------

OPENAI_LINE = (
    b'{"messages": [{"role": "user", "content": "hi"}, '
    b'{"role": "assistant", "content": "hello"}]}\n'
)


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "a.jsonl"
    path.write_bytes(OPENAI_LINE * 20)
    return path


def snapshot(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every node under ``folder``: its type bits and, for regular files, its bytes."""
    nodes = {}
    for path in sorted(folder.iterdir()):
        info = path.lstat()
        body = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        nodes[path.name] = (stat.S_IFMT(info.st_mode), body)
    return nodes


def _hardlink(tmp: Path, src: Path) -> str:
    os.link(src, tmp / "b.jsonl")
    return str(tmp / "b.jsonl")


def _symlink(tmp: Path, src: Path) -> str:
    (tmp / "b.jsonl").symlink_to(src)
    return str(tmp / "b.jsonl")


def _device(tmp: Path, src: Path) -> str:
    os.mknod(tmp / "dev", 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null, ours
    return str(tmp / "dev")


def _fifo(tmp: Path, src: Path) -> str:
    os.mkfifo(tmp / "fifo")
    return str(tmp / "fifo")


@pytest.mark.parametrize(
    ("case", "make_target", "as_validation"),
    [
        ("validation-out is the input", lambda tmp, src: str(src), True),
        ("output is the input", lambda tmp, src: str(src), False),
        ("output is a hard link to the input", _hardlink, False),
        ("validation-out is a symlink to the input", _symlink, True),
        ("output is a device node", _device, False),
        ("validation-out is a device node", _device, True),
        ("output is a FIFO", _fifo, False),
    ],
)
def test_convert_never_writes_on_its_input_or_a_special_file(
    tmp_path, source, capsys, case, make_target, as_validation
) -> None:
    if make_target is _device and os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    target = make_target(tmp_path, source)
    before = snapshot(tmp_path)
    if as_validation:
        args = ["convert", str(source), str(tmp_path / "out.jsonl"), "--validation-out", target]
    else:
        args = ["convert", str(source), target]
    code, _, err = cli(capsys, *args)
    one_line_error(code, err, Path(target).name)
    assert snapshot(tmp_path) == before, case  # no file changed, no node replaced


def test_convert_on_a_full_disk_is_one_line_and_leaves_nothing(
    tmp_path, source, capsys, monkeypatch
) -> None:
    from gemini_sft_kfp.components.validate_dataset import convert as convert_module

    real_open = open

    class FullDisk:
        def __init__(self, handle) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name: str):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

    def full_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return FullDisk(handle) if "w" in mode else handle

    monkeypatch.setattr(convert_module, "open", full_open, raising=False)
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "convert", str(source), str(tmp_path / "out.jsonl"))
    one_line_error(code, err, "No space left on device", "out.jsonl")
    assert snapshot(tmp_path) == before  # no partial output, no temporary left


# ---- checked too late: limits the pipeline itself adds --------------------------------

TRAIN = str(REPO / "examples" / "data" / "train.jsonl")
EVAL = str(REPO / "examples" / "data" / "eval.jsonl")


def tuning_jobs_created(emu) -> int:
    return sum(1 for r in emu.requests() if r["method"] == "tuningJobs.create")


def run_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["run", "--train", TRAIN, "--eval", EVAL, "--output-dir", str(tmp_path / "runs"), *extra]


@pytest.mark.parametrize("count", [55, 64])
def test_run_refuses_labels_the_model_could_not_carry_before_tuning(
    emu, tmp_path, capsys, count
) -> None:
    labels = [arg for n in range(count) for arg in ("--label", f"k{n}=v")]
    code, _, err = cli(capsys, *run_args(tmp_path, *labels))
    one_line_error(code, err, "labels", str(MAX_USER_LABELS))
    assert tuning_jobs_created(emu) == 0


def test_every_label_the_pipeline_adds_is_counted() -> None:
    """A label added in code but missing from PIPELINE_LABELS would make the count lie."""
    from gemini_sft_kfp.components.finalize_run.executor import OUTCOME_LABEL
    from gemini_sft_kfp.components.register_model.executor import Provenance

    from gemini_sft_kfp.core.lineage import LINEAGE_LABEL
    from gemini_sft_kfp.core.registry import PROMOTED_LABEL
    from gemini_sft_kfp.jobs.identity import IDEMPOTENCY_LABEL

    full = Provenance("m", "gs://b/t", "ab" * 32, "exact_match", 0.5, "run-1").labels()
    added = {IDEMPOTENCY_LABEL, LINEAGE_LABEL, PROMOTED_LABEL, OUTCOME_LABEL, *full}
    assert added <= set(PIPELINE_LABELS)


def test_run_refuses_an_eval_line_no_request_could_carry_before_tuning(
    emu, tmp_path, capsys
) -> None:
    from gemini_sft_kfp.evaluation.eval_data import MAX_LINE_BYTES

    huge = tmp_path / "eval.jsonl"
    with huge.open("wb") as f:
        f.write(Path(EVAL).read_bytes().splitlines(keepends=True)[0])
        text = "x" * (MAX_LINE_BYTES + 1)
        f.write(b'{"contents": [{"role": "user", "parts": [{"text": "' + text.encode())
        f.write(b'"}]}, {"role": "model", "parts": [{"text": "y"}]}]}\n')
    args = ["run", "--train", TRAIN, "--eval", str(huge), "--output-dir", str(tmp_path / "r")]
    code, _, err = cli(capsys, *args)
    one_line_error(code, err, "eval.jsonl:2", "cap per line")
    assert tuning_jobs_created(emu) == 0


# ---- a failure is not a verdict --------------------------------------------------------

ALL_GENERATE = "*.generateContent"


def test_evaluate_with_every_request_refused_fails(emu, capsys) -> None:
    from tests.support.eval_helpers import tuned_endpoint

    endpoint = tuned_endpoint(TRAIN)
    emu.add_fault(method=ALL_GENERATE, status=400, rate=1.0)
    code, out, err = cli(capsys, "evaluate", "--endpoint", endpoint, "--data", EVAL, "--quiet")
    one_line_error(code, err, "evaluation failed", "400")
    assert "passed" not in out


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_run_whose_evaluation_got_no_answers_fails_not_rejected(emu, tmp_path, capsys) -> None:
    emu.add_fault(method=ALL_GENERATE, status=400, rate=1.0)
    code, out, err = cli(capsys, *run_args(tmp_path, "--json", "--display-name", "客服机器人"))
    assert code != 0, out
    summary = orjson.loads(out)
    assert summary["verdict"] == "failed"
    assert summary["lineage"] not in ("", DEFAULT_LINEAGE)  # its own lineage, not the default
    assert "REJECTED" not in out + err and "below the gate" not in out + err
    assert "evaluation failed" in out + err
    assert "Traceback" not in out + err
    assert tuning_jobs_created(emu) == 1
    registry = Registry(DEFAULT_PROJECT, DEFAULT_LOCATION)
    left = [v for m in registry.list_models() for v in registry.list_versions(ref_of(m))]
    # the run's keep/delete policy applied: deleted, or kept with the failure on it
    assert all(v.labels.get("gemini_sft_outcome") for v in left), [v.labels for v in left]


# ---- user mistakes: one line naming file, line and field; never a traceback ------------

GOOD = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}'
MALFORMED_OPENAI = {
    "tool_calls-string": (
        b'{"messages": [{"role": "user", "content": "hi"}, '
        b'{"role": "assistant", "content": "x", "tool_calls": "abc"}]}',
        "messages[1].tool_calls",
    ),
    "role-list": (
        b'{"messages": [{"role": ["user"], "content": "hi"}, '
        b'{"role": "assistant", "content": "x"}]}',
        "messages[0].role",
    ),
    "id-list": (
        b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", '
        b'"tool_calls": [{"id": ["x"], "type": "function", '
        b'"function": {"name": "f", "arguments": "{}"}}]}]}',
        "messages[1].tool_calls[0].id",
    ),
    "input_audio-string": (
        b'{"messages": [{"role": "user", "content": [{"type": "input_audio", '
        b'"input_audio": "abc"}]}, {"role": "assistant", "content": "x"}]}',
        "messages[0].content[0].input_audio",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_OPENAI))
def test_convert_names_the_line_and_field_of_a_malformed_openai_line(
    tmp_path, capsys, case
) -> None:
    line, field = MALFORMED_OPENAI[case]
    source = tmp_path / "in.jsonl"
    source.write_bytes(GOOD + b"\n" + line + b"\n")
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "convert", str(source), str(tmp_path / "out.jsonl"))
    one_line_error(code, err, "in.jsonl:2", field)
    assert snapshot(tmp_path) == before


def test_run_names_the_line_of_a_malformed_openai_line(emu, tmp_path, capsys) -> None:
    """The validator's format detection met a list as role: a traceback in the task."""
    source = tmp_path / "train.jsonl"
    source.write_bytes(GOOD + b"\n" + MALFORMED_OPENAI["role-list"][0] + b"\n")
    code, out, _ = cli(capsys, "run", "--train", str(source), "--eval", EVAL,
                       "--output-dir", str(tmp_path / "r"), "--json")  # fmt: skip
    assert code != 0
    error = "\n".join(orjson.loads(out)["error"])
    assert "train.jsonl:2" in error and "Traceback" not in error, error
    assert tuning_jobs_created(emu) == 0


def _loop(tmp: Path) -> str:
    (tmp / "loop.jsonl").symlink_to(tmp / "loop.jsonl")
    return str(tmp / "loop.jsonl")


def _fifo_input(tmp: Path) -> str:
    os.mkfifo(tmp / "pipe.jsonl")
    return str(tmp / "pipe.jsonl")


@pytest.mark.parametrize(
    ("make", "words"), [(_loop, "symbolic link loop"), (_fifo_input, "FIFO")], ids=["loop", "fifo"]
)
@pytest.mark.parametrize("command", ["run-eval", "run-train", "evaluate", "convert"])
def test_a_symlink_loop_or_fifo_input_is_named_as_such(
    emu, tmp_path, capsys, make, words, command
) -> None:
    bad = make(tmp_path)
    argv = {
        "run-eval": run_args(tmp_path, "--eval", bad),
        "run-train": ["run", "--train", bad, "--eval", EVAL, "--output-dir", str(tmp_path / "r")],
        "evaluate": ["evaluate", "--endpoint", "1", "--data", bad, "--quiet"],
        "convert": ["convert", bad, str(tmp_path / "out.jsonl")],
    }[command]
    code, _, err = cli(capsys, *argv)
    one_line_error(code, err, Path(bad).name, words)
    assert tuning_jobs_created(emu) == 0


@pytest.mark.parametrize("value", ["nan", "-1", "inf"])
def test_run_refuses_a_bad_quota_timeout_up_front(emu, tmp_path, capsys, value) -> None:
    code, _, err = cli(capsys, *run_args(tmp_path, "--param", f"quota_timeout_seconds={value}"))
    one_line_error(code, err, "quota_timeout_seconds")
    assert tuning_jobs_created(emu) == 0


def test_emulator_state_dir_on_a_file_is_not_called_a_port_problem(tmp_path, capsys) -> None:
    state = tmp_path / "state"
    state.write_text("not a directory")
    code, _, err = cli(capsys, "emulator", "--state-dir", str(state), "--port", "0",
                       "--gcs-port", "0")  # fmt: skip
    one_line_error(code, err, "state", "not a directory")
    assert "port" not in err


def test_emulator_state_dir_on_a_read_only_file_system(tmp_path, capsys) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    if os.system(f"mount -t tmpfs -o ro,size=64k tmpfs {mount} 2>/dev/null") != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        code, _, err = cli(capsys, "emulator", "--state-dir", str(mount), "--port", "0",
                           "--gcs-port", "0")  # fmt: skip
    finally:
        os.system(f"umount {mount}")
    one_line_error(code, err, "ro")
    assert "port" not in err


@pytest.mark.parametrize(
    "name", ["客服机器人", "Café bot", "ボット"], ids=["chinese", "accent", "japanese"]
)
def test_a_non_ascii_display_name_gets_its_own_lineage(name) -> None:
    derived = lineage_of("", name)
    assert derived != DEFAULT_LINEAGE
    assert derived != lineage_of("", name.encode("ascii", "ignore").decode())  # no sharing
    assert derived == lineage_of("", name)  # deterministic: every run of the task lands here


@pytest.mark.timeout(60)  # before the fix: blocked for ever opening the FIFO
def test_compile_never_writes_into_a_fifo(tmp_path, capsys) -> None:
    """``compile --out DIR`` where a target name is a FIFO: refused, not blocked in open."""
    os.mkfifo(tmp_path / "sft_pipeline.yaml")
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "compile", "--out", str(tmp_path))
    one_line_error(code, err, "sft_pipeline.yaml", "not a regular file")
    assert snapshot(tmp_path) == before


def test_evaluate_gated_on_a_judge_that_rated_nothing_fails(emu, capsys) -> None:
    from tests.support.eval_helpers import tuned_endpoint

    endpoint = tuned_endpoint(TRAIN)
    emu.add_fault(method="locations.evaluateInstances", status=400, rate=1.0)
    code, out, err = cli(capsys, "evaluate", "--endpoint", endpoint, "--data", EVAL, "--quiet",
                         "--judge", "fluency", "--metric", "judge_fluency")  # fmt: skip
    one_line_error(code, err, "evaluation failed", "judge")
    assert "passed" not in out


def test_a_list_for_a_dict_parameter_is_blamed_on_that_parameter(emu, tmp_path, capsys) -> None:
    code, _, err = cli(capsys, *run_args(tmp_path, "--param", "evaluation_config=[1,2]"))
    one_line_error(code, err, "evaluation_config")
    assert "[label]" not in err


# ---- round three: every option checked, whatever the command ----------------------------

GS_TRAIN, GS_EVAL = "gs://bkt/t.jsonl", "gs://bkt/e.jsonl"
SUBMIT = ["submit", "--project", "my-project", "--pipeline-root", "gs://bkt/root",
          "--bucket", "bkt", "--train", GS_TRAIN, "--eval", GS_EVAL]  # fmt: skip


def pipeline_jobs_created(emu) -> int:
    return sum(1 for r in emu.requests() if r["method"] == "pipelineJobs.create")


def test_validate_an_empty_path_is_no_file_not_a_valid_dataset(capsys) -> None:
    """``validate "$UNSET_VAR"``: was "valid", exit 0, having read nothing."""
    code, out, err = cli(capsys, "validate", "")
    assert code == 1 and "Traceback" not in out + err
    assert "file_not_found" in out and "no file given" in out, out


@pytest.mark.parametrize(
    ("param", "field"),
    [
        ("eval_judge_metrics=[1,2]", "eval_judge_metrics"),
        ("eval_judge_metrics=[null]", "eval_judge_metrics"),
        ("model_aliases=[1]", "model_aliases"),
        ('model_aliases={"a":1}', "alias"),  # a name, not a list: refused as an alias
    ],
)
def test_a_list_parameter_of_non_strings_is_one_line(emu, tmp_path, capsys, param, field) -> None:
    """Every list parameter is a list of names: ``[1,2]`` was an AttributeError traceback."""
    code, _, err = cli(capsys, *run_args(tmp_path, "--param", param))
    one_line_error(code, err, field)
    assert tuning_jobs_created(emu) == 0


@pytest.mark.timeout(120)
def test_a_bad_champion_alias_is_refused_before_tuning(emu, tmp_path, capsys) -> None:
    """get_champion refused it after launch: a tuning job trained, then the model deleted."""
    code, _, err = cli(capsys, *run_args(tmp_path, "--param", "champion_alias=X Y"))
    one_line_error(code, err, "champion_alias", "X Y")
    assert tuning_jobs_created(emu) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--param", "bucket="],  # run: an IndexError traceback in the storage client
        ["submit"],  # submit: a pipeline job created with no bucket
    ],
    ids=["run", "submit"],
)
def test_an_empty_bucket_is_refused_up_front(emu, tmp_path, capsys, argv) -> None:
    if argv == ["submit"]:
        args = [*SUBMIT[: SUBMIT.index("--bucket") + 1], "", *SUBMIT[SUBMIT.index("bkt") + 1 :]]
    else:
        args = run_args(tmp_path, *argv)
    code, _, err = cli(capsys, *args)
    one_line_error(code, err, "bucket")
    assert tuning_jobs_created(emu) == 0 and pipeline_jobs_created(emu) == 0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--job-id", "BAD ID"),  # the SDK's ValueError traceback
        ("--run-name", "é" * 129),  # the SDK's ValueError traceback
        ("--service-account", "nobody"),  # a pipeline job created, refused by Vertex later
        ("--network", "my vpc"),
        ("--pipeline-root", "gs://"),  # a job created whose root names no bucket
    ],
)
def test_submit_checks_what_it_passes_besides_parameters(emu, capsys, option, value) -> None:
    args = [*SUBMIT]
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    code, _, err = cli(capsys, *args)
    one_line_error(code, err, option.removeprefix("--"))
    assert pipeline_jobs_created(emu) == 0


def test_schedule_checks_its_name_and_root(emu, capsys) -> None:
    base = ["schedule", "--cron", "0 3 * * *", *SUBMIT[1:]]
    code, _, err = cli(capsys, *base, "--schedule-name", "x" * 129)
    one_line_error(code, err, "schedule-name")
    root = base.index("--pipeline-root") + 1
    code, _, err = cli(capsys, *base[:root], "gs://", *base[root + 1 :])
    one_line_error(code, err, "pipeline-root")
    assert not [r for r in emu.requests() if r["method"].startswith("schedules.")]


@pytest.mark.parametrize(
    "body", [b"", b"\xef\xbb\xbf", b"\n\r\n  \n"], ids=["empty", "bom", "blank"]
)
def test_convert_of_a_file_without_examples_is_an_error_and_writes_nothing(
    tmp_path, capsys, body
) -> None:
    """Was "converted 0 examples", exit 0, an empty output over any earlier one."""
    source = tmp_path / "in.jsonl"
    source.write_bytes(body)
    (tmp_path / "out.jsonl").write_bytes(OPENAI_LINE)  # an earlier output: kept
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "convert", str(source), str(tmp_path / "out.jsonl"))
    one_line_error(code, err, "in.jsonl", "no examples")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("extra", "exit_code", "word"),
    [
        (["--model", "nosuch-model"], 2, "nosuch-model"),  # was ignored without a split
        (["--validation-split", "0.5"], 1, "validation-out"),  # was ignored: no split made
        (["--seed", "7"], 1, "validation-out"),
    ],
)
def test_convert_never_ignores_an_option_it_was_given(
    tmp_path, source, capsys, extra, exit_code, word
) -> None:
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "convert", str(source), str(tmp_path / "out.jsonl"), *extra)
    assert code == exit_code and "Traceback" not in err, err
    assert word in err
    assert snapshot(tmp_path) == before


def test_a_nul_byte_in_a_path_parameter_is_a_user_error() -> None:
    """A path with NUL (a pipeline parameter typed in the Vertex console) was a ValueError
    out of os.stat: a traceback in the first task instead of the parameter's name."""
    from gemini_sft_kfp.components.check_run_inputs.executor import check_data

    from gemini_sft_kfp.core.inputs import input_problem

    assert "NUL" in (input_problem("a\x00b.jsonl") or "")
    with pytest.raises(UserError) as caught:
        check_data({"training_data": TRAIN, "validation_data": "v\x00.jsonl", "eval_data": EVAL})
    assert caught.value.field == "validation_data"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "case", ["last-target-fifo", "bad-image", "docs-is-a-folder", "out-is-a-fifo"]
)
def test_compile_writes_every_file_or_none(tmp_path, capsys, case) -> None:
    """Each was refused only after the files before it were written (or, for the image,
    never: a spec no registry could pull was written and reported as done)."""
    out = tmp_path / "out"
    out.mkdir()
    args = ["compile", "--out", str(out)]
    if case == "last-target-fifo":
        os.mkfifo(out / "preference_pipeline.yaml")
        word = "preference_pipeline.yaml"
    elif case == "bad-image":
        args += ["--image", "my image"]
        word = "image"
    elif case == "docs-is-a-folder":
        (tmp_path / "docs").mkdir()
        args += ["--docs", str(tmp_path / "docs")]
        word = "docs"
    else:
        os.mkfifo(tmp_path / "pipe")
        args[2] = str(tmp_path / "pipe")
        word = "pipe"
    before = snapshot(out), snapshot(tmp_path)
    code, _, err = cli(capsys, *args)
    one_line_error(code, err, word)
    assert (snapshot(out), snapshot(tmp_path)) == before


@pytest.mark.parametrize("option", ["--metadata-port", "--proxy-port"])
@pytest.mark.parametrize("value", ["-1", "70000"])
def test_emulator_ports_out_of_range_are_usage_errors(capsys, option, value) -> None:
    """Were an OverflowError traceback from bind()."""
    code, out, err = cli(capsys, "emulator", "--port", "0", "--gcs-port", "0", option, value)
    assert code == 2 and "Traceback" not in out + err and "OverflowError" not in out + err


@pytest.mark.timeout(120)
def test_evaluate_against_a_refused_endpoint_stops_at_the_first_unreachable_answer(
    capsys, monkeypatch
) -> None:
    """Each example was retried for its own unreachable bound and logged, one after the
    other: minutes for 120 lines (hours for thousands) before "evaluation failed". No
    server is a setup error, as 401/403/404 are: said once, in the bound's seconds."""
    import socket
    import time

    from gemini_sft_kfp.core import retry

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("VERTEX_AI_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "local-project")
    monkeypatch.setattr(retry, "UNREACHABLE_SECONDS", 0.5)
    started = time.monotonic()
    code, out, err = cli(capsys, "evaluate", "--endpoint", "1", "--data", EVAL, "--quiet",
                         "--concurrency", "2", "--base-model", "gemini-2.5-flash")  # fmt: skip
    elapsed = time.monotonic() - started
    one_line_error(code, err, "cannot be called", "refused")
    assert "passed" not in out
    assert elapsed < 20, elapsed


@pytest.mark.timeout(60)
def test_an_eval_file_given_as_a_url_is_read_not_called_a_missing_file(
    emu, tmp_path, capsys, monkeypatch
) -> None:
    """validate and upload read http(s):// data; the eval reader (the run's up-front check
    and the evaluation step) took a URL for a local path: "no such file"."""
    import functools
    import http.server
    import socket

    from gemini_sft_kfp.core import retry
    from gemini_sft_kfp.evaluation.eval_data import read_examples

    (tmp_path / "eval.jsonl").write_bytes(Path(EVAL).read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/eval.jsonl"
        assert len(read_examples(url)) == len(read_examples(EVAL))
    finally:
        server.shutdown()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(retry, "UNREACHABLE_SECONDS", 0.5)
    code, _, err = cli(capsys, *run_args(tmp_path, "--eval", f"http://127.0.0.1:{port}/e.jsonl"))
    one_line_error(code, err, "e.jsonl", "refused")
    assert "no such file" not in err
    assert tuning_jobs_created(emu) == 0


@pytest.mark.parametrize("tokens", ["65537", "99999999999"])
def test_evaluate_refuses_max_output_tokens_no_request_could_carry(emu, capsys, tokens) -> None:
    """Was accepted, then every request was a 400 (int32 overflow or over the ceiling):
    a failed run reported after sending them all, instead of a check before any."""
    code, _, err = cli(capsys, "evaluate", "--endpoint", "1", "--data", EVAL, "--quiet",
                       "--max-output-tokens", tokens)  # fmt: skip
    one_line_error(code, err, "max_output_tokens", "65,536")
    assert not [r for r in emu.requests() if r["method"].endswith("generateContent")]


# ---- what a file name can hold: bytes that are not UTF-8, a line break -------------------


@pytest.fixture
def odd_names(tmp_path) -> dict[str, Path]:
    """A good training file under a non-UTF-8 name, a bad one under a name with a line
    break (as Python sees them: lone surrogates, a newline)."""
    not_utf8 = tmp_path / os.fsdecode(b"bad\xff.jsonl")
    not_utf8.write_bytes(Path(TRAIN).read_bytes())
    newline = tmp_path / "two\nlines.jsonl"
    newline.write_bytes(b"{not json\n")
    return {"not_utf8": not_utf8, "newline": newline}


def test_validate_json_of_a_non_utf8_file_name_is_printed(odd_names, capsys) -> None:
    """Was ``TypeError: str is not valid UTF-8`` after the whole file was validated."""
    code, out, err = cli(capsys, "validate", "--json", str(odd_names["not_utf8"]))
    assert code == 0 and "Traceback" not in err, err
    report = orjson.loads(out)
    assert report["valid"] and report["files"][0].endswith("bad\\udcff.jsonl")


@pytest.mark.parametrize("command", ["convert", "validate", "missing"])
def test_a_line_break_in_a_file_name_keeps_the_error_on_one_line(
    odd_names, tmp_path, capsys, command
) -> None:
    bad = str(odd_names["newline"])
    if command == "convert":
        code, out, err = cli(capsys, "convert", bad, str(tmp_path / "out.jsonl"))
        one_line_error(code, err, "two\\nlines.jsonl:1")
    elif command == "missing":
        code, out, err = cli(capsys, "convert", bad + ".nope", str(tmp_path / "out.jsonl"))
        one_line_error(code, err, "two\\nlines.jsonl.nope", "no such file")
    else:
        code, out, err = cli(capsys, "validate", bad)
        assert code == 1
        finding = [line for line in out.splitlines() if line.startswith("error ")]
        assert len(finding) == 1 and "two\\nlines.jsonl:1 invalid_json" in finding[0], out


# ---- numbers: ASCII digits, and what the service's types can hold ----------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--cron", "0 3 * * ７"], "cron"),  # fullwidth 7: int() read it, Vertex would not
        (["--cron", "0 3 * * *", "--start-time", "9999-12-31T23:59:59Z"], "start-time"),
        (["--cron", "0 3 * * *", "--max-run-count", "99999999999999999999"], "max-run-count"),
    ],
    ids=["fullwidth-digit", "start-at-the-end-of-time", "run-count-over-int64"],
)
def test_schedule_numbers_are_checked_before_anything_is_created(emu, capsys, extra, field) -> None:
    """Were: a schedule created from an unreadable cron, an OverflowError out of the
    first-run computation, the SDK's ValueError traceback on an int64 overflow."""
    code, _, err = cli(capsys, "schedule", *SUBMIT[1:], *extra)
    one_line_error(code, err, field)
    assert not [r for r in emu.requests() if r["method"].startswith("schedules.")]


def test_an_adapter_size_in_other_digits_is_one_line(emu, tmp_path, capsys) -> None:
    """``"²".isdigit()`` is True and ``int("²")`` a ValueError: a traceback."""
    code, _, err = cli(capsys, *run_args(tmp_path, "--adapter-size", "²"))
    one_line_error(code, err, "adapter")
    assert tuning_jobs_created(emu) == 0


def test_run_with_a_non_utf8_file_name_is_one_line_before_anything(
    emu, odd_names, tmp_path, capsys
) -> None:
    """A pipeline parameter is JSON text: the run's resume fingerprint raised a TypeError
    traceback on it (after the emulator and the run folder were set up)."""
    code, _, err = cli(capsys, *run_args(tmp_path, "--train", str(odd_names["not_utf8"])))
    one_line_error(code, err, "training_data", "UTF-8")
    assert tuning_jobs_created(emu) == 0


# ---- run's own inputs: nothing silently replaced ----------------------------------------


@pytest.mark.parametrize("flag", ["--train", "--eval"])
def test_an_empty_data_path_is_an_error_not_the_sample_data(emu, tmp_path, capsys, flag):
    """Before, ``--train ''`` ran on the shipped sample (with --project: a billed job)."""
    code, _, err = cli(capsys, "run", "--output-dir", str(tmp_path / "runs"), flag, "")
    one_line_error(code, err, "is empty")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("*-*"))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: os.mkfifo(p), "is a FIFO"),
        (lambda p: os.symlink(p, p), "symbolic link loop"),
        (lambda p: p.write_text("x"), "is a file, not a directory"),
    ],
    ids=["fifo", "loop", "file"],
)
def test_run_output_dir_that_cannot_be_a_directory_is_said_as_such(tmp_path, capsys, make, words):
    target = tmp_path / "out"
    make(target)
    code, _, err = cli(capsys, "run", "--output-dir", str(target))
    one_line_error(code, err, words, "output_dir")


# ---- network deadlines: a server that refuses is said in seconds --------------------------


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("get", "projects/p/locations/us-central1/pipelineJobs/x"),
        ("cancel", "projects/p/locations/us-central1/schedules/x"),
    ],
    ids=["get-pipeline-job", "cancel-schedule"],
)
def test_jobs_against_a_refusing_server_give_up_in_seconds(monkeypatch, capsys, command, name):
    """Before, ``jobs get`` took the aiplatform SDK's own retry: 103 s to say "refused"."""
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("VERTEX_AI_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    code, _, err = cli(capsys, "jobs", command, name, "--project", "p")
    one_line_error(code, err, "Connection refused", "not tried longer")
    assert time.monotonic() - started < 30
