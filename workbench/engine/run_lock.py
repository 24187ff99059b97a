"""One run at a time per benchmark: an advisory lock on ``.workbench-cache/run.lock``.

Two runs of the same benchmark at once could both submit the same job; the
lock makes the second one stop with a clear message instead. The operating
system drops the lock when its process dies, even by kill -9.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from workbench.errors import WorkbenchError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "run.lock"


class RunInProgress(WorkbenchError):
    """Another process is running this benchmark."""


class RunLock:
    def __init__(self, cache_dir: Path):
        self.path = Path(cache_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None and not _try_lock(fd):
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise RunInProgress(
                f"{self.path.parent.parent}: another `workbench run` is in progress "
                f"(pid {holder}); wait for it to finish or stop it first"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fd: int, tries: int = 5) -> bool:
    """Take the exclusive lock; a few quick retries ride out a reader's momentary probe."""
    for attempt in range(tries):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            if attempt + 1 < tries:
                time.sleep(0.02)
    return False


def run_in_progress(cache_dir: Path) -> bool:
    """True while some process (this one included) holds the benchmark's run lock."""
    path = Path(cache_dir) / LOCK_FILE
    if fcntl is None or not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
