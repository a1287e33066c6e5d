"""Output files a command writes: checked first, written whole or not at all.

A command that writes several files writes each to a temporary file beside its target
and moves them into place only when every one of them was written, so a failure (a bad
path, a full disk, Ctrl-C) never leaves half the outputs behind.

No write ever lands on an input or on a non-regular file: a target that is (after symlinks
and hard links: the same device and inode) one of the command's inputs or another target,
or that exists as anything but a regular file (a device, a FIFO, a socket), is refused
before anything is read, and checked again just before the rename that would replace it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.inputs import directory_problem


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


PathLike = str | os.PathLike
# a full or failing disk: the user's environment, said in one line, not a traceback
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _identity(path: PathLike) -> tuple[int, int] | None:
    """(device, inode) of what ``path`` names after symlinks; None when nothing is there."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a symlink loop, a name too long...
        raise UserError(f"cannot use as an output: {exc.strerror}", file=str(path)) from None
    return info.st_dev, info.st_ino


def _check_not_special(path: PathLike, field: str | None) -> None:
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise UserError(f"cannot use as an output: {exc.strerror}", file=str(path)) from None
    if stat.S_ISDIR(mode):
        raise UserError("is a directory; give a file path", file=str(path), field=field)
    if not stat.S_ISREG(mode):
        raise UserError(
            "is not a regular file (a device, FIFO or socket): refusing to replace it",
            file=str(path),
            field=field,
        )


def check_distinct(
    targets: Iterable[PathLike], inputs: Iterable[PathLike] = (), *, field: str | None = None
) -> None:
    """Refuse an output that is one of the inputs, or the same file as another output
    (compared by device and inode, so symlinks and hard links are seen through)."""
    seen: dict[object, str] = {}
    for path in inputs:
        try:
            key = _identity(path)
        except UserError:  # an unreadable input is the input check's to name
            key = None
        if key is not None:
            seen[key] = f"the input {path}"
        seen[os.path.realpath(path)] = f"the input {path}"
    for path in targets:
        key = _identity(path) or os.path.realpath(path)
        if key in seen:
            raise UserError(
                f"is the same file as {seen[key]}: refusing to overwrite it",
                file=str(path),
                field=field,
            )
        seen[key] = f"the output {path}"
        seen[os.path.realpath(path)] = f"the output {path}"


def check_output_file(
    path: PathLike, *, field: str | None = None, inputs: Iterable[PathLike] = ()
) -> Path:
    """``path`` as a regular file the user can create or replace, and none of ``inputs``;
    a one-line ``UserError`` if not."""
    target = Path(path)
    if str(path).strip() == "":
        raise UserError("output path is empty", field=field)
    _check_not_special(path, field)
    check_distinct([path], inputs, field=field)
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
    problem = directory_problem(target)
    if problem is not None:
        raise UserError(problem, file=str(path), field=field)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the directory: {exc.strerror}", file=str(path)) from None
    if not os.access(target, os.W_OK | os.X_OK):
        raise UserError("directory is not writable", file=str(path), field=field)
    return target


def is_disk_error(exc: BaseException) -> bool:
    """A full, read-only or failing disk: the user's environment, not a bug."""
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRORS


def disk_error(exc: OSError, target: PathLike) -> UserError | None:
    """A full or failing disk while writing ``target`` as one line; None for other errors."""
    if is_disk_error(exc):
        return UserError(f"cannot write the output: {exc.strerror}", file=str(target))
    return None


FULL_DISK_BYTES = 2**20  # less free than this: the disk is full, whatever a writer said


def free_bytes(directory: PathLike) -> int:
    """Bytes an unprivileged writer may still use on ``directory``'s filesystem."""
    return shutil.disk_usage(directory).free


def check_free_space(
    directory: PathLike, needed: int, *, what: str, field: str | None = None
) -> None:
    """Refuse to start work that writes about ``needed`` bytes under ``directory`` when its
    disk has less free: found before anything is created, not halfway through."""
    free = free_bytes(directory)
    if free < needed:
        raise UserError(
            f"{_mb(free)} free on this disk, and {what} writes about {_mb(needed)}: free some "
            "space or choose a directory on another disk",
            file=str(directory),
            field=field,
        )


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def replace_checked(temp: PathLike, target: PathLike, inputs: Iterable[PathLike] = ()) -> None:
    """``os.replace(temp, target)``, after checking again that ``target`` is no input and no
    device, FIFO or socket (it may have changed while the output was written)."""
    _check_not_special(target, None)
    check_distinct([target], inputs)
    os.replace(temp, target)


@contextlib.contextmanager
def staged_files(*targets: PathLike, inputs: Iterable[PathLike] = ()) -> Iterator[list[Path]]:
    """Temporary paths beside ``targets``; moved onto them when the block succeeds.

    On any failure inside the block the temporaries are removed and no target changes.
    A target that is one of ``inputs``, another target, or no regular file is refused.
    """
    inputs = list(inputs)
    paths = [check_output_file(target, inputs=inputs) for target in targets]
    check_distinct(paths)
    temps: list[Path] = []
    try:
        for path in paths:
            try:
                handle, name = tempfile.mkstemp(
                    dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
                )
            except OSError as exc:  # no room even for an empty file: one line too
                error = disk_error(exc, path)
                if error is None:
                    raise
                raise error from None
            os.fchmod(handle, _default_mode())  # like open(): mkstemp makes files 0600
            os.close(handle)
            temps.append(Path(name))
        try:
            yield temps
        except OSError as exc:
            error = disk_error(exc, paths[0] if len(paths) == 1 else ", ".join(map(str, paths)))
            if error is None:
                raise
            raise error from None
        placed: list[Path] = []
        try:
            for temp, path in zip(temps, paths, strict=True):
                existed = path.exists()
                replace_checked(temp, path, inputs)
                if not existed:
                    placed.append(path)
        except OSError as exc:
            for path in placed:  # best effort: no new file without its siblings
                path.unlink(missing_ok=True)
            raise UserError(f"cannot write the output: {exc.strerror}", file=exc.filename) from None
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
