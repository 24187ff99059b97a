"""The jobs of a run (model x prompt x repeat) and the cache key of each clip.

A clip's cache key is the sha256 of canonical JSON of everything that decides
what the clip looks like: the provider, the model parameters that shape the
video, the prompt text, the prompt's generation parameters and the seed.
Keys that only change how or how cheaply a clip is fetched (prices, limits,
URLs, timeouts, the name of the key's variable) are left out, so editing them
never regenerates anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from workbench.benchmark.config import ModelConfig
from workbench.benchmark.prompts import Prompt
from workbench.providers.base import GenerationRequest, Provider

#: Model parameters that never change the clip. A provider class may add its own
#: with a ``cache_exempt_params`` class attribute (an iterable of names).
NON_VIDEO_PARAMS = frozenset({
    "description",
    "price_per_second",
    "price_per_clip",
    "max_concurrency",
    "requests_per_minute",
    "base_url",
    "api_key_env",
    "timeout",
    "timeout_total",
    "poll_interval",
    "max_download_bytes",
    "latency",
    "failure_rate",
})

JobId = tuple[str, str, int]  # (model, prompt_id, repeat)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def video_params(provider_cls: type[Provider], params: dict[str, Any]) -> dict[str, Any]:
    """The model parameters that shape the clip (``params`` minus transport and price knobs)."""
    exempt = NON_VIDEO_PARAMS | frozenset(getattr(provider_cls, "cache_exempt_params", ()) or ())
    return {k: v for k, v in params.items() if k not in exempt}


def cache_key(
    provider: str,
    params: dict[str, Any],
    prompt_text: str,
    generation: dict[str, Any],
    seed: int,
    extra: dict[str, Any] | None = None,
) -> str:
    """sha256 hex of the canonical JSON of what decides a clip."""
    identity: dict[str, Any] = {
        "provider": provider,
        "params": params,
        "prompt": prompt_text,
        "generation": generation,
        "seed": seed,
    }
    if extra:
        identity["extra"] = extra
    return hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PlannedJob:
    """One clip to make: which model, prompt and repeat, and its cache key."""

    model: str
    prompt_id: str
    repeat: int
    seed: int
    key: str
    request: GenerationRequest
    duration: float
    estimated_cost: float

    @property
    def id(self) -> JobId:
        return (self.model, self.prompt_id, self.repeat)

    @property
    def video_name(self) -> str:
        """Path of the clip inside the run folder, relative to it."""
        return f"videos/{self.model}/{self.prompt_id}--r{self.repeat}.mp4"

    @property
    def label(self) -> str:
        return f"{self.model}/{self.prompt_id} r{self.repeat}"


def make_request(model_id: str, prompt: Prompt, repeat: int) -> GenerationRequest:
    return GenerationRequest(
        model_id=model_id,
        prompt_id=prompt.id,
        prompt=prompt.text,
        seed=prompt.seed_for(repeat),
        repeat=repeat,
        duration=prompt.duration,
        resolution=prompt.resolution,
        aspect_ratio=prompt.aspect_ratio,
        fps=prompt.fps,
        negative_prompt=prompt.negative_prompt,
    )


def plan_jobs(
    models: dict[str, tuple[ModelConfig, type[Provider], Any]],
    prompts: list[Prompt],
    repeats: int,
    default_duration: dict[str, float],
) -> list[PlannedJob]:
    """Every job, interleaved (repeat, prompt, model) so a budget cut leaves balanced coverage.

    ``models`` maps a model id to (its config, its provider class, its validated params).
    """
    jobs: list[PlannedJob] = []
    shaping = {
        model_id: video_params(cls, config.params) for model_id, (config, cls, _p) in models.items()
    }
    for repeat in range(repeats):
        for prompt in prompts:
            generation = prompt.generation_params()
            for model_id, (config, cls, params) in models.items():
                request = make_request(model_id, prompt, repeat)
                extra_hook = getattr(cls, "cache_extra", None)
                extra = extra_hook(params, request) if extra_hook else None
                key = cache_key(config.provider, shaping[model_id], prompt.text, generation,
                                request.seed, extra)
                duration = prompt.duration or default_duration[model_id]
                jobs.append(PlannedJob(
                    model=model_id,
                    prompt_id=prompt.id,
                    repeat=repeat,
                    seed=request.seed,
                    key=key,
                    request=request,
                    duration=duration,
                    estimated_cost=config.estimated_cost(duration),
                ))
    return jobs
