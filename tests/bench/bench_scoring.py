"""Benchmark: scoring cost relative to decoding, batch speed-up and peak memory.

Run from the repository root:  python tests/bench/bench_scoring.py [--keep DIR]

It encodes 5 s H.264 clips at 480p, 720p and 1080p (textured, panning content
with a moving object, encoded with libx264 at CRF 18 as a generator's output
might be), then in the same run measures:

* scoring wall time / decode-only wall time per clip (all built-in scorers and
  6 thumbnails vs. iterating every frame with PyAV, same threading; best of 3);
* batch speed-up: 8 clips with 2 workers vs 1, best of 2 rounds (``workers``
  is the number of cores a batch may use: one single-threaded decoder per
  worker process);
* peak RSS of a process scoring a 10 s 1080p clip, next to the peak RSS of a
  process that only imports the modules.

Targets: ratio <= 2.0 at 720p and <= 1.5 at 1080p; speed-up >= 1.7; peak <= 300 MB.
Exits with status 1 if a target is missed. Other load on the machine skews the
figures: re-run if they look noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from workbench.scorers.batch import ScoreJob, score_videos  # noqa: E402
from workbench.scorers.registry import BUILTIN_SCORERS  # noqa: E402
from workbench.scorers.scoring import score_video  # noqa: E402

SCORERS = list(BUILTIN_SCORERS)
FPS = 30
SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
TARGETS = {"720p": 2.0, "1080p": 1.5}
SPEEDUP_TARGET = 1.7
MEMORY_TARGET_MB = 300.0
REPEATS = 3


def _texture(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth multi-scale noise, like natural texture, as uint8 RGB."""
    image = np.zeros((height, width, 3), np.float32)
    for scale, amplitude in ((64, 90.0), (16, 50.0), (4, 25.0), (1, 10.0)):
        rows, cols = height // scale + 2, width // scale + 2
        noise = rng.standard_normal((rows, cols, 3)).astype(np.float32)
        ys = np.linspace(0, rows - 1.001, height)
        xs = np.linspace(0, cols - 1.001, width)
        y0, x0 = ys.astype(int), xs.astype(int)
        fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
        top = noise[y0][:, x0] * (1 - fx) + noise[y0][:, x0 + 1] * fx
        bottom = noise[y0 + 1][:, x0] * (1 - fx) + noise[y0 + 1][:, x0 + 1] * fx
        image += amplitude * (top * (1 - fy) + bottom * fy)
    return np.clip(image + 128, 0, 255).astype(np.uint8)


def encode_clip(path: Path, width: int, height: int, seconds: float, seed: int = 1) -> None:
    """A panning textured scene with a moving red square, H.264 yuv420p."""
    rng = np.random.default_rng(seed)
    texture = _texture(height + 200, width + 400, rng)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "medium", "crf": "18"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * FPS)):
            dx = int(200 + 180 * np.sin(i / 40))
            dy = int(100 + 80 * np.cos(i / 55))
            image = texture[dy:dy + height, dx:dx + width].copy()
            cx = int(width / 2 + width / 3 * np.sin(i / 15))
            cy = int(height / 2 + height / 4 * np.cos(i / 11))
            r = height // 8
            image[max(0, cy - r):cy + r, max(0, cx - r):cx + r] = (230, 80, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def decode_only(path: Path) -> int:
    """Iterate every frame of the video stream with the scorers' threading."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def bench_ratios(clips: dict[str, Path], work: Path) -> dict[str, tuple[float, float, int]]:
    """label -> (decode s, scoring s, frames), best of REPEATS, runs interleaved."""
    out = {}
    for label, clip in clips.items():
        frames = decode_only(clip)  # warm the file cache
        decode_times, score_times = [], []
        for i in range(REPEATS):
            decode_times.append(timed(decode_only, clip))
            thumbs = work / f"thumbs-{label}-{i}"
            score_times.append(timed(score_video, clip, scorers=SCORERS, thumbnails_dir=thumbs))
        out[label] = (min(decode_times), min(score_times), frames)
    return out


def bench_batch(clips: list[Path], work: Path, rounds: int = 2) -> tuple[list[float], list[float]]:
    """Wall times of scoring ``clips`` with 1 and with 2 workers, ``rounds`` times, interleaved.

    The first 2-worker round also starts the forkserver that later pools reuse.
    """
    jobs = [ScoreJob(path=c, thumbnails_dir=work / f"batch-{i}.thumbs") for i, c in enumerate(clips)]
    ones, twos = [], []
    for _ in range(rounds):
        ones.append(timed(score_videos, jobs, scorers=SCORERS, cache_dir=None, workers=1))
        twos.append(timed(score_videos, jobs, scorers=SCORERS, cache_dir=None, workers=2))
    return ones, twos


_MEMORY_SCRIPT = """
import re, resource, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from workbench.scorers.scoring import score_video
from workbench.scorers.registry import BUILTIN_SCORERS
import workbench.scorers.sharpness, workbench.scorers.temporal, workbench.scorers.exposure
import workbench.scorers.color, workbench.scorers.blockiness, workbench.scorers.compliance
import workbench.scorers.decodes, workbench.media.thumbnails
if {clip!r}:
    result = score_video(Path({clip!r}), scorers=list(BUILTIN_SCORERS), thumbnails_dir=Path({thumbs!r}))
    assert result.error is None, result.error
status = open("/proc/self/status").read()
hwm = re.search(r"VmHWM:\\s+(\\d+)", status)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, hwm.group(1) if hwm else -1)
"""


def peak_rss_mb(clip: Path | None, thumbs: Path) -> tuple[float, float]:
    """(ru_maxrss, VmHWM) of a fresh process in MB.

    Linux carries ru_maxrss over from the parent across fork+exec, so this runs
    before the benchmark process grows; VmHWM (the new process's own peak) is a
    cross-check.
    """
    script = _MEMORY_SCRIPT.format(root=str(ROOT), clip=str(clip) if clip else "", thumbs=str(thumbs))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    maxrss, hwm = done.stdout.strip().splitlines()[-1].split()
    return int(maxrss) / 1024.0, int(hwm) / 1024.0  # both in KiB on Linux


def encode_in_subprocesses(specs: list[tuple[Path, int, int, float, int]]) -> None:
    """Encode clips two at a time in child processes (keeps this process small)."""
    pending = [spec for spec in specs if not spec[0].exists()]
    while pending:
        batch, pending = pending[:2], pending[2:]
        children = [
            subprocess.Popen([sys.executable, __file__, "--encode", str(path), str(w), str(h), str(sec), str(seed)])
            for path, w, h, sec, seed in batch
        ]
        for child in children:
            if child.wait() != 0:
                raise SystemExit("encoding a benchmark clip failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="encode into (and keep) this folder")
    parser.add_argument("--encode", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.encode:
        path, width, height, seconds, seed = args.encode
        encode_clip(Path(path), int(width), int(height), float(seconds), int(seed))
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"cores: {os.cpu_count()}, PyAV {av.__version__}, clips in {work}")
        clips = {label: work / f"clip-{label}.mp4" for label in SIZES}
        long_clip = work / "clip-1080p-10s.mp4"
        specs = [(clips[label], w, h, 5.0, 1) for label, (w, h) in SIZES.items()]
        specs.append((long_clip, *SIZES["1080p"], 10.0, 2))
        encode_in_subprocesses(specs)

        failures = []
        base_rss, base_hwm = peak_rss_mb(None, work / "mem.thumbs")
        peak_rss, peak_hwm = peak_rss_mb(long_clip, work / "mem.thumbs")

        print("\nscoring vs decode-only (5 s, 30 fps, all built-in scorers + 6 thumbnails; best of 3)")
        print(f"{'clip':>6} {'frames':>6} {'decode s':>9} {'score s':>8} {'ratio':>6} {'target':>7}")
        for label, (dec, sco, frames) in bench_ratios(clips, work).items():
            ratio = sco / dec
            target = TARGETS.get(label)
            verdict = ""
            if target is not None:
                verdict = f"<= {target:.1f}" + ("" if ratio <= target else "  MISSED")
                if ratio > target:
                    failures.append(f"{label} ratio {ratio:.2f} > {target}")
            print(f"{label:>6} {frames:>6} {dec:9.3f} {sco:8.3f} {ratio:6.2f} {verdict:>7}")

        batch = [clips["720p"], clips["1080p"]] * 4
        ones, twos = bench_batch(batch, work)
        speedup = min(ones) / min(twos)
        print(f"\nbatch of {len(batch)} clips (4 x 720p + 4 x 1080p), wall s per round: "
              f"1 worker {', '.join(f'{t:.2f}' for t in ones)}; 2 workers {', '.join(f'{t:.2f}' for t in twos)} "
              f"(first includes starting the worker server)")
        print(f"speed-up (best vs best) {speedup:.2f}x (target >= {SPEEDUP_TARGET})")
        if speedup < SPEEDUP_TARGET:
            failures.append(f"speed-up {speedup:.2f} < {SPEEDUP_TARGET}")

        print(f"\npeak memory (ru_maxrss / VmHWM): imports only {base_rss:.0f} / {base_hwm:.0f} MB; "
              f"scoring a 10 s 1080p clip {peak_rss:.0f} / {peak_hwm:.0f} MB "
              f"(+{peak_rss - base_rss:.0f} MB over imports; target <= {MEMORY_TARGET_MB:.0f} MB)")
        if max(peak_rss, peak_hwm) > MEMORY_TARGET_MB:
            failures.append(f"peak {max(peak_rss, peak_hwm):.0f} MB > {MEMORY_TARGET_MB:.0f} MB")

        print("\nall targets met" if not failures else "\nMISSED: " + "; ".join(failures))
        return 1 if failures else 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
