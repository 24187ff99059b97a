"""Score one video: a single decode pass feeding every frame scorer, plus thumbnails."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from workbench.benchmark.config import ExternalScorerConfig
from workbench.media.decode import DecodeSummary, Frame, NotAVideo, open_video
from workbench.media.probe import VideoInfo, error_reason
from workbench.media.thumbnails import (
    DEFAULT_COUNT,
    DEFAULT_MAX_SIZE,
    ThumbnailPicker,
    thumbnail_size,
    write_thumbnails,
)
from workbench.safe_files import sha256_file
from workbench.scorers.base import (
    ScoreResult,
    Scorer,
    ScorerError,
    ScorerInfo,
    ScoreValue,
    VideoContext,
    VideoScores,
)
from workbench.scorers.registry import scorer_factories

# Frames sampled for full-resolution and colour analysis: about this many a
# second, but at least MIN_SAMPLES and at most MAX_SAMPLES for a whole video.
SAMPLES_PER_SECOND = 2.0
MIN_SAMPLES = 8
MAX_SAMPLES = 32


def sample_stride(info: VideoInfo) -> int:
    """Every how many frames a sample is taken, from what the file claims."""
    estimated = info.estimated_frames()
    fps = info.fps or 24.0
    if estimated:
        seconds = estimated / fps
        target = min(MAX_SAMPLES, max(MIN_SAMPLES, round(seconds * SAMPLES_PER_SECOND)))
        return max(1, estimated // target)
    return max(1, round(fps / SAMPLES_PER_SECOND))


@dataclass
class _Slot:
    """One requested scorer during a pass: its object, or the outcome once known."""

    info: ScorerInfo
    scorer: Scorer | None
    outcome: ScoreValue | None = None

    @property
    def active(self) -> bool:
        return self.scorer is not None and self.outcome is None

    def fail(self, message: str) -> None:
        self.outcome = ScoreValue(self.info.name, self.info.version, None, error=message)

    def settle(self, call: Callable[[], ScoreResult | float | None]) -> None:
        """Run a hook that produces the final result, turning any failure into an error."""
        try:
            result = call()
        except ScorerError as exc:
            self.fail(str(exc) or "cannot score this video")
            return
        except Exception as exc:  # noqa: BLE001 - a scorer bug must not stop the others
            self.fail(f"internal error in {self.info.name}: {type(exc).__name__}: {exc}")
            return
        self.outcome = _to_value(self.info, result)

    def call(self, hook: str, argument: Any) -> None:
        """Run a per-frame hook; a failure ends this scorer for this video."""
        try:
            getattr(self.scorer, hook)(argument)
        except ScorerError as exc:
            self.fail(str(exc) or "cannot score this video")
        except Exception as exc:  # noqa: BLE001
            self.fail(f"internal error in {self.info.name}.{hook}: {type(exc).__name__}: {exc}")


def _to_value(info: ScorerInfo, result: ScoreResult | float | None) -> ScoreValue:
    if result is None:
        return ScoreValue(info.name, info.version, None, error="produced no value")
    if not isinstance(result, ScoreResult):
        result = ScoreResult(float(result))
    value = float(result.value)
    if not math.isfinite(value):
        return ScoreValue(info.name, info.version, None, error=f"produced a non-finite value ({value})")
    return ScoreValue(info.name, info.version, value, detail=result.detail)


def _make_slots(factories: list[tuple[ScorerInfo, Callable[[], Scorer]]]) -> list[_Slot]:
    slots = []
    for info, factory in factories:
        try:
            slots.append(_Slot(info, factory()))
        except Exception as exc:  # noqa: BLE001 - e.g. a plugin whose model is missing
            slot = _Slot(info, None)
            slot.fail(f"cannot create scorer: {type(exc).__name__}: {exc}")
            slots.append(slot)
    return slots


def _not_a_video(sha: str, slots: list[_Slot], reason: str) -> VideoScores:
    for slot in slots:
        if not slot.active:
            continue
        try:
            result = slot.scorer.not_a_video(reason)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001
            result = None
        if result is None:
            slot.fail(reason)
        else:
            slot.outcome = _to_value(slot.info, result)
    return VideoScores(sha, [s.outcome for s in slots if s.outcome], [], error=reason)


def _clear_thumbnails(directory: Path | None) -> None:
    """Remove thumbnails left from an earlier version of a file that no longer decodes."""
    if directory is not None and Path(directory).is_dir():
        try:
            write_thumbnails(Path(directory), [])
        except OSError:
            pass


def _decode_pass(reader: Any, slots: list[_Slot], picker: ThumbnailPicker | None, threads: int) -> None:
    frame_slots = [s for s in slots if s.active and s.scorer.needs_frames]
    stride = sample_stride(reader.info)
    offset = stride // 2
    samples = 0
    last: Frame | None = None
    for frame in reader.frames(threads):
        active = [s for s in frame_slots if s.outcome is None]
        for slot in active:
            slot.call("update", frame)
        if frame.index % stride == offset:
            frame.is_sample = True
            samples += 1
            for slot in active:
                if slot.outcome is None:
                    slot.call("sample", frame)
        if picker is not None:
            picker.offer(frame)
        elif not frame_slots:
            break  # only file scorers: one frame proves the file decodes
        last = frame
    if samples == 0 and last is not None:
        last.is_sample = True
        for slot in frame_slots:
            if slot.outcome is None:
                slot.call("sample", last)


def score_video(
    path: Path,
    *,
    scorers: list[str],
    requested: dict | None = None,
    prompt_text: str = "",
    thumbnails_dir: Path | None = None,
    thumbnails: int = DEFAULT_COUNT,
    external: Mapping[str, ExternalScorerConfig] | None = None,
    thumbnail_max_size: int = DEFAULT_MAX_SIZE,
) -> VideoScores:
    """Decode ``path`` once and compute every scorer in ``scorers``.

    Problems with the file never raise: they become per-scorer errors, or a
    whole-file ``error`` ("not a video: ..."). Unknown scorer names raise
    :class:`~workbench.scorers.registry.UnknownScorer` before any work.
    Thumbnails are written to ``thumbnails_dir`` when it is given.
    """
    return score_video_known_hash(
        path, None, scorers=scorers, requested=requested, prompt_text=prompt_text,
        thumbnails_dir=thumbnails_dir, thumbnails=thumbnails, external=external,
        thumbnail_max_size=thumbnail_max_size,
    )


def score_video_known_hash(
    path: Path,
    sha256: str | None,
    *,
    scorers: list[str],
    requested: dict | None = None,
    prompt_text: str = "",
    thumbnails_dir: Path | None = None,
    thumbnails: int = DEFAULT_COUNT,
    external: Mapping[str, ExternalScorerConfig] | None = None,
    thumbnail_max_size: int = DEFAULT_MAX_SIZE,
    decode_threads: int = 0,
) -> VideoScores:
    """:func:`score_video` for a caller that has already hashed the file.

    ``decode_threads`` caps the decoder's threads (0 = as many as suit the machine).
    """
    factories = scorer_factories(list(scorers), external)
    path = Path(path)
    slots = _make_slots(factories)
    sha = sha256
    if sha is None:
        try:
            sha = sha256_file(path)
        except OSError as exc:
            return _not_a_video("", slots, f"not a video: cannot read the file: {error_reason(exc)}")
    try:
        reader = open_video(path)
    except NotAVideo as exc:
        _clear_thumbnails(thumbnails_dir)
        return _not_a_video(sha, slots, f"not a video: {exc.reason}")

    warnings: list[str] = []
    with reader:
        context = VideoContext(path, reader.info, dict(requested or {}), prompt_text)
        for slot in slots:
            if slot.active and slot.scorer.needs_frames:
                slot.call("start", context)
        picker = None
        if thumbnails_dir is not None and thumbnails > 0:
            info = reader.info
            size = thumbnail_size(info.width, info.height, info.sample_aspect, thumbnail_max_size)
            picker = ThumbnailPicker(thumbnails, size, info.estimated_frames())
        _decode_pass(reader, slots, picker, decode_threads)
        summary: DecodeSummary = reader.summary

    if summary.frames == 0:
        cause = summary.stopped or summary.last_error
        reason = "not a video: no video frame could be decoded" + (f" ({cause})" if cause else "")
        _clear_thumbnails(thumbnails_dir)
        return _not_a_video(sha, slots, reason)
    if summary.problem():
        warnings.append(summary.problem() or "")

    for slot in slots:
        if slot.active and slot.scorer.needs_frames:
            scorer = slot.scorer
            slot.settle(lambda: scorer.finish(summary))
    for slot in slots:
        if slot.active:
            scorer = slot.scorer
            slot.settle(lambda: scorer.score_file(context))

    written: list[Path] = []
    if picker is not None:
        if picker.failure:
            warnings.append(f"thumbnails: {picker.failure}")
        try:
            written = write_thumbnails(Path(thumbnails_dir), picker.pick())
        except OSError as exc:
            warnings.append(f"thumbnails: cannot write to {thumbnails_dir}: {error_reason(exc)}")
    return VideoScores(sha, [s.outcome for s in slots if s.outcome], written, None, warnings)
