"""Errors a user can fix: shown without a traceback, with file, line and field."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input or set-up. The CLI prints it and exits 1."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.code = code

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        prefix = " ".join(p for p in (where, f"[{self.field}]" if self.field else "") if p)
        return f"{prefix}: {self.message}" if prefix else self.message


class CloudJobError(Exception):
    """A cloud job ended badly (FAILED / CANCELLED / EXPIRED): carries the service's code."""

    def __init__(self, message: str, *, code: int | None = None, state: str | None = None):
        super().__init__(message)
        self.code = code
        self.state = state


def one_line(message: str) -> str:
    """``message`` on one line: a line break or other control character (from a file
    name, a server's answer) is written as its escape."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in message)
