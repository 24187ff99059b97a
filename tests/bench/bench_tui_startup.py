"""Cold start of the terminal workbench, as a user sees it: from launching ``workbench open``
in a real pseudo-terminal to the first paint, and to the first paint with the sample's
scores on screen. Target: first paint within 1.0 s.

Run: ``python tests/bench/bench_tui_startup.py`` from the project root (the package
installed in the active environment). It copies the sample, runs and scores it once
(not timed), then starts the app several times in a 120x40 pty and prints the median
times, with a bare Textual app started the same way as the baseline.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import fcntl
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_benchmarks" / "hard-cases"
TARGET_S = 1.0
ROUNDS = 5

BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Static("bare-app-ready")
Bare().run()
"""


def launch(argv: list[str], markers: list[bytes], timeout: float = 20.0) -> list[float]:
    """Start ``argv`` in a 120x40 pty; seconds until each marker first appears in its output.
    Like a real terminal, the pty answers the device-attributes query (the app asks it to learn
    whether the terminal draws images)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, on the pty
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "40"
        os.execvp(argv[0], argv)
    start = time.perf_counter()
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen: dict[bytes, float] = {}
    output = b""
    try:
        while len(seen) < len(markers) and time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            output += chunk
            if b"\x1b[c" in chunk:  # answer "what are you?" as a VT220-class terminal without Sixel would
                os.write(fd, b"\x1b[?62;22c")
            now = time.perf_counter() - start
            for marker in markers:
                if marker not in seen and marker in output:
                    seen[marker] = now
    finally:
        os.write(fd, b"q")
        deadline = time.time() + 5
        while time.time() < deadline:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if select.select([fd], [], [], 0.02)[0]:
                try:
                    os.read(fd, 65536)
                except OSError:
                    pass
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    missing = [m.decode() for m in markers if m not in seen]
    if missing:
        raise SystemExit(f"never saw {missing} on screen; the last output was:\n{output[-2000:]!r}")
    return [seen[m] for m in markers]


def main() -> int:
    workbench = shutil.which("workbench")
    if workbench is None:
        raise SystemExit("install the package first: pip install -e .")
    with tempfile.TemporaryDirectory() as tmp:
        bench = Path(tmp) / "hard-cases"
        shutil.copytree(SAMPLE, bench, ignore=shutil.ignore_patterns("runs", "decisions", "ratings.jsonl",
                                                                     ".workbench-cache"))
        subprocess.run([workbench, "run", str(bench), "--yes"], check=True, capture_output=True)
        subprocess.run([workbench, "score", str(bench)], check=True, capture_output=True)
        first_prompt = b"pianist-hands-closeup"

        bare = [launch([sys.executable, "-c", BARE_APP], [b"bare-app-ready"])[0] for _ in range(ROUNDS)]
        paint, data = [], []
        for _ in range(ROUNDS):
            first, with_data = launch([workbench, "open", str(bench)], [b"hard-cases", first_prompt])
            paint.append(first)
            data.append(with_data)

    bare_s, paint_s, data_s = (statistics.median(v) for v in (bare, paint, data))
    print(f"cold start, median of {ROUNDS}, 120x40 pty:")
    print(f"  bare Textual app, first paint:        {bare_s * 1000:7.0f} ms  (baseline)")
    print(f"  workbench open, first paint:          {paint_s * 1000:7.0f} ms  ({paint_s / bare_s:.2f}x the baseline)")
    print(f"  workbench open, sample's scores shown: {data_s * 1000:6.0f} ms  ({data_s / bare_s:.2f}x)")
    verdict = "ok" if paint_s <= TARGET_S else "OVER TARGET"
    print(f"  target: first paint <= {TARGET_S * 1000:.0f} ms: {verdict}")
    return 0 if paint_s <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
