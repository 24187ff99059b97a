"""Each built-in metric on clips with a known property, encoded by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.scorers.registry import BUILTIN_SCORERS
from workbench.scorers.scoring import score_video

from tests.test_scorers_clips import (
    HEIGHT, WIDTH, box_blur, encode_clip, fine_texture, moving_clip, panning, smooth_texture,
)

ALL = list(BUILTIN_SCORERS)


def scores(path, names=ALL, **kwargs) -> dict[str, float | None]:
    result = score_video(path, scorers=names, **kwargs)
    assert result.error is None, result.error
    return {s.name: s.value for s in result.scores}


def one(path, name, **kwargs):
    result = score_video(path, scorers=[name], **kwargs)
    (score,) = result.scores
    return score


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    return moving_clip(tmp_path_factory.mktemp("clips") / "moving.mp4", seconds=1.2)


def test_every_builtin_scores_an_ordinary_clip(moving):
    result = score_video(moving, scorers=ALL, requested={"duration": 1.2})
    assert [s.name for s in result.scores] == ALL
    for score in result.scores:
        assert score.error is None, (score.name, score.error)
        assert score.version == "1"
        assert np.isfinite(score.value)


def test_injected_flicker_scores_worse(tmp_path, moving):
    count = 30
    texture = smooth_texture(HEIGHT, WIDTH + 2 * count + 2, seed=0)
    frames = panning(texture, [2] * count)
    flickering = [(f.astype(np.int16) + (40 if i % 2 else -40)).clip(0, 255).astype(np.uint8)
                  for i, f in enumerate(frames)]
    steady = one(moving, "temporal_flicker").value
    flicker = one(encode_clip(tmp_path / "flicker.mp4", flickering), "temporal_flicker").value
    assert 0.0 <= flicker < steady <= 1.0
    assert steady - flicker > 0.08  # ~35 levels of extra change per frame on 0..255


def test_frozen_clip_scores_high_frozen_frames(tmp_path, moving):
    still = smooth_texture(HEIGHT, WIDTH, seed=4)
    frozen = one(encode_clip(tmp_path / "frozen.mp4", [still] * 30), "frozen_frames")
    assert frozen.value >= 0.95
    assert "frame pairs frozen" in frozen.detail
    assert one(moving, "frozen_frames").value <= 0.05


def test_half_frozen_clip(tmp_path):
    count = 30
    texture = smooth_texture(HEIGHT, WIDTH + 2 * count + 2, seed=1)
    shifts = [2 if i < 15 else 0 for i in range(count)]
    value = one(encode_clip(tmp_path / "stops.mp4", panning(texture, shifts)), "frozen_frames").value
    assert 0.4 <= value <= 0.6


def test_blurred_clip_is_less_sharp(tmp_path):
    sharp_frames = [fine_texture(HEIGHT, WIDTH, seed=i) for i in range(12)]
    blurred_frames = [box_blur(f, radius=2) for f in sharp_frames]
    sharp = one(encode_clip(tmp_path / "sharp.mp4", sharp_frames), "sharpness").value
    blurred = one(encode_clip(tmp_path / "blurred.mp4", blurred_frames), "sharpness").value
    assert sharp > 4 * blurred > 0


def test_black_clip(tmp_path):
    black = np.zeros((HEIGHT, WIDTH), np.uint8)
    got = scores(encode_clip(tmp_path / "black.mp4", [black] * 20))
    assert got["black_frames"] == 1.0
    assert got["brightness"] == pytest.approx(0.0, abs=0.01)
    assert got["clipped_shadows"] == pytest.approx(1.0)
    assert got["clipped_highlights"] == 0.0


def test_half_black_clip_counts_black_frames(tmp_path, moving):
    texture = smooth_texture(HEIGHT, WIDTH, seed=2)
    frames = [np.zeros_like(texture)] * 10 + [texture] * 10
    assert scores(encode_clip(tmp_path / "fade.mp4", frames))["black_frames"] == pytest.approx(0.5)
    assert one(moving, "black_frames").value == 0.0


def test_white_clip_is_clipped_in_highlights(tmp_path):
    white = np.full((HEIGHT, WIDTH), 255, np.uint8)
    got = scores(encode_clip(tmp_path / "white.mp4", [white] * 10))
    assert got["clipped_highlights"] == pytest.approx(1.0)
    assert got["brightness"] == pytest.approx(1.0, abs=0.01)
    assert got["black_frames"] == 0.0


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuvj420p"])
def test_brightness_is_range_aware(tmp_path, pix_fmt):
    grey = np.full((HEIGHT, WIDTH), 128, np.uint8)
    path = encode_clip(tmp_path / f"grey-{pix_fmt}.mp4", [grey] * 5, pix_fmt=pix_fmt)
    got = scores(path, ["brightness", "clipped_shadows", "clipped_highlights"])
    assert got["brightness"] == pytest.approx(128 / 255, abs=0.01)
    assert got["clipped_shadows"] == 0.0 and got["clipped_highlights"] == 0.0


def test_hard_cut_is_counted(tmp_path, moving):
    count = 25
    scene_a = panning(smooth_texture(HEIGHT, WIDTH + 60, seed=10), [1] * count)
    scene_b = panning((255 - smooth_texture(HEIGHT, WIDTH + 60, seed=11) // 2), [1] * count)
    cut = one(encode_clip(tmp_path / "cut.mp4", scene_a + scene_b), "scene_cuts")
    assert cut.value == 1.0
    assert "cuts at 1.00s" in cut.detail
    assert one(moving, "scene_cuts").value == 0.0


def test_two_cuts_and_a_flash(tmp_path):
    count = 20
    a = panning(smooth_texture(HEIGHT, WIDTH + 60, seed=20), [1] * count)
    b = panning(255 - smooth_texture(HEIGHT, WIDTH + 60, seed=21), [1] * count)
    c = panning(smooth_texture(HEIGHT, WIDTH + 60, seed=22) // 3, [1] * count)
    flash_at = 10
    a[flash_at] = np.full_like(a[flash_at], 255)  # a one-frame flash is not a cut
    assert one(encode_clip(tmp_path / "cuts.mp4", a + b + c), "scene_cuts").value == 2.0


def test_colourful_clip_beats_grey(tmp_path):
    stripes = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    palette = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255), (0, 255, 255)]
    for i, colour in enumerate(palette):
        stripes[:, i * WIDTH // 6:(i + 1) * WIDTH // 6] = colour
    grey = smooth_texture(HEIGHT, WIDTH, seed=5)
    colourful = one(encode_clip(tmp_path / "colour.mp4", [stripes] * 10), "colorfulness").value
    dull = one(encode_clip(tmp_path / "grey.mp4", [grey] * 10), "colorfulness").value
    assert colourful > 100
    assert dull < 5
    assert colourful > 10 * max(dull, 1)


def test_strong_8x8_blocking_scores_worse(tmp_path):
    frames = [fine_texture(HEIGHT, WIDTH, seed=i) for i in range(10)]
    blocky = []
    for frame in frames:
        h8, w8 = HEIGHT - HEIGHT % 8, WIDTH - WIDTH % 8
        blocks = frame[:h8, :w8].reshape(h8 // 8, 8, w8 // 8, 8).mean(axis=(1, 3))
        out = frame.copy()
        out[:h8, :w8] = np.kron(blocks, np.ones((8, 8))).round().astype(np.uint8)
        blocky.append(out)
    clean = one(encode_clip(tmp_path / "clean.mp4", frames), "blockiness").value
    bad = one(encode_clip(tmp_path / "blocky.mp4", blocky), "blockiness").value
    assert abs(clean) < 0.15
    assert bad > 1.0
    assert bad > clean + 1.0


def test_jerky_motion_scores_worse_than_smooth(tmp_path):
    count = 40
    texture = smooth_texture(HEIGHT, WIDTH + 4 * count + 10, seed=6)
    smooth = panning(texture, [2] * count)
    jerky = panning(texture, [0, 0, 0, 8] * (count // 4))  # same mean speed, stop-go
    smooth_jerk = one(encode_clip(tmp_path / "smooth.mp4", smooth), "motion_jerk").value
    jerky_jerk = one(encode_clip(tmp_path / "jerky.mp4", jerky), "motion_jerk").value
    assert smooth_jerk < 0.2
    assert jerky_jerk > 3 * smooth_jerk + 0.3


def test_motion_separates_still_from_moving(tmp_path, moving):
    still = smooth_texture(HEIGHT, WIDTH, seed=7)
    static = one(encode_clip(tmp_path / "still.mp4", [still] * 20), "motion").value
    moves = one(moving, "motion").value
    assert static < 0.01
    assert moves > 0.2


def test_compliance_all_met(moving):
    requested = {"duration": 1.2, "fps": 25, "resolution": "160x90", "aspect_ratio": "16:9"}
    score = one(moving, "compliance", requested=requested)
    assert score.value == 1.0
    assert score.detail.count("ok:") == 4 and "FAILED" not in score.detail


def test_compliance_none_met(moving):
    requested = {"duration": 8, "fps": 30, "resolution": "1280x720", "aspect_ratio": "4:3"}
    score = one(moving, "compliance", requested=requested)
    assert score.value == 0.0
    for word in ("duration", "fps", "resolution", "aspect ratio"):
        assert f"FAILED: {word}" in score.detail


def test_compliance_partly_met_and_ignores_unrequested(moving):
    score = one(moving, "compliance", requested={"duration": 1.0, "resolution": "320x180", "seed": 4,
                                                  "fps": None})
    assert score.value == 0.5  # 1.2 s is within 0.5 s of 1 s; the resolution is not
    assert "ok: duration" in score.detail and "FAILED: resolution 160x90" in score.detail


def test_compliance_with_nothing_requested(moving):
    assert one(moving, "compliance").value == 1.0
    assert one(moving, "compliance", requested={}).detail == "nothing requested"


def test_compliance_bad_request_is_an_error_with_reason(moving):
    score = one(moving, "compliance", requested={"resolution": "wide"})
    assert score.value is None
    assert "resolution 'wide'" in score.error


def test_one_frame_clip_gives_reasons_for_temporal_scorers(tmp_path):
    path = encode_clip(tmp_path / "single.mp4", [smooth_texture(HEIGHT, WIDTH)])
    result = score_video(path, scorers=ALL)
    by_name = {s.name: s for s in result.scores}
    assert by_name["decodes"].value == 1.0
    assert by_name["sharpness"].value > 0
    for name in ("temporal_flicker", "frozen_frames", "motion", "motion_jerk", "scene_cuts"):
        assert by_name[name].value is None
        assert "needs at least" in by_name[name].error
