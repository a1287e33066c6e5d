"""Local input files a command reads: what is wrong with a path, in the right words.

``os.path.isfile`` is False for a missing file, a symlink loop, a FIFO and a device
alike, so "no such file" was said of all of them; here each gets its own one line.
"""

from __future__ import annotations

import errno
import os
import stat

from gemini_sft_kfp.core.errors import UserError

_STAT_WORDS = {
    errno.ENOENT: "no such file",
    errno.ENOTDIR: "no such file (a part of the path is not a folder)",
    errno.ELOOP: "is a symbolic link loop (a link that points back to itself)",
    errno.EACCES: "permission denied",
    errno.ENAMETOOLONG: "the file name is too long",
}


def input_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as a regular input file (None when it can)."""
    if not os.fspath(path):
        return "no file given (the path is empty)"
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return _STAT_WORDS.get(exc.errno or 0, exc.strerror or "cannot be read")
    except ValueError:  # a NUL byte: no file system path holds one
        return "the path contains a NUL byte"
    if stat.S_ISDIR(mode):
        return "is a directory, not a JSONL file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file: write the data to a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device or socket)"
    if not os.access(path, os.R_OK):
        return "not readable (permission denied)"
    return None


def check_input_file(path: str | os.PathLike, *, field: str | None = None) -> None:
    """A one-line ``UserError`` naming the file when it is no readable regular file."""
    problem = input_problem(path)
    if problem is not None:
        raise UserError(problem, file=str(path), field=field)


def directory_problem(path: str | os.PathLike) -> str | None:
    """Why an existing ``path`` cannot be used as a directory (None: it is one, or it does
    not exist yet and may be made), in the same words as ``input_problem``."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _STAT_WORDS.get(exc.errno or 0, exc.strerror or "cannot be used")
    if stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a directory"
    if stat.S_ISREG(mode):
        return "is a file, not a directory"
    return "is not a directory (a device or socket)"
