"""The content-addressed cache of generated clips: ``BENCH/.workbench-cache/videos/<key>.mp4``.

A clip enters the cache only whole: it is written to a hidden temp file in the
cache folder, checked, fsynced and renamed into place. Run folders get the clip
by hardlink (a copy where hardlinks are not possible), so a clip used by many
runs is stored once.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

from workbench.safe_files import fsync_file

VIDEOS_DIR = "videos"
_link_names = itertools.count()


class VideoCache:
    def __init__(self, cache_dir: Path):
        self.dir = Path(cache_dir) / VIDEOS_DIR

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.mp4"

    def has(self, key: str) -> bool:
        try:
            return self.path(key).stat().st_size > 0
        except OSError:
            return False

    def commit(self, temp: Path, key: str) -> Path:
        """Move a finished, checked clip into the cache.

        The clip's bytes are fsynced before the rename, so a clip under its
        final name is always whole. The rename itself becomes durable with the
        journal event that follows; if a crash loses it, the job is simply
        found unfinished (a hosted one is polled and downloaded again, never
        paid for twice).
        """
        fsync_file(temp)
        final = self.path(key)
        os.replace(temp, final)
        return final

    def place(self, key: str, dest: Path) -> None:
        """Put the cached clip at ``dest`` (hardlink, else copy), replacing atomically."""
        source = self.path(key)
        try:
            os.link(source, dest)  # the usual case: nothing there yet
            return
        except FileNotFoundError:
            if not source.exists():
                raise
            dest.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            try:
                if os.path.samefile(source, dest):
                    return
            except OSError:
                pass
        except OSError:
            pass  # no hardlinks here (another file system): copy below
        temp = dest.with_name(f".{dest.name}.{os.getpid()}.{next(_link_names)}.tmp")
        try:
            try:
                os.link(source, temp)
            except OSError:
                shutil.copyfile(source, temp)
            os.replace(temp, dest)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def remove_temp_files(self) -> int:
        """Delete temp files left by a killed run (call only while holding the benchmark's run lock).

        Every hidden file in the cache folder is a temp file: ours, or one a
        provider made next to its output while writing it atomically.
        """
        removed = 0
        if not self.dir.is_dir():
            return 0
        for entry in os.scandir(self.dir):
            if entry.name.startswith(".") and entry.is_file():  # temp files are hidden
                try:
                    os.unlink(entry.path)
                    removed += 1
                except OSError:
                    pass
        return removed


def remove_link_temps(videos_dir: Path) -> None:
    """Delete half-placed links (``.name.xxxx.tmp``) in a run's videos folder."""
    if not videos_dir.is_dir():
        return
    for path in videos_dir.glob("*/.*.tmp"):
        path.unlink(missing_ok=True)
