"""A large benchmark folder on disk, written in the engine's and the scorers' own file formats.

``write_big_benchmark(root)`` makes ``root`` a benchmark with 2,000 prompts, 5 synthetic models,
12 built-in scorers (thresholds on some, one per-tag override), a gate, and one finished run:
``manifest.json``, ``journal.jsonl`` (run_started, one succeeded or failed event per job,
run_finished) and ``scores.jsonl`` (one record per clip and scorer, values shaped like the real
scorers' output; about 1% of clips failed to generate and carry "no video" errors). No video files
are written: tables, the gate and the TUI read scores, not videos.

Used by benchmark scripts and tests: ``Benchmark.load(root)`` and the table loaders read it like
any other benchmark. Deterministic for the same arguments.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.safe_files import atomic_write_text, dump_json_line  # noqa: E402
from workbench.scorers.registry import BUILTIN_SCORERS, available_scorers  # noqa: E402

TAG_NAMES = ("hands", "fast-motion", "legible-text", "low-light", "fluids-smoke", "crowds",
             "reflections", "counting", "camera-move", "identity", "transparency", "occlusion")
SUBJECTS = ("a pianist", "a barista", "a skateboarder", "three red balloons", "a white lighthouse",
            "a crowd at a station", "a cat", "a chef", "a neon sign", "a glass of water",
            "a domino chain", "a campfire", "a drone", "two dancers", "a waterfall")
ACTIONS = ("moves quickly across the frame", "turns slowly toward the camera", "is seen from above",
           "spins in warm light", "falls over in slow motion", "is reflected in a puddle",
           "walks through a busy market", "glows at night", "is lit by flickering candles")
RUN_ID = "20261126-120000-b1g0"
FAILURE_RATE = 0.01


def _hex(rng: np.random.Generator, n_bytes: int = 32) -> str:
    return rng.bytes(n_bytes).hex()


def _tags(count: int) -> list[str]:
    return [TAG_NAMES[i] if i < len(TAG_NAMES) else f"tag-{i}" for i in range(count)]


def _models(count: int) -> list[str]:
    named = ["incumbent", "candidate", "weak", "fast", "large"]
    return [named[i] if i < len(named) else f"model-{i}" for i in range(count)]


def _scorers(count: int) -> list[str]:
    names = list(BUILTIN_SCORERS)
    if not 1 <= count <= len(names):
        raise ValueError(f"scorers must be 1..{len(names)} (built-in scorers), got {count}")
    return names[:count]


def _model_configs(models: list[str], quality: np.ndarray) -> dict[str, dict[str, Any]]:
    """Synthetic model parameters: lower quality means more noise, blur and flicker."""
    return {
        model: {"provider": "synthetic", "description": f"synthetic model, quality {q:.2f}",
                "noise": round(0.5 + 6 * (1 - q), 2), "blur": round(0.8 + 1.6 * (1 - q), 2),
                "flicker": round(0.02 + 0.08 * (1 - q), 3)}
        for model, q in zip(models, quality)
    }


def _config_text(configs: dict[str, dict[str, Any]], scorers: list[str], tags: list[str],
                 repeats: int) -> str:
    models = list(configs)
    lines = [
        "# A large synthetic benchmark for speed measurements.",
        'name = "big"',
        'description = "Many prompts, several models, every cell scored."',
        "",
        "scorers = [" + ", ".join(json.dumps(s) for s in scorers) + "]",
        "",
        "[run]",
        f"repeats = {repeats}",
        "concurrency = 4",
    ]
    for model, params in configs.items():
        lines += ["", f"[models.{model}]"] + [f"{k} = {json.dumps(v)}" for k, v in params.items()]
    thresholds = {
        "decodes": "min = 1.0",
        "sharpness": "min = 120.0",
        "temporal_flicker": "min = 0.97",
        "frozen_frames": "max = 0.3",
        "blockiness": "max = 1.45",
        "compliance": "min = 0.75",
    }
    for name, bound in thresholds.items():
        if name in scorers:
            lines += ["", f"[thresholds.{name}]", bound]
            if name == "temporal_flicker" and len(tags) > 1:
                lines += ["", f"[thresholds.{name}.tags.{tags[1]}]", "min = 0.955"]
    if len(models) >= 2:
        primary = [s for s in ("temporal_flicker", "sharpness") if s in scorers] or scorers[:1]
        lines += ["", "[gate]", f'incumbent = "{models[0]}"', f'candidate = "{models[1]}"',
                  "primary = [" + ", ".join(json.dumps(s) for s in primary) + "]",
                  "margin = 0.001", "min_prompts = 15"]
    return "\n".join(lines) + "\n"


def _prompt_records(rng: np.random.Generator, prompts: int, tags: list[str]) -> list[dict[str, Any]]:
    records = []
    for i in range(prompts):
        count = int(rng.integers(1, min(3, len(tags)) + 1)) if tags else 0
        chosen = sorted(rng.choice(len(tags), size=count, replace=False).tolist()) if count else []
        subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
        action = ACTIONS[int(rng.integers(len(ACTIONS)))]
        record: dict[str, Any] = {
            "id": f"p{i:05d}",
            "text": f"{subject.capitalize()} {action}, take {i}.",
            "tags": [tags[t] for t in chosen],
            "notes": "",
        }
        if i % 7 == 0:
            record["duration"] = 4
        records.append(record)
    return records


def _values(rng: np.random.Generator, scorer: str, q: float, difficulty: np.ndarray) -> np.ndarray:
    """Plausible values of one built-in scorer for every prompt, for a model of quality ``q``."""
    n = len(difficulty)
    noise = rng.normal(0.0, 1.0, n)
    if scorer == "decodes":
        return np.ones(n)
    if scorer == "sharpness":
        return np.clip(140 + 160 * q - 60 * difficulty + 25 * noise, 1.0, None)
    if scorer == "brightness":
        return np.clip(0.45 + 0.08 * noise, 0.0, 1.0)
    if scorer in ("clipped_shadows", "clipped_highlights"):
        return np.clip(rng.exponential(0.01 + 0.03 * (1 - q), n), 0.0, 1.0)
    if scorer == "black_frames":
        return np.where(rng.random(n) < 0.03 * (1.5 - q), rng.integers(1, 4, n) / 48, 0.0)
    if scorer == "colorfulness":
        return np.clip(35 + 10 * noise, 0.0, None)
    if scorer == "blockiness":
        return np.clip(1.05 + 0.5 * (1 - q) + 0.1 * difficulty + 0.08 * noise, 0.8, None)
    if scorer == "temporal_flicker":
        return np.clip(0.995 - 0.03 * (1 - q) - 0.012 * difficulty + 0.006 * noise, 0.0, 1.0)
    if scorer == "frozen_frames":
        frozen = np.clip(0.25 * (1 - q) + 0.08 * noise, 0.0, 1.0)
        return np.where(rng.random(n) < 0.6 + 0.4 * q, 0.0, frozen).round(4)
    if scorer == "motion":
        return np.clip(0.3 + 0.15 * noise, 0.0, 1.0)
    if scorer == "motion_jerk":
        return np.clip(0.15 + 0.9 * (1 - q) + 0.1 * noise, 0.0, None)
    if scorer == "scene_cuts":
        return rng.poisson(0.05 + 0.3 * (1 - q), n).astype(np.float64)
    if scorer == "compliance":
        return np.where(rng.random(n) < 0.85 + 0.1 * q, 1.0, rng.choice([0.5, 0.75], n))
    return np.clip(0.5 + 0.1 * noise, 0.0, 1.0)


def write_big_benchmark(root: Path, prompts: int = 2000, models: int = 5, scorers: int = 12,
                        tags: int = 8, seed: int = 0, repeats: int = 1) -> Path:
    """Write the benchmark folder ``root`` (created; must not hold a benchmark yet) and return it.

    ``repeats`` clips per (model, prompt), each scored on its own.
    """
    root = Path(root)
    if (root / "benchmark.toml").exists():
        raise FileExistsError(f"{root}: already holds a benchmark")
    rng = np.random.default_rng(seed)
    model_names = _models(models)
    scorer_names = _scorers(scorers)
    tag_names = _tags(tags)
    quality = np.linspace(0.75, 0.35, models) if models > 1 else np.array([0.6])
    if models > 1:  # the candidate is the best model, the incumbent next
        quality[[0, 1]] = quality[[1, 0]]
    versions = {name: info.version for name, info in available_scorers().items()}

    root.mkdir(parents=True, exist_ok=True)
    configs = _model_configs(model_names, quality)
    config_text = _config_text(configs, scorer_names, tag_names, repeats)
    prompt_records = _prompt_records(rng, prompts, tag_names)
    prompts_text = "".join(dump_json_line(r) + "\n" for r in prompt_records)
    atomic_write_text(root / "benchmark.toml", config_text)
    atomic_write_text(root / "prompts.jsonl", prompts_text)

    run_dir = root / "runs" / RUN_ID
    run_dir.mkdir(parents=True, exist_ok=True)
    prompt_ids = [r["id"] for r in prompt_records]
    difficulty = rng.random(prompts)
    seeds = rng.integers(0, 2**31 - 1, prompts)
    failed = rng.random((models, repeats, prompts)) < FAILURE_RATE

    jobs = models * prompts * repeats
    journal = [{"event": "run_started", "time": "2026-11-26T12:00:00.001Z", "session": 1, "pid": 4242,
                "resumed": False, "jobs": jobs}]
    score_lines: list[str] = []
    counts = {"total": jobs, "succeeded": 0, "cached": 0, "failed": 0, "skipped": 0, "pending": 0}
    for m, model in enumerate(model_names):
        for repeat in range(repeats):
            values = {s: _values(rng, s, float(quality[m]), difficulty) for s in scorer_names}
            for p, prompt_id in enumerate(prompt_ids):
                second = ((m * repeats + repeat) * prompts + p) // 10
                when = f"2026-11-26T12:{1 + second // 60 % 59:02d}:{second % 60:02d}.{p % 1000:03d}Z"
                requested = {"duration": 4.0} if "duration" in prompt_records[p] else {}
                clip_seed = int(seeds[p]) + repeat
                base = {"event": "", "time": when, "model": model, "prompt_id": prompt_id, "repeat": repeat,
                        "seed": clip_seed, "key": _hex(rng)}
                clip = {"run": RUN_ID, "model": model, "prompt_id": prompt_id, "repeat": repeat}
                if failed[m, repeat, p]:
                    error = (f"synthetic failure for prompt {prompt_id!r} seed {clip_seed} "
                             f"(failure_rate {FAILURE_RATE:g})")
                    journal.append({**base, "event": "failed", "error": error, "phase": "generate",
                                    "resumable": False, "permanent": True, "latency_s": 0.01})
                    counts["failed"] += 1
                    for s in scorer_names:
                        score_lines.append(dump_json_line({
                            **clip, "scorer": s, "version": versions[s], "value": None,
                            "error": f"no video: {error}", "video_sha256": None, "detail": None}))
                    continue
                journal.append({**base, "event": "succeeded", "requested": requested,
                                "video": f"videos/{model}/{prompt_id}--r{repeat}.mp4", "cached": False,
                                "charged": 0.0, "attempts": 1,
                                "latency_s": round(float(0.4 + rng.random()), 4),
                                "job_id": f"synthetic-{_hex(rng, 6)}"})
                counts["succeeded"] += 1
                sha = hashlib.sha256(f"{model}/{prompt_id}/{repeat}".encode()).hexdigest()
                for s in scorer_names:
                    score_lines.append(dump_json_line({
                        **clip, "scorer": s, "version": versions[s], "value": float(values[s][p]),
                        "error": None, "video_sha256": sha,
                        "detail": "12 frames sampled" if s == "sharpness" else None}))
    journal.append({"event": "run_finished", "time": "2026-11-26T13:00:00.000Z", "jobs": counts,
                    "cost": 0.0})

    manifest = {
        "run_id": RUN_ID, "status": "finished", "created": "2026-11-26T12:00:00.000Z",
        "ended": "2026-11-26T13:00:00.000Z", "benchmark": "big",
        "benchmark_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "prompts_sha256": hashlib.sha256(prompts_text.encode()).hexdigest(),
        "models": model_names,
        "model_configs": configs,
        "prompt_ids": prompt_ids, "repeats": repeats, "concurrency": 4, "budget": None, "jobs": counts,
        "cost": 0.0, "estimated_cost": 0.0, "sessions": 1, "workbench_version": "0.1.0",
    }
    atomic_write_text(run_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    atomic_write_text(run_dir / "journal.jsonl", "".join(dump_json_line(e) + "\n" for e in journal))
    atomic_write_text(run_dir / "scores.jsonl", "\n".join(score_lines) + "\n")
    return root


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/big-benchmark")
    write_big_benchmark(target)
    print(target)
