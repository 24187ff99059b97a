"""The decode pass: luma reads per pixel format, tolerance of damage, thumbnails."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from workbench.media.decode import Frame, NotAVideo, luma_mode, open_video, working_stride
from workbench.media.png import read_png
from workbench.media.probe import probe_video
from workbench.media.thumbnails import (
    ThumbnailPicker,
    thumbnail_paths,
    thumbnail_size,
    thumbnails_dir_for,
    write_thumbnails,
)

try:
    from test_scorers_clips import HEIGHT, WIDTH, encode_audio_only, encode_clip, moving_clip, smooth_texture
except ImportError:  # tests/ imported as a package
    from tests.test_scorers_clips import (
        HEIGHT, WIDTH, encode_audio_only, encode_clip, moving_clip, smooth_texture,
    )

MEDIA = Path("/work/shared/media")


def make_frame(array: np.ndarray, fmt: str, index: int = 0, prev: np.ndarray | None = None) -> Frame:
    """A Frame around an in-memory picture converted to ``fmt``."""
    source = av.VideoFrame.from_ndarray(array, format="gray" if array.ndim == 2 else "rgb24")
    converted = source.reformat(format=fmt) if fmt != source.format.name else source
    stride = working_stride(converted.width, converted.height)
    full_range = fmt.startswith(("gray", "yuvj")) or fmt in ("rgb24", "rgba")
    return Frame(converted, index, index / 25, full_range, stride, prev)


@pytest.mark.parametrize("fmt, mode", [
    ("yuv420p", ("u8", 0)), ("yuvj420p", ("u8", 0)), ("yuv422p", ("u8", 0)), ("yuv444p", ("u8", 0)),
    ("nv12", ("u8", 0)), ("gray", ("u8", 0)), ("yuva420p", ("u8", 0)),
    ("yuv420p10le", ("u16", 2)), ("yuv444p12le", ("u16", 4)), ("p010le", ("u16", 8)),
    ("rgb24", ("convert", 0)), ("rgba", ("convert", 0)), ("yuyv422", ("convert", 0)),
    ("yuv420p10be", ("convert", 0)), ("pal8", ("convert", 0)),
])
def test_luma_mode_per_pixel_format(fmt, mode):
    assert luma_mode(av.VideoFormat(fmt)) == mode


@pytest.mark.parametrize("fmt", ["yuv420p", "nv12", "yuv444p", "gray", "yuv420p10le", "p010le", "rgb24", "rgba"])
def test_luma_agrees_with_swscale_for_each_format(fmt):
    gray = smooth_texture(90, 160, seed=1)
    frame = make_frame(np.repeat(gray[:, :, None], 3, axis=2), fmt)
    # swscale's full-range gray of the same frame, mapped back to the frame's code values
    reference = frame._av.to_ndarray(format="gray").astype(np.float32)
    reference = frame.black + reference * (frame.white - frame.black) / 255
    assert frame.full_luma.shape == (90, 160)
    assert np.abs(frame.full_luma.astype(np.float32) - reference).mean() < 1.5
    assert np.array_equal(frame.luma, frame.full_luma[::1, ::1])


def test_luma_respects_line_padding():
    # realshort.mp4 is 320 px wide with 384-byte luma lines
    with open_video(MEDIA / "realshort.mp4") as reader:
        frame = next(iter(reader.frames()))
        assert frame._av.planes[0].line_size > frame.width
        planar = frame._av.to_ndarray()  # yuv420p as (1.5 h) x w, padding removed
        assert np.array_equal(frame.full_luma, planar[:frame.height])
        assert np.array_equal(frame.luma, planar[:frame.height])


def test_working_size_is_a_cheap_stride():
    assert working_stride(160, 90) == 1
    assert working_stride(1280, 720) == 2
    assert working_stride(1920, 1080) == 3
    assert working_stride(3840, 2160) == 6
    assert working_stride(1, 1) == 1
    big = np.tile(np.arange(1920, dtype=np.uint8), (1080, 1))
    frame = make_frame(big, "gray")
    assert frame.luma.shape == (360, 640)
    assert np.array_equal(frame.luma, big[::3, ::3])


def test_frame_difference_in_full_range_levels():
    base = np.full((90, 160), 100, np.uint8)
    first = make_frame(base, "gray")
    brighter = make_frame(base + 20, "gray", index=1, prev=first.luma)
    assert first.mad is None and first.changed_fraction is None
    assert brighter.mad == pytest.approx(20.0)
    assert brighter.changed_fraction == 1.0
    # in limited range a step of 20 code values is 20 * 255 / 219 full-range levels
    limited_a = make_frame(np.stack([base] * 3, axis=2), "yuv420p")
    limited_b = make_frame(np.stack([base + 20] * 3, axis=2), "yuv420p", index=1, prev=limited_a.luma)
    assert limited_b.mad == pytest.approx(20.0, abs=1.0)


def test_ten_bit_clip_decodes_like_eight_bit(tmp_path):
    frames = [smooth_texture(HEIGHT, WIDTH, seed=s) for s in range(5)]
    eight = encode_clip(tmp_path / "8bit.mp4", frames)
    ten = encode_clip(tmp_path / "10bit.mp4", frames, pix_fmt="yuv420p10le")
    with open_video(ten) as reader:
        assert reader.info.pix_fmt == "yuv420p10le"
        ten_lumas = [f.luma for f in reader.frames()]
    with open_video(eight) as reader:
        eight_lumas = [f.luma for f in reader.frames()]
    assert len(ten_lumas) == len(eight_lumas) == 5
    for a, b in zip(ten_lumas, eight_lumas):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 1.0


def test_summary_measures_duration_and_fps():
    with open_video(MEDIA / "example.mp4") as reader:
        count = sum(1 for _ in reader.frames())
        summary = reader.summary
    assert count == summary.frames == 50
    assert summary.measured_fps(None) == pytest.approx(25.0)
    assert summary.measured_duration(None) == pytest.approx(2.0)
    assert summary.problem() is None


def test_webm_without_duration_is_measured():
    info = probe_video(MEDIA / "test.webm")
    assert info.duration is None and not info.frame_count
    with open_video(MEDIA / "test.webm") as reader:
        frames = sum(1 for _ in reader.frames())
        duration = reader.summary.measured_duration(reader.info.fps)
    assert frames == 94
    assert duration == pytest.approx(3.14, abs=0.05)


@pytest.mark.parametrize("content, reason", [
    (b"", "cannot open"),
    (bytes(range(256)) * 200, "cannot open"),
])
def test_not_a_video(tmp_path, content, reason):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(NotAVideo, match=reason):
        open_video(path)


def test_audio_only_is_not_a_video(tmp_path):
    path = encode_audio_only(tmp_path / "tone.m4a")
    with pytest.raises(NotAVideo, match="no video stream \\(audio only\\)"):
        open_video(path)


def test_truncated_stream_yields_the_frames_before_the_cut(tmp_path):
    full = moving_clip(tmp_path / "full.mkv", seconds=2.0, lossless=False)
    data = full.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with open_video(cut) as reader:
        count = sum(1 for _ in reader.frames())
    assert 5 <= count < 50


def test_damaged_middle_is_skipped_not_fatal(tmp_path):
    full = moving_clip(tmp_path / "full.mp4", seconds=2.0, lossless=False, options={"movflags": "faststart"})
    data = bytearray(full.read_bytes())
    rng = np.random.default_rng(0)
    start, length = len(data) // 3, len(data) // 5
    data[start:start + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with open_video(damaged) as reader:
        count = sum(1 for _ in reader.frames())
        summary = reader.summary
    assert 20 <= count < 50
    assert summary.bad_packets > 0
    assert "undecodable packets skipped" in summary.problem()


def test_thumbnail_picker_spreads_evenly_and_stays_bounded():
    seen_max = 0
    picker = ThumbnailPicker(6, (16, 9), estimated_frames=None)
    for index in range(1000):
        value = index // 4  # the picture encodes its own index
        frame = make_frame(np.full((9, 16), value, np.uint8), "gray", index=index)
        picker.offer(frame)
        seen_max = max(seen_max, len(picker._candidates))
    assert seen_max <= 24
    picks = [int(image[0, 0, 0]) * 4 for image in picker.pick()]
    assert len(picks) == 6
    gaps = np.diff(picks)
    assert all(gaps > 100) and picks[0] < 200 and picks[-1] > 800


def test_thumbnail_picker_with_estimate_converts_few_frames():
    picker = ThumbnailPicker(6, (16, 9), estimated_frames=300)
    converted = 0
    for index in range(300):
        frame = make_frame(np.full((9, 16), index % 256, np.uint8), "gray", index=index)
        before = len(picker._candidates)
        picker.offer(frame)
        converted += len(picker._candidates) > before
    assert converted <= 20
    assert len(picker.pick()) == 6


def test_short_video_gets_one_thumbnail_per_frame():
    picker = ThumbnailPicker(6, (16, 9), estimated_frames=3)
    for index in range(3):
        picker.offer(make_frame(np.full((9, 16), index, np.uint8), "gray", index=index))
    assert len(picker.pick()) == 3


def test_thumbnail_size_fits_box_and_keeps_shape():
    assert thumbnail_size(1920, 1080) == (160, 90)
    assert thumbnail_size(1080, 1920) == (90, 160)
    assert thumbnail_size(1, 1) == (1, 1)
    assert thumbnail_size(720, 576, sample_aspect=64 / 45) == (160, 90)


def test_write_thumbnails_replaces_stale_files(tmp_path):
    folder = thumbnails_dir_for(tmp_path / "p1--r0.mp4")
    assert folder == tmp_path / "p1--r0.thumbs"
    images = [np.full((9, 16, 3), i * 40, np.uint8) for i in range(4)]
    write_thumbnails(folder, images)
    (folder / "notes.txt").write_text("keep me")
    written = write_thumbnails(folder, images[:2])
    assert written == thumbnail_paths(folder, 2)
    assert sorted(p.name for p in folder.iterdir()) == ["00.png", "01.png", "notes.txt"]
    assert np.array_equal(read_png(written[1]), images[1])
