"""Errors that describe a user's mistake rather than a bug.

Front ends print these as plain messages (no traceback) and exit with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where it is and what is wrong."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class WorkbenchError(Exception):
    """Base class for errors caused by input, configuration or the environment."""


class InvalidInput(WorkbenchError):
    """One or more problems found while loading or checking a file."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class FileConflict(WorkbenchError):
    """A file changed on disk after we loaded it; we refuse to overwrite it."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(
            f"{path}: changed on disk since it was loaded; not overwriting it. "
            "Reload and apply your change again."
        )


class NotFound(WorkbenchError):
    """A named thing (benchmark, prompt, model, run) does not exist."""


class CannotAccess(WorkbenchError):
    """The system refused a file operation (missing, a folder, no permission, disk full)."""

    def __init__(self, error: OSError):
        self.error = error
        where = error.filename or "a file"
        super().__init__(f"{where}: {error.strerror or error}")


def user_message(error: BaseException) -> str:
    """What to tell the user about ``error``: its own words for a WorkbenchError, the file and
    the system's reason for an OSError, and the kind of error otherwise (never a traceback)."""
    if isinstance(error, WorkbenchError):
        return str(error) or type(error).__name__
    if isinstance(error, OSError):
        return str(CannotAccess(error))
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
