"""The offline ``synthetic`` provider: determinism, prompt-driven content, request compliance, knobs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path

import av
import numpy as np
import pydantic
import pytest

from workbench.providers import synthetic as synthetic_module
from workbench.providers.base import GenerationRequest, PermanentError
from workbench.providers.registry import provider_class
from workbench.providers.synthetic import SyntheticParams, SyntheticProvider, clip_format
from workbench.providers.synthetic_scene import (
    Look,
    SceneRenderer,
    gaussian_blur,
    blur_radius,
    read_prompt,
)

# ---------------------------------------------------------------------------
# helpers


def request(prompt: str = "three red balls bouncing", seed: int = 1, **kw) -> GenerationRequest:
    return GenerationRequest(model_id="m", prompt_id="p1", prompt=prompt, seed=seed, **kw)


async def generate(tmp_path: Path, prompt: str = "three red balls bouncing", seed: int = 1,
                   name: str = "clip.mp4", req: dict | None = None, **params):
    provider = SyntheticProvider("m", SyntheticParams(**params))
    out = tmp_path / name
    result = await provider.generate(request(prompt, seed, **(req or {})), out)
    return out, result


def decode(path: Path) -> tuple[np.ndarray, dict]:
    """All frames (T x H x W x 3 uint8) and stream facts of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        facts = {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "rate": stream.average_rate,
            "container_duration": container.duration / 1e6 if container.duration else None,
        }
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return frames, facts


def render(prompt: str, look: Look | None = None, width: int = 160, height: int = 96,
           frames: int = 24, fps: int = 24, seed: int = 1) -> np.ndarray:
    """Frames straight from the renderer (no encoding), as float32 T x H x W x 3."""
    spec = read_prompt(prompt)
    renderer = SceneRenderer(spec, look or Look(), width, height, fps, frames,
                             scene_key=f"scene-{seed}", look_key=f"look-{seed}")
    return np.stack(list(renderer.frames_rgb())).astype(np.float32)


def luma(frames: np.ndarray) -> np.ndarray:
    return frames @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def laplacian_variance(gray: np.ndarray) -> float:
    lap = (-4 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1]
           + gray[1:-1, :-2] + gray[1:-1, 2:])
    return float(lap.var())


def count_blobs(mask: np.ndarray) -> int:
    """Connected regions (4-neighbour) of a boolean mask, by label propagation."""
    labels = np.where(mask, np.arange(mask.size).reshape(mask.shape) + 1, 0)
    big = mask.size + 10
    while True:
        padded = np.pad(np.where(mask, labels, big), 1, constant_values=big)
        neighbours = np.minimum.reduce([
            padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]])
        new = np.where(mask, neighbours, 0)
        if np.array_equal(new, labels):
            return len(np.unique(labels[mask]))
        labels = new


def bright_centroids(frames: np.ndarray, threshold: float = 170.0) -> np.ndarray:
    """Per-frame centroid (x, y) of bright pixels: tracks a single glowing object."""
    out = []
    for gray in luma(frames):
        ys, xs = np.nonzero(gray > threshold)
        out.append((xs.mean(), ys.mean()))
    return np.asarray(out)


ORB = "one glowing white ball drifting at night"
STILL = "a still red cube on a table"

# ---------------------------------------------------------------------------
# parameters


def test_registry_maps_synthetic_to_this_provider():
    cls = provider_class("synthetic")
    assert cls is SyntheticProvider
    assert cls.name == "synthetic"
    assert cls.Params is SyntheticParams
    assert not cls.remote


def test_params_defaults_and_resolution_shorthand():
    params = SyntheticParams()
    assert (params.width, params.height, params.fps, params.duration) == (320, 180, 24, 2.0)
    assert params.noise == params.blur == params.flicker == params.failure_rate == 0
    assert SyntheticParams(resolution="640x360").width == 640
    assert SyntheticParams.model_validate({"resolution": "640x360"}).height == 360


@pytest.mark.parametrize("bad, where", [
    ({"noise": -1}, "noise"),
    ({"blur": 25}, "blur"),
    ({"flicker": 1.5}, "flicker"),
    ({"frozen_ratio": -0.1}, "frozen_ratio"),
    ({"failure_rate": 2}, "failure_rate"),
    ({"width": 0}, "width"),
    ({"resolution": "0x0"}, "width"),
    ({"resolution": "big"}, "WIDTHxHEIGHT"),
    ({"resolution": "640x360", "width": 640}, "not both"),
    ({"width": 4000}, "max_width"),
    ({"duration": 30}, "max_duration"),
    ({"nosie": 3}, "nosie"),
])
def test_bad_params_are_rejected_with_the_field_named(bad, where):
    with pytest.raises(pydantic.ValidationError) as info:
        SyntheticParams(**bad)
    assert where in str(info.value)


# ---------------------------------------------------------------------------
# determinism and the output file


async def test_same_inputs_give_byte_identical_files_and_seed_changes_them(tmp_path):
    knobs = dict(noise=4.0, blur=0.8, flicker=0.05, frozen_ratio=0.1, motion_jerk=0.5)
    a, ra = await generate(tmp_path, seed=7, name="a.mp4", **knobs)
    b, rb = await generate(tmp_path, seed=7, name="b.mp4", **knobs)
    c, rc = await generate(tmp_path, seed=8, name="c.mp4", **knobs)
    d, rd = await generate(tmp_path, seed=7, name="d.mp4", **{**knobs, "noise": 5.0})
    e, _ = await generate(tmp_path, seed=7, name="e.mp4", **{**knobs, "max_duration": 10.0})
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b, c, d, e)}
    assert digest[a] == digest[b]
    assert digest[a] == digest[e]  # a cap that does not bite changes nothing
    assert digest[a] != digest[c]
    assert digest[a] != digest[d]
    assert ra.job_id == rb.job_id and ra.job_id.startswith("synthetic-")
    assert len({ra.job_id, rc.job_id, rd.job_id}) == 3
    assert ra.cost is None


async def test_output_is_h264_yuv420p_mp4_with_the_info_it_reports(tmp_path):
    out, result = await generate(tmp_path)
    frames, facts = decode(out)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert result.info["encoder"] in ("libx264", "h264")
    info = result.info
    assert (info["width"], info["height"], info["fps"], info["frames"]) == (320, 180, 24, 48)
    assert info["duration"] == pytest.approx(2.0)
    assert frames.shape == (48, 180, 320, 3)
    assert info["adjustments"] == []
    json.dumps(info)  # stored beside the video as JSON
    assert info["scene"]["objects"] == 3 and info["scene"]["colours"] == ["red"]
    assert not list(tmp_path.glob(".*tmp"))  # atomic write left no temp file behind


async def test_scene_is_the_same_across_models_only_faults_differ(tmp_path):
    """Two models with the same prompt and seed draw the same layout (fair comparison)."""
    spec = read_prompt(ORB)
    clean = np.stack(list(SceneRenderer(spec, Look(), 160, 96, 24, 12, "scene", "look-a").frames_rgb()))
    shaky = np.stack(list(SceneRenderer(spec, Look(flicker=0.2), 160, 96, 24, 12, "scene", "look-b")
                          .frames_rgb()))
    # Flicker only scales each frame's brightness: shaky = gain * clean, up to rounding.
    for a, b in zip(clean.astype(np.float32), shaky.astype(np.float32)):
        keep = (a < 200) & (b < 250)
        gain = (a[keep] * b[keep]).sum() / (a[keep] ** 2).sum()
        assert np.abs(b[keep] - gain * a[keep]).max() < 1.5
    # A different seed is a different scene.
    other = np.stack(list(SceneRenderer(spec, Look(), 160, 96, 24, 12, "scene-2", "look-a").frames_rgb()))
    assert np.abs(other.astype(np.float32) - clean).mean() > 1.0


# ---------------------------------------------------------------------------
# prompt words drive the content


def test_read_prompt_words():
    spec = read_prompt("Five golden cubes spinning fast at night")
    assert spec.objects == 5 and spec.colour_words == ("golden",)
    assert spec.shape == "square" and spec.motion == "spin" and spec.speed > 1
    assert spec.light < 0.5
    assert read_prompt("7 birds").objects == 7
    assert read_prompt("a street in 1920, still").motion == "still"
    assert read_prompt("a street in 1920, still").objects <= 3  # a year is not a count
    assert read_prompt("rain falling slowly").motion == "fall"
    assert read_prompt("rain falling slowly").speed < 1
    assert read_prompt("neon signs").colour_words == ("neon",) and read_prompt("neon signs").emissive
    assert read_prompt("red and blue balls", negative_prompt="blue").colour_words == ("red",)
    assert read_prompt("a montage of city shots").cuts >= 1
    assert read_prompt("a drone flyover of hills").pan
    # Same text, same spec; the hash picks a default count for prompts without one.
    assert read_prompt("a quiet lake") == read_prompt("a  quiet   lake")
    assert 1 <= read_prompt("a quiet lake").objects <= 3


def test_colour_words_set_the_colour():
    red = render("a red balloon, still").reshape(-1, 3).mean(axis=0)
    blue = render("a blue balloon, still").reshape(-1, 3).mean(axis=0)
    assert red[0] - red[2] > 30
    assert blue[2] - blue[0] > 30


def test_number_words_set_the_object_count():
    for prompt, expected in [("three glowing white orbs at night, still", 3),
                             ("one glowing white orb at night, still", 1),
                             ("6 glowing white orbs at night, still", 6)]:
        frame = render(prompt, width=320, height=180, frames=2)[0]
        assert count_blobs(luma(frame) > 200) == expected, prompt


def test_low_light_words_darken_the_scene():
    day = luma(render("a red cube on a table")).mean()
    night = luma(render("a red cube on a table at night")).mean()
    candle = luma(render("a red cube in candle light")).mean()
    assert night < 0.5 * day
    assert read_prompt("a red cube in candle light").light < 0.5
    assert candle < 0.75 * day  # darker overall, though the candle-lit objects glow


def test_motion_words_set_the_amount_of_motion():
    def motion(prompt: str) -> float:
        return float(np.abs(np.diff(luma(render(prompt)), axis=0)).mean())

    still, slow, normal, fast = (motion(p) for p in (
        "two red balls, still", "two red balls drifting slowly", "two red balls", "two red balls racing fast"))
    assert still == 0.0
    assert slow < normal < fast


def test_montage_has_hard_cuts():
    frames = luma(render("a montage of golden cubes", frames=48))
    diffs = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))
    assert read_prompt("a montage of golden cubes").cuts >= 1
    assert diffs.max() > 8 * np.median(diffs)


# ---------------------------------------------------------------------------
# request compliance


async def test_requested_duration_fps_and_resolution_are_honoured(tmp_path):
    out, result = await generate(tmp_path, req=dict(duration=1.5, fps=12, resolution="256x144"))
    frames, facts = decode(out)
    assert frames.shape == (18, 144, 256, 3)
    assert facts["rate"] == 12
    assert facts["container_duration"] == pytest.approx(1.5, abs=0.1)
    assert result.info["duration"] == pytest.approx(1.5)
    assert result.info["requested"]["resolution"] == "256x144"


async def test_aspect_ratio_keeps_the_default_pixel_count(tmp_path):
    out, result = await generate(tmp_path, req=dict(aspect_ratio="9:16", duration=0.25))
    frames, _ = decode(out)
    height, width = frames.shape[1:3]
    assert height > width and width % 2 == 0 and height % 2 == 0
    assert width / height == pytest.approx(9 / 16, rel=0.02)
    assert width * height == pytest.approx(320 * 180, rel=0.02)


async def test_odd_resolution_is_rounded_to_even_and_said_so(tmp_path):
    out, result = await generate(tmp_path, req=dict(resolution="161x91", duration=0.25))
    frames, _ = decode(out)
    assert frames.shape[1:3] == (92, 162)
    assert any("rounded to 162x92" in note for note in result.info["adjustments"])
    # Never past a cap: an odd size at an odd cap rounds down.
    fmt = clip_format(request(resolution="161x91"), SyntheticParams(width=160, height=90, max_width=161, max_height=161))
    assert (fmt.width, fmt.height) == (160, 92)


def test_caps_clamp_and_are_reported():
    params = SyntheticParams(duration=1.0, max_duration=1.0, max_fps=30, max_width=640, max_height=360)
    fmt = clip_format(request(duration=3.0, fps=60, resolution="1280x720"), params)
    assert (fmt.width, fmt.height, fmt.fps, fmt.frames) == (640, 360, 30, 30)
    text = " ".join(fmt.adjustments)
    assert "max_duration" in text and "max_fps" in text and "640x360" in text


@pytest.mark.parametrize("bad, words", [
    (dict(resolution="0x0"), "too small"),
    (dict(resolution="wide"), "WIDTHxHEIGHT"),
    (dict(aspect_ratio="banana"), "W:H"),
    (dict(duration=-1.0), "duration"),
    (dict(fps=0), "fps"),
])
async def test_unusable_requests_fail_permanently_with_a_clear_message(tmp_path, bad, words):
    with pytest.raises(PermanentError, match=words):
        await generate(tmp_path, req=bad)
    assert not (tmp_path / "clip.mp4").exists()


# ---------------------------------------------------------------------------
# quality knobs, each in its expected direction


def test_noise_raises_high_frequency_energy():
    def hf(frames: np.ndarray) -> float:
        gray = luma(frames)
        return float(np.abs(np.diff(gray, axis=2)).mean())

    clean, grainy = render(STILL), render(STILL, Look(noise=8))
    assert hf(grainy) > hf(clean) + 3
    assert abs(luma(grainy).mean() - luma(clean).mean()) < 1.0  # grain is zero-mean


def test_blur_lowers_laplacian_variance():
    values = [np.mean([laplacian_variance(g) for g in luma(render(STILL, Look(blur=b)))[::6]])
              for b in (0.0, 0.8, 2.0)]
    assert values[0] > values[1] > values[2]
    assert values[2] < 0.3 * values[0]


@pytest.mark.parametrize("prompt", ["two red balls drifting", "twenty red balls drifting",
                                    "three glowing lanterns drifting at night"])
def test_fast_blur_equals_blurring_the_whole_frame(prompt):
    """The renderer blurs the background once per shot and the objects in patches."""
    spec = read_prompt(prompt)
    sigma = 1.3
    sharp = SceneRenderer(spec, Look(), 160, 96, 24, 6, "s", "l")
    soft = SceneRenderer(spec, Look(blur=sigma), 160, 96, 24, 6, "s", "l")
    rad = blur_radius(sigma)
    for a, b in zip(sharp.frames_planar(), soft.frames_planar()):
        expected = gaussian_blur(a, sigma)
        # Near the frame's edges the background was blurred with what lies beyond them.
        assert np.abs(expected - b)[:, rad:-rad, rad:-rad].max() < 1e-3


def test_flicker_raises_frame_to_frame_brightness_changes():
    def jumps(look: Look) -> float:
        means = luma(render(STILL, look)).mean(axis=(1, 2))
        return float(np.abs(np.diff(means)).mean())

    assert jumps(Look()) == 0.0
    assert jumps(Look(flicker=0.02)) > 0.3
    assert jumps(Look(flicker=0.1)) > 3 * jumps(Look(flicker=0.02))


async def test_frozen_ratio_repeats_frames_also_after_encoding(tmp_path):
    frames = render(ORB, Look(frozen_ratio=0.25, noise=3), frames=41)
    diffs = np.abs(np.diff(frames, axis=0)).max(axis=(1, 2, 3))
    assert int((diffs == 0).sum()) == 10  # round(0.25 * 40), exact duplicates
    out, result = await generate(tmp_path, ORB, frozen_ratio=0.25, noise=3, variation=0.0,
                                 req=dict(duration=1.0))
    decoded, _ = decode(out)
    mean_diffs = np.abs(np.diff(decoded.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))
    assert result.info["frozen_frames"] == 6  # round(0.25 * 23)
    assert int((mean_diffs < 0.25).sum()) == 6


def test_drop_ratio_makes_motion_jump():
    def big_steps(look: Look) -> int:
        steps = np.linalg.norm(np.diff(bright_centroids(render(ORB, look, frames=48)), axis=0), axis=1)
        return int((steps > 1.6 * np.median(steps)).sum())

    assert big_steps(Look()) <= 1
    assert big_steps(Look(drop_ratio=0.2)) >= 5


def test_motion_speed_scales_motion():
    def median_step(look: Look) -> float:
        c = bright_centroids(render(ORB, look, frames=24))
        return float(np.median(np.linalg.norm(np.diff(c, axis=0), axis=1)))

    base, double = median_step(Look()), median_step(Look(motion_speed=2.0))
    assert double == pytest.approx(2 * base, rel=0.15)
    assert median_step(Look(motion_speed=0.0)) < 0.05


def test_motion_jerk_adds_random_acceleration():
    def jerk(look: Look) -> float:
        c = bright_centroids(render(ORB, look, frames=48))
        return float(np.median(np.linalg.norm(np.diff(c, n=2, axis=0), axis=1)))

    smooth, jerky = jerk(Look()), jerk(Look(motion_jerk=1.0))
    assert smooth < 0.3
    assert jerky > 1.0


def test_blockiness_creates_8x8_edges():
    def edge_ratio(frames: np.ndarray) -> float:
        d = np.abs(np.diff(luma(frames), axis=2))  # d[..., x] is between columns x and x+1
        boundary = d[..., 7::8].mean()
        inside = np.delete(d, np.s_[7::8], axis=2).mean()
        return float(boundary / inside)

    clean, blocky = render(STILL), render(STILL, Look(blockiness=0.8))
    assert edge_ratio(clean) < 1.3
    assert edge_ratio(blocky) > 2 * edge_ratio(clean)


def test_exposure_shifts_brightness_and_clips_highlights():
    base = luma(render(STILL))
    bright = luma(render(STILL, Look(exposure=1.5)))
    dark = luma(render(STILL, Look(exposure=-1.0)))
    assert dark.mean() < base.mean() < bright.mean()
    clipped = lambda frames: (frames.max(axis=-1) >= 254).mean()  # noqa: E731
    assert clipped(render(STILL, Look(exposure=1.5))) > clipped(render(STILL)) + 0.2


def test_variation_spreads_fault_strength_per_clip():
    spec = read_prompt("a red cube")
    look = Look(noise=10, flicker=0.1, variation=0.5)
    strengths = {look.for_clip(spec, f"clip-{i}").noise for i in range(20)}
    assert len(strengths) == 20 and min(strengths) >= 5 and max(strengths) <= 15
    assert Look(noise=10, variation=0.0).for_clip(spec, "any").noise == 10
    # Low light makes grain worse, as on a real sensor.
    night = read_prompt("a red cube at night")
    assert Look(noise=10).for_clip(night, "k").noise > 10


# ---------------------------------------------------------------------------
# failures, latency, the event loop


async def test_failure_rate_one_always_fails(tmp_path):
    for seed in range(5):
        with pytest.raises(PermanentError, match="synthetic failure"):
            await generate(tmp_path, seed=seed, failure_rate=1.0)
    assert not (tmp_path / "clip.mp4").exists()


def test_failure_rate_picks_a_stable_fraction_of_prompt_seed_pairs():
    provider = SyntheticProvider("m", SyntheticParams(failure_rate=0.3))
    pairs = [(f"prompt {k}", seed) for k in range(40) for seed in range(5)]
    fails = [provider.fails(request(p, s)) for p, s in pairs]
    assert fails == [provider.fails(request(p, s)) for p, s in pairs]
    assert 0.2 < np.mean(fails) < 0.4
    # A lower rate fails a subset of the same pairs.
    lower = SyntheticProvider("m", SyntheticParams(failure_rate=0.1))
    assert all(f for f, g in zip(fails, (lower.fails(request(p, s)) for p, s in pairs)) if g)
    assert not any(SyntheticProvider("m", SyntheticParams()).fails(request(p, s)) for p, s in pairs)


async def test_latency_is_awaited(tmp_path, monkeypatch):
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float, *args, **kwargs):
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(synthetic_module.asyncio, "sleep", fake_sleep)
    await generate(tmp_path, latency=12.5, req=dict(duration=0.25))
    assert slept == [12.5]


async def test_rendering_leaves_the_event_loop_free(tmp_path):
    ticks = 0
    done = asyncio.Event()

    async def ticker():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await generate(tmp_path, req=dict(duration=1.0))  # no latency: only the render to wait for
    done.set()
    await task
    assert ticks > 10  # rendered on the loop itself, the ticker would run once or twice


async def test_render_time_of_a_default_clip_is_printed(tmp_path, capsys):
    """Not a timed test: prints the figure for the record (run with -s to see it)."""
    await generate(tmp_path, name="warm.mp4")
    started = time.perf_counter()
    await generate(tmp_path, "two dogs running on a sunny beach", noise=1, blur=1.0, flicker=0.03)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nsynthetic: 2 s 320x180 24 fps clip rendered and encoded in {elapsed:.3f} s")
