"""Procedural scenes for the ``synthetic`` provider: prompt words in, RGB frames out.

The prompt decides *what* is on screen (:func:`read_prompt`): colour words pick
the palette, number words the object count, motion words the trajectories,
low-light words the exposure, and a stable hash of the text everything else
(background hues, texture, layout). :class:`Look` holds the degradations a
model adds on top (grain, blur, flicker, frozen and dropped frames, jerky
motion, 8x8 blocking, exposure), so two models asked for the same prompt and
seed show the same scene with different faults.

Everything is deterministic: randomness comes from generators seeded with
SHA-256 digests of the inputs, never from global state.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np

# ---------------------------------------------------------------------------
# Stable randomness


def stable_digest(*parts: object) -> bytes:
    """SHA-256 of the parts joined by a separator that cannot occur in ``str(int)``."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).digest()


def stable_unit(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts``."""
    return int.from_bytes(stable_digest(*parts)[:8], "big") / 2.0**64


def stable_rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(stable_digest(*parts)[:16], "big"))


# ---------------------------------------------------------------------------
# Prompt reading

RGB = tuple[float, float, float]

COLOURS: dict[str, RGB] = {
    "red": (220, 40, 40), "crimson": (200, 20, 60), "scarlet": (250, 40, 10),
    "maroon": (128, 10, 20), "orange": (255, 140, 0), "amber": (255, 190, 0),
    "yellow": (250, 220, 40), "gold": (255, 200, 60), "golden": (255, 200, 60),
    "green": (40, 180, 60), "emerald": (20, 160, 100), "lime": (150, 230, 40),
    "olive": (128, 128, 20), "teal": (0, 128, 128), "cyan": (0, 210, 230),
    "turquoise": (64, 224, 208), "aqua": (40, 230, 230), "blue": (40, 80, 220),
    "navy": (20, 30, 120), "azure": (0, 127, 255), "cobalt": (0, 71, 171),
    "indigo": (75, 0, 130), "purple": (140, 50, 180), "violet": (150, 80, 230),
    "lavender": (180, 160, 230), "magenta": (230, 30, 200), "pink": (255, 120, 180),
    "rose": (240, 80, 120), "white": (240, 240, 240), "silver": (192, 192, 200),
    "grey": (128, 128, 128), "gray": (128, 128, 128), "black": (20, 20, 20),
    "brown": (130, 80, 40), "copper": (184, 115, 51), "bronze": (205, 127, 50),
    "beige": (225, 210, 170),
}
COLOUR_GROUPS: dict[str, tuple[RGB, ...]] = {
    "neon": ((255, 20, 150), (0, 255, 230), (180, 255, 0)),
    "rainbow": ((230, 30, 30), (255, 150, 0), (250, 230, 40), (40, 190, 60), (40, 90, 230), (140, 50, 200)),
    "sunset": ((255, 120, 30), (240, 80, 120), (120, 50, 150)),
}
# Nouns that suggest a colour when the prompt names none.
COLOUR_HINTS: dict[str, str] = {
    "fire": "orange", "flame": "orange", "flames": "orange", "lava": "red",
    "ocean": "blue", "sea": "blue", "sky": "azure", "water": "azure",
    "forest": "green", "grass": "green", "jungle": "emerald", "leaves": "green",
    "snow": "white", "ice": "cyan", "desert": "beige", "sand": "beige",
    "sun": "yellow", "gold": "gold", "blood": "crimson",
}
PASTEL_WORDS = {"pastel", "pale", "soft", "faded"}

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "twenty": 20, "dozen": 12,
}
QUANTITY_WORDS: dict[str, int] = {
    "single": 1, "lone": 1, "solitary": 1, "alone": 1, "pair": 2, "couple": 2,
    "twins": 2, "both": 2, "few": 3, "several": 5, "some": 4, "many": 10,
    "crowd": 14, "swarm": 16, "flock": 12, "herd": 10, "school": 12,
    "dozens": 18, "lots": 10, "fireflies": 14, "stars": 16, "rain": 18,
    "raindrops": 18, "snowflakes": 18, "confetti": 20, "bubbles": 10,
}
# "zero" or "no <plural>" empties the scene (see _count); a lone "no" is not a count.

FAST_WORDS = {"fast", "quick", "quickly", "rapid", "rapidly", "racing", "race", "running",
              "run", "runs", "rushing", "speeding", "sprinting", "chase", "chasing", "dash",
              "frantic", "hurried", "zooming", "whizzing", "explosion", "exploding"}
SLOW_WORDS = {"slow", "slowly", "gentle", "gently", "drifting", "drift", "calm", "lazy",
              "leisurely", "gradual", "gradually", "floating", "serene"}
STILL_WORDS = {"still", "static", "motionless", "stationary", "frozen", "sleeping",
               "portrait", "tripod", "unmoving"}
FALL_WORDS = {"falling", "fall", "falls", "dropping", "drop", "drops", "rain", "raining",
              "raindrops", "snowing", "snowflakes", "cascading", "waterfall", "sinking", "plunging"}
RISE_WORDS = {"rising", "rise", "rises", "ascending", "floating", "balloon", "balloons",
              "bubbles", "smoke", "launching", "lifting"}
SPIN_WORDS = {"spinning", "spin", "spins", "rotating", "rotate", "swirling", "swirl",
              "orbiting", "orbit", "whirling", "vortex", "circling", "twirling", "dancing"}
BOUNCE_WORDS = {"bouncing", "bounce", "bounces", "jumping", "jump", "jumps", "hopping",
                "juggling", "dribbling"}
PAN_WORDS = {"pan", "panning", "pans", "tracking", "dolly", "flyover", "drone", "aerial",
             "traveling", "travelling", "train", "driving"}
CUT_WORDS = {"montage", "cuts", "cut", "sequence", "compilation", "intercut", "flashback"}
DARK_WORDS = {"night", "nighttime", "dark", "darkness", "candle", "candles", "candlelit",
              "candlelight", "moonlight", "moonlit", "midnight", "unlit", "cave", "underground",
              "blackout", "noir", "starry"}
DIM_WORDS = {"dim", "dimly", "dusk", "twilight", "shadow", "shadows", "shadowy", "overcast",
             "foggy", "fog", "gloomy", "evening", "murky", "low-light"}
BRIGHT_WORDS = {"bright", "sunny", "sunlit", "noon", "daylight", "overexposed", "snow",
                "beach", "glaring", "dazzling", "white-out"}
EMISSIVE_WORDS = {"candle", "candles", "candlelit", "neon", "lantern", "lanterns", "fire",
                  "flame", "flames", "firefly", "fireflies", "glow", "glowing", "lamp", "lamps",
                  "stars", "starry", "fireworks", "sparkler", "led", "lights", "bioluminescent"}
SQUARE_WORDS = {"box", "boxes", "cube", "cubes", "block", "blocks", "building", "buildings",
                "window", "windows", "crate", "crates", "dice", "brick", "bricks", "screen"}
ELLIPSE_WORDS = {"car", "cars", "fish", "bird", "birds", "plane", "planes", "boat", "boats",
                 "leaf", "leaves", "egg", "eggs", "train", "cloud", "clouds", "dog", "dogs",
                 "cat", "cats", "horse", "horses", "person", "people"}

_TOKEN = re.compile(r"[a-z0-9][a-z0-9'-]*")


@dataclass(frozen=True)
class SceneSpec:
    """What a prompt asks to see, in the renderer's terms."""

    text_key: str  # hex digest of the normalised prompt text
    palette: tuple[RGB, ...]  # object colours (0..255); empty -> hues from the hash
    colour_words: tuple[str, ...]
    objects: int
    shape: str  # circle | square | ellipse
    motion: str  # drift | still | fall | rise | spin | bounce
    speed: float  # multiplier from motion words
    pan: bool
    cuts: int  # hard scene cuts inside the clip
    light: float  # brightness multiplier from light words
    emissive: bool  # objects give light (keep their brightness in the dark)

    def describe(self) -> dict[str, object]:
        return {
            "objects": self.objects,
            "colours": list(self.colour_words),
            "shape": self.shape,
            "motion": self.motion,
            "speed": self.speed,
            "camera_pan": self.pan,
            "cuts": self.cuts,
            "light": self.light,
            "emissive": self.emissive,
        }


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _palette(tokens: list[str], banned: set[str]) -> tuple[tuple[RGB, ...], tuple[str, ...]]:
    colours: list[RGB] = []
    names: list[str] = []
    for word in tokens:
        if word in banned:
            continue
        if word in COLOUR_GROUPS and word not in names:
            colours.extend(COLOUR_GROUPS[word])
            names.append(word)
        elif word in COLOURS and word not in names:
            colours.append(COLOURS[word])
            names.append(word)
    if not colours:
        for word in tokens:
            hint = COLOUR_HINTS.get(word)
            if hint and hint not in banned and hint not in names:
                colours.append(COLOURS[hint])
                names.append(hint)
    if colours and PASTEL_WORDS & set(tokens):
        colours = [tuple(c + (255 - c) * 0.5 for c in rgb) for rgb in colours]  # type: ignore[misc]
    return tuple(colours), tuple(names)


def _count(tokens: list[str], text_key: str, cap: int) -> int:
    for i, word in enumerate(tokens):
        if word.isdigit() and len(word) <= 3 and int(word) <= 100:
            return min(int(word), cap)
        if word in NUMBER_WORDS and word != "no":
            return min(NUMBER_WORDS[word], cap)
        if word == "no" and i + 1 < len(tokens) and tokens[i + 1].endswith("s"):
            return 0
    for word in tokens:
        if word in QUANTITY_WORDS:
            return min(QUANTITY_WORDS[word], cap)
    return min(1 + int(stable_unit(text_key, "count") * 3), cap)


def read_prompt(prompt: str, negative_prompt: str | None = None, max_objects: int = 24) -> SceneSpec:
    """Turn prompt words into a :class:`SceneSpec` (pure; same text -> same spec)."""
    normalised = " ".join(prompt.split())
    text_key = stable_digest("prompt", normalised, "negative", negative_prompt or "").hex()
    tokens = _tokens(normalised)
    words = set(tokens)
    banned = {w for w in _tokens(negative_prompt or "") if w in COLOURS or w in COLOUR_GROUPS}
    palette, names = _palette(tokens, banned)

    if words & STILL_WORDS:
        motion, speed = "still", 0.0
    else:
        speed = 1.0
        if words & FAST_WORDS:
            speed = 2.5
        elif words & SLOW_WORDS:
            speed = 0.4
        motion = "drift"
        for kind, vocab in (("spin", SPIN_WORDS), ("bounce", BOUNCE_WORDS),
                            ("fall", FALL_WORDS), ("rise", RISE_WORDS)):
            if words & vocab:
                motion = kind
                break

    if words & DARK_WORDS:
        light = 0.3
    elif words & DIM_WORDS:
        light = 0.55
    elif words & BRIGHT_WORDS:
        light = 1.25
    else:
        light = 1.0

    if words & SQUARE_WORDS:
        shape = "square"
    elif words & ELLIPSE_WORDS:
        shape = "ellipse"
    else:
        shape = "circle"

    cuts = 0
    if words & CUT_WORDS or "cut to" in normalised.lower():
        cuts = 1 + int(stable_unit(text_key, "cuts") * 2)

    return SceneSpec(
        text_key=text_key,
        palette=palette,
        colour_words=names,
        objects=_count(tokens, text_key, max_objects),
        shape=shape,
        motion=motion,
        speed=speed,
        pan=bool(words & PAN_WORDS) and motion != "still",
        cuts=cuts,
        light=light,
        emissive=bool(words & EMISSIVE_WORDS),
    )


# ---------------------------------------------------------------------------
# Degradations


@dataclass(frozen=True)
class Look:
    """The faults a model adds, already scaled for one clip (see :meth:`for_clip`)."""

    noise: float = 0.0  # grain standard deviation, 8-bit levels
    blur: float = 0.0  # Gaussian sigma, pixels
    flicker: float = 0.0  # per-frame brightness gain jitter amplitude (0.1 = +-10 %)
    frozen_ratio: float = 0.0  # fraction of frames that repeat the previous frame
    drop_ratio: float = 0.0  # fraction of frames after which one frame of time is skipped
    motion_speed: float = 1.0  # multiplier on all motion
    motion_jerk: float = 0.0  # random acceleration in trajectories (1.0 ~ 1.2 % of frame size)
    blockiness: float = 0.0  # 0..1 blend toward 8x8 block means
    exposure: float = 0.0  # EV stops
    variation: float = 0.0  # +- fraction by which each fault's strength varies per clip

    def for_clip(self, spec: SceneSpec, key: str) -> "Look":
        """Vary each fault per clip (``key`` names the clip) and let hard prompts hurt more.

        Low light raises grain, fast motion raises jerk: the same knobs bite
        harder on the prompts that are hard for real models too.
        """

        def vary(name: str, value: float) -> float:
            if value == 0.0 or self.variation == 0.0:
                return value
            return value * (1.0 + self.variation * (2.0 * stable_unit(key, name) - 1.0))

        noise = vary("noise", self.noise) * (1.6 if spec.light < 0.6 else 1.0)
        jerk = vary("motion_jerk", self.motion_jerk) * (1.5 if spec.speed > 1.5 else 1.0)
        return Look(
            noise=noise,
            blur=vary("blur", self.blur),
            flicker=vary("flicker", self.flicker),
            frozen_ratio=min(1.0, vary("frozen_ratio", self.frozen_ratio)),
            drop_ratio=min(1.0, vary("drop_ratio", self.drop_ratio)),
            motion_speed=self.motion_speed,
            motion_jerk=jerk,
            blockiness=min(1.0, vary("blockiness", self.blockiness)),
            exposure=self.exposure,
            variation=0.0,
        )

    def describe(self) -> dict[str, float]:
        return {
            "noise": round(self.noise, 4), "blur": round(self.blur, 4),
            "flicker": round(self.flicker, 4), "frozen_ratio": round(self.frozen_ratio, 4),
            "drop_ratio": round(self.drop_ratio, 4), "motion_speed": self.motion_speed,
            "motion_jerk": round(self.motion_jerk, 4), "blockiness": round(self.blockiness, 4),
            "exposure": self.exposure,
        }


# ---------------------------------------------------------------------------
# Rendering helpers


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    """One HSV colour (all 0..1) as float32 RGB in 0..255."""
    i = int(h * 6.0) % 6
    f = h * 6.0 - math.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb, dtype=np.float32) * 255.0


def _periodic_value_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Smooth noise in [-1, 1] that wraps around horizontally (so a pan can loop)."""
    cells_x = max(1, round(width / cell))
    cells_y = max(1, math.ceil(height / cell)) + 1
    lattice = rng.uniform(-1.0, 1.0, size=(cells_y + 1, cells_x)).astype(np.float32)
    gx = np.arange(width, dtype=np.float32) * np.float32(cells_x / width)
    gy = np.arange(height, dtype=np.float32) / np.float32(cell)
    ix = np.floor(gx).astype(np.int64)
    iy = np.floor(gy).astype(np.int64)
    fx = gx - ix
    fy = gy - iy
    fx = fx * fx * (3 - 2 * fx)
    fy = (fy * fy * (3 - 2 * fy))[:, None]
    ix0, ix1 = ix % cells_x, (ix + 1) % cells_x
    top = lattice[iy][:, ix0] * (1 - fx) + lattice[iy][:, ix1] * fx
    bottom = lattice[iy + 1][:, ix0] * (1 - fx) + lattice[iy + 1][:, ix1] * fx
    return top * (1 - fy) + bottom * fy


def blur_radius(sigma: float) -> int:
    """Half-width of the Gaussian kernel used for ``sigma`` (0 means no blur)."""
    return 0 if sigma <= 0.05 else max(1, int(math.ceil(3.0 * sigma)))


def gaussian_blur(image: np.ndarray, sigma: float, wrap_x: bool = False) -> np.ndarray:
    """Separable Gaussian blur of a planar ``C x H x W`` float32 image (a new array).

    Edges repeat, except that with ``wrap_x`` the image wraps around left to right.
    """
    radius = blur_radius(sigma)
    if radius == 0:
        return image.copy()
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1, dtype=np.float32) / np.float32(sigma)) ** 2)
    taps /= taps.sum()

    def along(axis: int, source: np.ndarray, mode: str) -> np.ndarray:
        pad = [(0, 0)] * source.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(source, pad, mode=mode)
        n = source.shape[axis]

        def part(j: int) -> np.ndarray:
            return padded[:, j:j + n] if axis == 1 else padded[:, :, j:j + n]

        out = part(radius) * taps[radius]
        scratch = np.empty_like(out)
        for j in range(radius):  # symmetric kernel: pair the taps
            np.add(part(j), part(2 * radius - j), out=scratch)
            scratch *= taps[j]
            out += scratch
        return out

    return along(2, along(1, image, "edge"), "wrap" if wrap_x else "edge")


def block_quantise(image: np.ndarray, amount: float) -> None:
    """Blend each 8x8 block of a ``C x H x W`` image toward its mean, in place (like heavy compression)."""
    if amount <= 0:
        return
    height, width = (image.shape[1] // 8) * 8, (image.shape[2] // 8) * 8
    if height == 0 or width == 0:
        return
    region = image[:, :height, :width]
    blocks = region.reshape(image.shape[0], height // 8, 8, width // 8, 8)
    means = blocks.mean(axis=(2, 4), keepdims=True)
    blocks *= np.float32(1.0 - amount)
    blocks += means * np.float32(amount)
    region[...] = blocks.reshape(region.shape)


def _reflect(u: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray) -> np.ndarray:
    """Bounce ``u`` back and forth between ``lo`` and ``hi`` (a triangle wave)."""
    span = np.maximum(np.asarray(hi) - np.asarray(lo), 1e-6)
    m = np.mod(u - lo, 2 * span)
    return lo + span - np.abs(m - span)


@dataclass
class _Shot:
    """One shot between cuts: its background canvas and its objects."""

    canvas: np.ndarray  # 3 x (H + 2m) x W float32, wraps horizontally
    colours: np.ndarray  # n x 3
    radius: np.ndarray  # n
    start: np.ndarray  # n x 2 (x, y)
    velocity: np.ndarray  # n x 2, pixels per second
    orbit: np.ndarray  # n x 3 (radius, phase, angular speed) for spin
    pan_speed: float
    blurred: np.ndarray | None = None  # the canvas after the look's blur, if any


GRAIN_SLACK = 64  # the grain field is this much larger than a frame; each frame takes a random window


class SceneRenderer:
    """Draws the frames of one clip.

    ``scene_key`` seeds the scene (layout, colours, trajectories) and is the
    same for every model given the same prompt and seed; ``look_key`` seeds
    the faults (grain, flicker, which frames freeze or drop, jitter).
    Frames are drawn in planar ``3 x H x W`` float32 buffers that are reused.
    """

    def __init__(self, spec: SceneSpec, look: Look, width: int, height: int, fps: int,
                 frames: int, scene_key: str, look_key: str):
        self.spec, self.look = spec, look
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        self.scene_key, self.look_key = scene_key, look_key
        self.size = float(min(width, height))
        self.margin = max(2, int(round(0.04 * self.size)))
        self._xs = np.arange(width, dtype=np.float32)
        self._ys = np.arange(height, dtype=np.float32)
        self._plan_time()
        self._plan_faults()
        self.shots = [self._plan_shot(i) for i in range(spec.cuts + 1)]

    # -- planning -----------------------------------------------------------

    def _plan_time(self) -> None:
        """Content time of every output frame; dropped frames skip ahead."""
        rng = stable_rng(self.look_key, "drops")
        steps = np.ones(self.frames, dtype=np.float64)
        steps[0] = 0.0
        drops = int(round(self.look.drop_ratio * (self.frames - 1)))
        if drops:
            where = rng.choice(np.arange(1, self.frames), size=drops, replace=False)
            steps[where] += 1.0 + rng.integers(0, 2, size=drops)  # skip 1-2 frames of time
        self.content_time = np.cumsum(steps) / self.fps
        self.duration = self.frames / self.fps

    def _plan_faults(self) -> None:
        rng = stable_rng(self.look_key, "faults")
        n = self.frames
        self.gain = 1.0 + self.look.flicker * rng.uniform(-1.0, 1.0, size=n)
        self.gain *= 2.0 ** self.look.exposure
        frozen = int(round(self.look.frozen_ratio * (n - 1)))
        self.frozen = np.zeros(n, dtype=bool)
        if frozen:
            self.frozen[rng.choice(np.arange(1, n), size=frozen, replace=False)] = True
        # Jerk: an AR(1) offset added to every object and (at half size) to the camera.
        sigma = self.look.motion_jerk * 0.012 * self.size
        count = max(self.spec.objects, 1)
        shocks = rng.normal(0.0, 1.0, size=(n, count + 1, 2)) * sigma
        jitter = np.zeros_like(shocks)
        for i in range(n):
            jitter[i] = (0.5 * jitter[i - 1] if i else 0.0) + shocks[i]
        self.object_jitter = jitter[:, :count]
        shake = np.clip(np.round(jitter[:, count] * 0.5), -self.margin, self.margin)
        self.camera_shake = shake.astype(np.int64)
        # Grain: one field of monochrome noise; every frame reads a different window of it.
        self.grain: np.ndarray | None = None
        if self.look.noise > 0:
            grain_rng = stable_rng(self.look_key, "grain")
            field_ = grain_rng.standard_normal(
                (self.height + GRAIN_SLACK, self.width + GRAIN_SLACK), dtype=np.float32)
            self.grain = field_ * np.float32(self.look.noise)
            self.grain_offsets = grain_rng.integers(0, GRAIN_SLACK + 1, size=(n, 2))

    def _plan_shot(self, index: int) -> _Shot:
        spec, w, h = self.spec, self.width, self.height
        text_rng = stable_rng(spec.text_key, "layout", index)
        seed_rng = stable_rng(self.scene_key, "layout", index)

        # Background: vertical two-colour gradient, a slow horizontal swell, texture.
        hue = stable_unit(spec.text_key, "hue", index)
        top = _hsv(hue, 0.30, 0.72)
        bottom = _hsv((hue + 0.08 + 0.1 * stable_unit(spec.text_key, "hue2", index)) % 1.0, 0.40, 0.50)
        if spec.palette:
            tint = np.mean(np.asarray(spec.palette, dtype=np.float32), axis=0) * 0.6
            top = 0.55 * top + 0.45 * tint
            bottom = 0.55 * bottom + 0.45 * tint
        canvas_h = h + 2 * self.margin
        v = np.linspace(0.0, 1.0, canvas_h, dtype=np.float32)[None, :, None]
        canvas = top[:, None, None] * (1 - v) + bottom[:, None, None] * v
        phase = 2 * math.pi * stable_unit(spec.text_key, "swell", index)
        swell = 1.0 + 0.08 * np.cos(2 * math.pi * self._xs / w + phase)
        texture = (0.10 * _periodic_value_noise(text_rng, canvas_h, w, max(8.0, self.size / 5))
                   + 0.07 * _periodic_value_noise(text_rng, canvas_h, w, max(3.0, self.size / 40))
                   + 0.05 * _periodic_value_noise(text_rng, canvas_h, w, 2.0))
        canvas = canvas * (swell[None, None, :] * (1.0 + texture[None, :, :]))
        canvas = np.ascontiguousarray(canvas * spec.light, dtype=np.float32)

        # Objects: a jittered grid so nothing overlaps at the start.
        n = spec.objects
        cols = max(1, int(math.ceil(math.sqrt(n * w / h)))) if n else 1
        rows = max(1, int(math.ceil(n / cols))) if n else 1
        cell_w, cell_h = w / cols, h / rows
        stretch = 1.6 if spec.shape == "ellipse" else 1.0
        base_r = min(0.36 * min(cell_w / stretch, cell_h), 0.22 * self.size)
        cells = text_rng.permutation(cols * rows)[:n]
        radius = base_r * (0.75 + 0.25 * seed_rng.uniform(size=n))
        cx = (cells % cols + 0.5) * cell_w
        cy = (cells // cols + 0.5) * cell_h
        # Keep at least 0.6 r + 4 px between neighbours so objects (and glows) stay apart.
        slack_x = np.maximum(cell_w / 2 - 1.3 * radius * stretch - 2, 0)
        slack_y = np.maximum(cell_h / 2 - 1.3 * radius - 2, 0)
        start = np.stack([cx + seed_rng.uniform(-1, 1, n) * slack_x,
                          cy + seed_rng.uniform(-1, 1, n) * slack_y], axis=1)

        palette = np.asarray(spec.palette, dtype=np.float32) if spec.palette else np.stack(
            [_hsv((hue + 0.5 + 0.15 * k) % 1.0, 0.75, 0.95) for k in range(3)])
        colours = palette[(np.arange(n) + text_rng.integers(0, len(palette))) % len(palette)]

        speed = 0.25 * self.size * spec.speed * self.look.motion_speed  # px / s
        angle = seed_rng.uniform(0, 2 * math.pi, n)
        magnitude = speed * (0.7 + 0.6 * seed_rng.uniform(size=n))
        velocity = np.stack([np.cos(angle), np.sin(angle)], axis=1) * magnitude[:, None]
        orbit_r = (0.12 + 0.3 * seed_rng.uniform(size=n)) * self.size
        orbit = np.stack([orbit_r, angle, magnitude / np.maximum(orbit_r, 1.0)], axis=1)
        pan_speed = 0.15 * w * spec.speed * self.look.motion_speed if spec.pan else 0.0
        blurred = gaussian_blur(canvas, self.look.blur, wrap_x=True) if blur_radius(self.look.blur) else None
        return _Shot(canvas, colours.astype(np.float32), radius.astype(np.float32), start, velocity,
                     orbit, pan_speed, blurred)

    # -- geometry -----------------------------------------------------------

    def _shot_at(self, t: float) -> tuple[int, float]:
        """Which shot content time ``t`` falls in, and the time since that shot began."""
        count = self.spec.cuts + 1
        if count == 1:
            return 0, t
        length = self.duration / count
        index = min(int(t / length), count - 1)
        return index, t - index * length

    def _positions(self, shot: _Shot, t: float) -> np.ndarray:
        """Object centres (n x 2) at shot-local time ``t``."""
        w, h = self.width, self.height
        r = shot.radius
        rx = r * (1.6 if self.spec.shape == "ellipse" else 1.0)
        x0, y0 = shot.start[:, 0], shot.start[:, 1]
        vx, vy = shot.velocity[:, 0], shot.velocity[:, 1]
        motion = self.spec.motion
        if motion == "still":
            return shot.start.copy()
        if motion == "drift":
            return np.stack([_reflect(x0 + vx * t, rx, w - rx), _reflect(y0 + vy * t, r, h - r)], 1)
        if motion in ("fall", "rise"):
            fall = np.abs(shot.velocity).sum(axis=1) * 1.2 * (1 if motion == "fall" else -1)
            span = h + 4 * r
            y = np.mod(y0 + 2 * r + fall * t, span) - 2 * r
            x = x0 + 0.15 * r * np.sin(2 * math.pi * 0.5 * t + shot.orbit[:, 1])
            return np.stack([x, y], 1)
        if motion == "bounce":
            floor = h - r - 1
            height = 0.55 * (floor - r)
            omega = np.pi * np.abs(shot.velocity).sum(axis=1) / np.maximum(height, 1.0)
            y = floor - height * np.abs(np.sin(omega * t + shot.orbit[:, 1]))
            x = _reflect(x0 + 0.4 * vx * t, rx, w - rx)
            return np.stack([x, y], 1)
        # spin: orbit around the frame centre
        ang = shot.orbit[:, 1] + shot.orbit[:, 2] * t
        return np.stack([w / 2 + shot.orbit[:, 0] * np.cos(ang) * (w / h if w > h else 1.0),
                         h / 2 + shot.orbit[:, 0] * np.sin(ang) * (h / w if h > w else 1.0)], 1)

    # -- drawing ------------------------------------------------------------

    def _background(self, canvas: np.ndarray, shot: _Shot, t: float, i: int, out: np.ndarray) -> None:
        """Copy the part of ``canvas`` the camera sees at frame ``i`` into ``out``."""
        m = self.margin
        dy, dx = int(self.camera_shake[i, 1]), int(self.camera_shake[i, 0])
        rows = canvas[:, m + dy:m + dy + self.height]
        offset = (int(round(shot.pan_speed * t)) + dx) % self.width
        if offset == 0:
            np.copyto(out, rows)
        else:
            out[:, :, :self.width - offset] = rows[:, :, offset:]
            out[:, :, self.width - offset:] = rows[:, :, :offset]

    def _draw_object(self, frame: np.ndarray, cx: float, cy: float, r: float,
                     colour: np.ndarray, emissive: bool) -> tuple[int, int, int, int] | None:
        """Paint one object (anti-aliased, shaded, with a glow if it gives light).

        Returns the box it touched as (y0, y1, x0, x1), or None when off screen.
        """
        shape = self.spec.shape
        rx = r * 1.6 if shape == "ellipse" else r
        reach = 2.2 if emissive else 1.0
        x0 = max(int(cx - rx * reach) - 1, 0)
        x1 = min(int(cx + rx * reach) + 2, self.width)
        y0 = max(int(cy - r * reach) - 1, 0)
        y1 = min(int(cy + r * reach) + 2, self.height)
        if x0 >= x1 or y0 >= y1:
            return None
        dx = self._xs[x0:x1] - np.float32(cx)
        dy = self._ys[y0:y1] - np.float32(cy)
        if shape == "square":
            dist = np.maximum(np.abs(dx)[None, :], np.abs(dy)[:, None])
        elif shape == "ellipse":
            dist = np.sqrt((dx * dx / np.float32(2.56))[None, :] + (dy * dy)[:, None])
        else:
            dist = np.sqrt((dx * dx)[None, :] + (dy * dy)[:, None])
        region = frame[:, y0:y1, x0:x1]
        paint = colour[:, None, None]
        if emissive:
            glow = np.maximum(dist - np.float32(r), np.float32(0.0))
            glow *= np.float32(1.0 / (0.7 * r))
            np.square(glow, out=glow)
            np.negative(glow, out=glow)
            np.exp(glow, out=glow)
            region += glow[None] * (paint * np.float32(0.35))
        alpha = np.clip(np.float32(r + 0.5) - dist, 0.0, 1.0)
        # Light from the upper left: a soft sphere-like shading.
        k = np.float32(0.45 / (2.2 * r * r))
        shade = (np.float32(1.08) - (k * (dx + np.float32(0.35 * r)) ** 2)[None, :]
                 - (k * (dy + np.float32(0.35 * r)) ** 2)[:, None])
        np.clip(shade, 0.5, 1.1, out=shade)
        shade *= alpha
        shade *= np.float32(1.0 if emissive else self.spec.light)
        # region = region * (1 - alpha) + alpha * shade * colour
        np.subtract(np.float32(1.0), alpha, out=alpha)
        region *= alpha[None]
        region += shade[None] * paint
        return y0, y1, x0, x1

    def _blur(self, sharp: np.ndarray, shot: _Shot, t: float, i: int,
              boxes: list[tuple[int, int, int, int]], out: np.ndarray) -> None:
        """Blur ``sharp`` into ``out``.

        The background was blurred once per shot, so only the neighbourhood of
        each object is blurred here: away from the objects the sharp frame is
        the shifted canvas itself. The result equals blurring the whole frame,
        except within the kernel's reach of the left and right edges, where the
        pre-blurred background wraps around instead of repeating its edge.
        """
        assert shot.blurred is not None
        rad = blur_radius(self.look.blur)
        h, w = self.height, self.width
        patches = sum((y1 - y0 + 4 * rad) * (x1 - x0 + 4 * rad) for y0, y1, x0, x1 in boxes)
        if patches > 0.6 * h * w:  # objects everywhere: one pass over the frame is cheaper
            np.copyto(out, gaussian_blur(sharp, self.look.blur))
            return
        self._background(shot.blurred, shot, t, i, out)
        for y0, y1, x0, x1 in boxes:
            ty0, ty1, tx0, tx1 = max(y0 - rad, 0), min(y1 + rad, h), max(x0 - rad, 0), min(x1 + rad, w)
            iy0, iy1, ix0, ix1 = max(ty0 - rad, 0), min(ty1 + rad, h), max(tx0 - rad, 0), min(tx1 + rad, w)
            patch = gaussian_blur(sharp[:, iy0:iy1, ix0:ix1], self.look.blur)
            out[:, ty0:ty1, tx0:tx1] = patch[:, ty0 - iy0:ty1 - iy0, tx0 - ix0:tx1 - ix0]

    def frames_planar(self) -> Iterator[np.ndarray]:
        """Yield each frame that is not frozen as a ``3 x H x W`` float32 array (0..255, unrounded).

        The same buffers are reused: copy a frame if you keep it past the next one.
        """
        look = self.look
        sharp = np.empty((3, self.height, self.width), dtype=np.float32)
        soft = np.empty_like(sharp) if look.blur > 0 else sharp
        for i in range(self.frames):
            if self.frozen[i]:
                continue
            index, t = self._shot_at(float(self.content_time[i]))
            shot = self.shots[index]
            self._background(shot.canvas, shot, t, i, sharp)
            boxes: list[tuple[int, int, int, int]] = []
            if self.spec.objects:
                centres = self._positions(shot, t) + self.object_jitter[i]
                for k in range(self.spec.objects):
                    box = self._draw_object(sharp, float(centres[k, 0]), float(centres[k, 1]),
                                            float(shot.radius[k]), shot.colours[k], self.spec.emissive)
                    if box is not None:
                        boxes.append(box)
            frame = sharp
            if shot.blurred is not None:
                self._blur(sharp, shot, t, i, boxes, soft)
                frame = soft
            gain = np.float32(self.gain[i])
            if gain != 1.0:
                frame *= gain
            if self.grain is not None:
                oy, ox = self.grain_offsets[i]
                frame += self.grain[None, oy:oy + self.height, ox:ox + self.width]
            block_quantise(frame, look.blockiness)
            yield frame

    def frames_rgb(self) -> Iterator[np.ndarray]:
        """Yield each frame as a new ``H x W x 3`` uint8 array; frozen frames repeat the previous one."""
        previous: np.ndarray | None = None
        planar = self.frames_planar()
        for i in range(self.frames):
            if self.frozen[i] and previous is not None:
                yield previous
                continue
            frame = next(planar)
            frame += np.float32(0.5)  # round rather than truncate in the cast below
            np.clip(frame, 0.0, 255.0, out=frame)
            previous = np.ascontiguousarray(frame.astype(np.uint8).transpose(1, 2, 0))
            yield previous
