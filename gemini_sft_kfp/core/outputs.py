"""Output files a command writes: checked first, written whole or not at all.

A command that writes several files writes each to a temporary file beside its target
and moves them into place only when every one of them was written, so a failure (a bad
path, a full disk, Ctrl-C) never leaves half the outputs behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_output_file(path: str | os.PathLike, *, field: str | None = None) -> Path:
    """``path`` as a file the user can create or replace; a one-line ``UserError`` if not."""
    target = Path(path)
    if str(path).strip() == "":
        raise UserError("output path is empty", field=field)
    if target.is_dir():
        raise UserError("is a directory; give a file path", file=str(path), field=field)
    parent = target.parent
    if not parent.is_dir():
        raise UserError(f"folder {parent} does not exist", file=str(path), field=field)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"folder {parent} is not writable", file=str(path), field=field)
    if target.exists() and not os.access(target, os.W_OK):
        raise UserError("file is not writable", file=str(path), field=field)
    return target


def check_output_dir(path: str | os.PathLike, *, field: str | None = None) -> Path:
    """``path`` as a directory that exists or can be made; a one-line ``UserError`` if not."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UserError("is a file, not a directory", file=str(path), field=field)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the directory: {exc.strerror}", file=str(path)) from None
    if not os.access(target, os.W_OK | os.X_OK):
        raise UserError("directory is not writable", file=str(path), field=field)
    return target


@contextlib.contextmanager
def staged_files(*targets: str | os.PathLike) -> Iterator[list[Path]]:
    """Temporary paths beside ``targets``; moved onto them when the block succeeds.

    On any failure inside the block the temporaries are removed and no target changes.
    """
    paths = [check_output_file(target) for target in targets]
    temps: list[Path] = []
    try:
        for path in paths:
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.fchmod(handle, _default_mode())  # like open(): mkstemp makes files 0600
            os.close(handle)
            temps.append(Path(name))
        yield temps
        placed: list[Path] = []
        try:
            for temp, path in zip(temps, paths, strict=True):
                existed = path.exists()
                os.replace(temp, path)
                if not existed:
                    placed.append(path)
        except OSError as exc:
            for path in placed:  # best effort: no new file without its siblings
                path.unlink(missing_ok=True)
            raise UserError(f"cannot write the output: {exc.strerror}", file=exc.filename) from None
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
