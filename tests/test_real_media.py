"""Every file in /work/shared/media, and damaged copies of them, gets scores or reasons."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from workbench.media.png import read_png
from workbench.scorers.batch import ScoreJob, score_videos
from workbench.scorers.registry import BUILTIN_SCORERS
from workbench.scorers.scoring import score_video

try:
    from test_scorers_clips import encode_audio_only, encode_clip, moving_clip, smooth_texture
except ImportError:  # tests/ imported as a package
    from tests.test_scorers_clips import encode_audio_only, encode_clip, moving_clip, smooth_texture

MEDIA = Path("/work/shared/media")
REAL_FILES = sorted(p.name for p in MEDIA.iterdir() if p.suffix != ".md")
ALL = list(BUILTIN_SCORERS)
# The 1x1 clip cannot hold a 3x3 Laplacian or an 8x8 block grid.
EXPECTED_ERRORS = {"test_video.mp4": {"sharpness": "too small", "blockiness": "too small"}}


def assert_complete(result, names=ALL):
    """Every requested scorer is present with a finite value or a non-empty reason."""
    assert [s.name for s in result.scores] == names
    for score in result.scores:
        if score.value is None:
            assert score.error and score.error.strip(), score
        else:
            assert np.isfinite(score.value) and score.error is None, score


def test_the_corpus_is_there():
    assert len(REAL_FILES) >= 12


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_is_scored(tmp_path, name):
    video = tmp_path / name
    shutil.copyfile(MEDIA / name, video)
    thumbs = tmp_path / f"{video.stem}.thumbs"
    result = score_video(video, scorers=ALL, requested={"duration": 5, "aspect_ratio": "16:9"},
                         thumbnails_dir=thumbs)
    assert result.error is None
    assert len(result.sha256) == 64
    assert_complete(result)
    expected = EXPECTED_ERRORS.get(name, {})
    for score in result.scores:
        if score.name in expected:
            assert expected[score.name] in score.error
        else:
            assert score.value is not None, (score.name, score.error)
    assert result.value("decodes") == 1.0
    assert 0 < len(result.thumbnails) <= 6
    for path in result.thumbnails:
        image = read_png(path)
        assert image.shape[1] <= 160 and image.shape[0] <= 160


def test_known_properties_of_real_files():
    def get(name, scorers, **kwargs):
        result = score_video(MEDIA / name, scorers=scorers, **kwargs)
        return {s.name: s.value for s in result.scores}

    # the container claims no duration; the decode pass measures ~3.1 s
    assert get("test.webm", ["compliance"], requested={"duration": 3})["compliance"] == 1.0
    # a 1080p test pattern barely moves and is vivid; old film footage is black and white
    smpte = get("smpte-2997.mp4", ["motion", "colorfulness", "scene_cuts"])
    assert smpte["motion"] < 0.05 and smpte["colorfulness"] > 50 and smpte["scene_cuts"] == 0
    assert get("chaplin.mp4", ["colorfulness"])["colorfulness"] < 2
    # 4:4:4 chroma and no duration in the container are no obstacle
    assert get("cockatoo.mp4", ["compliance"], requested={"resolution": "1280x720", "fps": 20})["compliance"] == 1.0
    assert get("no_duration.webm", ["compliance"], requested={"duration": 5})["compliance"] == 1.0


def corrupted_copies(tmp_path: Path) -> dict[str, Path]:
    files = {}
    source = (MEDIA / "chaplin.mp4").read_bytes()
    files["truncated.mp4"] = tmp_path / "truncated.mp4"
    files["truncated.mp4"].write_bytes(source[: len(source) // 2])
    files["zero.mp4"] = tmp_path / "zero.mp4"
    files["zero.mp4"].write_bytes(b"")
    files["random.mp4"] = tmp_path / "random.mp4"
    files["random.mp4"].write_bytes(np.random.default_rng(1).integers(0, 256, 65536, dtype=np.uint8).tobytes())
    webm = (MEDIA / "test.webm").read_bytes()
    files["truncated.webm"] = tmp_path / "truncated.webm"
    files["truncated.webm"].write_bytes(webm[: len(webm) // 3])
    files["audio.m4a"] = encode_audio_only(tmp_path / "audio.m4a")
    files["10bit.mp4"] = moving_clip(tmp_path / "10bit.mp4", seconds=1.0, pix_fmt="yuv420p10le")
    files["444.mp4"] = moving_clip(tmp_path / "444.mp4", seconds=1.0, pix_fmt="yuv444p")
    files["gray-ffv1.mkv"] = encode_clip(tmp_path / "gray-ffv1.mkv", [smooth_texture(90, 160, s) for s in range(8)],
                                         codec="ffv1", pix_fmt="gray", lossless=False)
    files["rgb-alpha.mkv"] = encode_clip(tmp_path / "rgb-alpha.mkv", [smooth_texture(90, 160, s) for s in range(8)],
                                         codec="ffv1", pix_fmt="bgra", lossless=False)
    return files


NOT_VIDEOS = {"truncated.mp4", "zero.mp4", "random.mp4", "audio.m4a"}


def test_corrupted_and_unusual_files(tmp_path):
    files = corrupted_copies(tmp_path)
    for name, path in files.items():
        result = score_video(path, scorers=ALL, requested={"duration": 1}, thumbnails_dir=tmp_path / f"{name}.t")
        assert_complete(result)
        if name in NOT_VIDEOS:
            assert result.error and result.error.startswith("not a video: "), name
            assert result.value("decodes") == 0.0
            assert result.get("decodes").detail == result.error
            assert all(s.error == result.error for s in result.scores if s.name != "decodes")
            assert result.thumbnails == []
        else:
            assert result.error is None, (name, result.error)
            assert result.value("decodes") == 1.0
            assert result.value("brightness") is not None
            assert result.thumbnails
    assert "audio only" in score_video(files["audio.m4a"], scorers=["decodes"]).error


def test_batch_over_everything_never_raises(tmp_path):
    files = list(corrupted_copies(tmp_path).values())
    files += [MEDIA / "test_video.mp4", MEDIA / "transparent.webm", tmp_path / "missing.mp4"]
    jobs = [ScoreJob(path=p, key=p.name) for p in files]
    seen = []
    results = score_videos(jobs, scorers=ALL, cache_dir=tmp_path / "cache", workers=2,
                           on_result=lambda job, scores: seen.append(job.key))
    assert sorted(seen) == sorted(p.name for p in files)
    assert [job.key for job, _ in results] == [p.name for p in files]
    for job, result in results:
        assert_complete(result)
    missing = results[-1][1]
    assert missing.error.startswith("not a video: cannot read the file")
