"""Nothing half-written, nothing "deleted" that never existed (issue 14, section 5).

Before: ``convert good.jsonl out/o.jsonl --validation-out DIR`` printed a traceback and
left ``out/o.jsonl`` behind; ``models delete nosuch`` / ``../ID`` said "already gone"."""

from __future__ import annotations

import os

import pytest
import typer
from typer.testing import CliRunner

from gemini_sft_kfp.cli import dataset as dataset_cli
from gemini_sft_kfp.cli import models as models_cli
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.outputs import staged_files
from gemini_sft_kfp.core.registry import could_exist
from tests.support import REPO
from tests.support.model_helpers import tuned_versions

GOOD = REPO / "examples" / "data" / "train.jsonl"


def _app(module) -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    module.register(app)
    return app


def _user_error(app, *args: str) -> UserError:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code != 0
    assert isinstance(result.exception, UserError), result.exception
    return result.exception


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_convert_with_a_directory_as_validation_out_writes_nothing(tmp_path):
    out, folder = tmp_path / "out", tmp_path / "adir"
    out.mkdir()
    folder.mkdir()
    dst = str(out / "o.jsonl")
    error = _user_error(
        _app(dataset_cli), "convert", str(GOOD), dst, "--validation-out", str(folder)
    )
    assert "directory" in str(error)
    assert _files(out) == [] and _files(folder) == []


@pytest.mark.parametrize(
    ("dst", "problem"),
    [("missing/o.jsonl", "does not exist"), ("adir", "directory"), ("", "empty")],
)
def test_convert_refuses_bad_outputs_before_reading(tmp_path, dst, problem):
    (tmp_path / "adir").mkdir()
    target = str(tmp_path / dst) if dst else ""
    error = _user_error(_app(dataset_cli), "convert", str(GOOD), target)
    assert problem in str(error)
    assert _files(tmp_path) == ["adir"]


def test_convert_failing_midway_leaves_neither_output(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(GOOD.read_bytes() + b"{not json\n")
    train, validation = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    error = _user_error(
        _app(dataset_cli), "convert", str(bad), str(train), "--validation-out", str(validation)
    )
    assert error.line == 241
    assert _files(tmp_path) == ["bad.jsonl"]


def test_convert_source_that_is_a_directory_is_a_user_error(tmp_path):
    error = _user_error(_app(dataset_cli), "convert", str(tmp_path), str(tmp_path / "o.jsonl"))
    assert "directory" in str(error)


def test_convert_writes_both_outputs_with_normal_permissions(tmp_path):
    train, validation = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    result = CliRunner().invoke(
        _app(dataset_cli), ["convert", str(GOOD), str(train), "--validation-out", str(validation)]
    )
    assert result.exit_code == 0, result.output
    assert _files(tmp_path) == ["t.jsonl", "v.jsonl"]
    umask = os.umask(0)
    os.umask(umask)
    assert train.stat().st_mode & 0o777 == 0o666 & ~umask


def test_staged_files_replace_all_or_nothing(tmp_path):
    keep = tmp_path / "a.txt"
    keep.write_text("old")
    with pytest.raises(RuntimeError), staged_files(keep, tmp_path / "b.txt") as (a, b):
        a.write_text("new")
        raise RuntimeError("second output failed")
    assert keep.read_text() == "old" and _files(tmp_path) == ["a.txt"]
    with staged_files(keep, tmp_path / "b.txt") as (a, b):
        a.write_text("new")
        b.write_text("b")
    assert keep.read_text() == "new" and (tmp_path / "b.txt").read_text() == "b"


def test_staged_files_on_a_disk_without_room_for_even_an_empty_file_is_one_line(
    tmp_path, monkeypatch
):
    import errno
    import tempfile

    def full(**kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "mkstemp", full)
    with (
        pytest.raises(UserError, match="No space left on device"),
        staged_files(tmp_path / "a.txt"),
    ):
        pass
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123", True),
        ("123@4", True),
        ("123@champion", True),
        ("projects/p/locations/us-central1/models/123@2", True),
        ("../123", False),
        ("123@../x", False),
        ("a b", False),
        ("", False),
        ("my_model", True),
    ],
)
def test_could_exist(text, expected):
    assert could_exist(text) is expected


@pytest.mark.parametrize("name", ["nosuch", "../123", "123/..", "projects/p/models/1"])
def test_models_delete_of_an_impossible_name_is_an_error(emu, name):
    error = _user_error(_app(models_cli), "models", "delete", name)
    assert error.field == "model" and "no model" in str(error)


def test_models_delete_of_a_well_formed_gone_name_is_still_success(emu):
    (version,) = tuned_versions(1)
    app = _app(models_cli)
    assert CliRunner().invoke(app, ["models", "delete", version]).exit_code == 0
    again = CliRunner().invoke(app, ["models", "delete", version])
    assert again.exit_code == 0 and "already gone" in again.stdout
    numeric = CliRunner().invoke(app, ["models", "delete", "987654321"])
    assert numeric.exit_code == 0 and "already gone" in numeric.stdout
