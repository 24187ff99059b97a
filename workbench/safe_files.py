"""Crash-safe file writes: atomic replace, fsynced appends, and edit-conflict checks."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from workbench.errors import FileConflict


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a file's contents to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp_name, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dump_json_line(record: dict[str, Any]) -> str:
    """One JSON record on one line, keys in the order given (callers pass a stable order)."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def atomic_write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(dump_json_line(r) + "\n" for r in records))


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record and fsync before returning, so it survives a crash or power loss."""
    append_jsonl_many(path, [record])


def append_jsonl_many(path: Path, records: Iterable[dict[str, Any]]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(dump_json_line(r) + "\n" for r in records).encode("utf-8")
    if not data:
        return
    with open(path, "ab") as handle:
        # A crash mid-line leaves a torn last line; start on a fresh line so the
        # next record is never glued onto it.
        if handle.tell() > 0:
            with open(path, "rb") as reader:
                reader.seek(-1, os.SEEK_END)
                if reader.read(1) != b"\n":
                    data = b"\n" + data
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class Fingerprint:
    """What a file looked like when we read it; used to detect someone else's edit."""

    exists: bool
    sha256: str

    @classmethod
    def of_bytes(cls, data: bytes | None) -> "Fingerprint":
        if data is None:
            return cls(False, "")
        return cls(True, hashlib.sha256(data).hexdigest())

    @classmethod
    def of_file(cls, path: Path) -> "Fingerprint":
        try:
            return cls.of_bytes(Path(path).read_bytes())
        except FileNotFoundError:
            return cls.of_bytes(None)


def write_if_unchanged(path: Path, data: bytes, loaded: Fingerprint) -> Fingerprint:
    """Atomically replace ``path`` unless it changed since ``loaded`` was taken.

    Returns the fingerprint of what was written, for the next save.
    """
    if Fingerprint.of_file(path) != loaded:
        raise FileConflict(Path(path))
    atomic_write_bytes(path, data)
    return Fingerprint.of_bytes(data)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
