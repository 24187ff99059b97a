"""``fake-local``: a LocalProvider whose behaviour each test sets through its params."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import ClassVar

from workbench.providers.base import (
    GenerationRequest, GenerationResult, LocalProvider, PermanentError, ProviderParams, TransientError,
)
from tests.engine_support.clips import sample_mp4_bytes


class CallLog:
    """What every fake provider instance did, for assertions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.calls: list[tuple[str, str, int, float]] = []  # (model, prompt_id, repeat, loop time)
        self.active: dict[str, int] = defaultdict(int)
        self.max_active: dict[str, int] = defaultdict(int)
        self.active_total = 0
        self.max_active_total = 0
        self.attempts: dict[tuple[str, str, int], int] = defaultdict(int)

    def enter(self, model: str) -> None:
        self.active[model] += 1
        self.active_total += 1
        self.max_active[model] = max(self.max_active[model], self.active[model])
        self.max_active_total = max(self.max_active_total, self.active_total)

    def leave(self, model: str) -> None:
        self.active[model] -= 1
        self.active_total -= 1

    def prompts_called(self) -> list[str]:
        return [c[1] for c in self.calls]


class FakeLocalParams(ProviderParams):
    style: str = "plain"
    latency: float = 0.0
    fail_prompts: list[str] = []
    crash_prompts: list[str] = []
    garbage_prompts: list[str] = []
    transient_failures: int = 0  # first N attempts of each job raise TransientError
    retry_after: float | None = None
    echo_secret_env: str | None = None  # fail every job with an error that contains this key
    cost: float | None = None  # the cost the provider reports for each clip


class FakeLocalProvider(LocalProvider):
    name = "fake-local"
    Params: ClassVar[type[ProviderParams]] = FakeLocalParams
    log: ClassVar[CallLog] = CallLog()

    def secrets(self) -> list[str]:
        env = self.params.echo_secret_env
        value = os.environ.get(env, "") if env else ""
        return [value] if value else []

    async def generate(self, request: GenerationRequest, output: Path) -> GenerationResult:
        p: FakeLocalParams = self.params  # type: ignore[assignment]
        ident = (self.model_id, request.prompt_id, request.repeat)
        log = self.log
        log.calls.append((*ident, asyncio.get_running_loop().time()))
        log.attempts[ident] += 1
        log.enter(self.model_id)
        try:
            if p.latency:
                await asyncio.sleep(p.latency)
            if log.attempts[ident] <= p.transient_failures:
                raise TransientError("HTTP 429: slow down", retry_after=p.retry_after)
            if p.echo_secret_env:
                key = os.environ[p.echo_secret_env]  # not read_secret: only secrets() reports it
                raise PermanentError(f"auth rejected for key {key} (header 'Bearer {key}')")
            if request.prompt_id in p.fail_prompts:
                raise PermanentError(f"content policy: prompt {request.prompt_id} refused")
            if request.prompt_id in p.crash_prompts:
                raise ZeroDivisionError("fake provider bug")
            if request.prompt_id in p.garbage_prompts:
                output.write_bytes(b"this is not a video")
                return GenerationResult()
            output.write_bytes(sample_mp4_bytes())
            return GenerationResult(job_id=f"local-{request.prompt_id}-{request.repeat}", cost=p.cost)
        finally:
            log.leave(self.model_id)
