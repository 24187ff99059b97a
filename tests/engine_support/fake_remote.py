"""``fake-remote``: a RemoteProvider for the loopback fake API (one httpx client per provider)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

import httpx

from tests.engine_support.lean_http import LeanClient
from workbench.providers.base import (
    GenerationRequest, JobStatus, PermanentError, PollResult, ProviderParams, RemoteProvider,
    Submission, TransientError,
)

STATUSES = {"queued": JobStatus.QUEUED, "running": JobStatus.RUNNING, "succeeded": JobStatus.SUCCEEDED,
            "failed": JobStatus.FAILED, "throttled": JobStatus.THROTTLED}


class FakeRemoteParams(ProviderParams):
    base_url: str
    api_key_env: str | None = None
    style: str = "plain"
    poll_interval: float = 0.05
    timeout: float = 10.0
    timeout_total: float | None = None
    transport: Literal["httpx", "lean"] = "httpx"  # lean: a bare asyncio client, for benchmarks


class FakeRemoteProvider(RemoteProvider):
    name = "fake-remote"
    Params: ClassVar[type[ProviderParams]] = FakeRemoteParams
    cache_exempt_params: ClassVar[tuple[str, ...]] = ("transport",)

    def __init__(self, model_id: str, params: ProviderParams):
        super().__init__(model_id, params)
        self._client: httpx.AsyncClient | None = None
        self._lean: LeanClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.params.base_url, timeout=self.params.timeout,
                limits=httpx.Limits(max_connections=128, max_keepalive_connections=128))
        return self._client

    def _key(self) -> str | None:
        env = self.params.api_key_env
        return os.environ.get(env) if env else None

    def secrets(self) -> list[str]:
        key = self._key()
        return [key] if key else []

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._lean is not None:
            await self._lean.aclose()

    async def _call(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            if self.params.transport == "lean":
                if self._lean is None:
                    self._lean = LeanClient(self.params.base_url)
                response = await self._lean.request(method, url, headers, kwargs.get("json"))
            else:
                response = await self.client.request(method, url, headers=headers, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError, OSError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("retry-after")
            raise TransientError(f"HTTP {response.status_code}: {response.text[:200]}",
                                 retry_after=float(retry_after) if retry_after else None)
        if response.status_code >= 400:
            raise PermanentError(f"HTTP {response.status_code}: {response.text[:300]}")
        return response

    async def submit(self, request: GenerationRequest) -> Submission:
        body = {"model": self.model_id, "prompt": request.prompt, "prompt_id": request.prompt_id,
                "repeat": request.repeat, "seed": request.seed, "style": self.params.style}
        response = await self._call("POST", "/v1/jobs", json=body)
        job_id = response.json()["id"]
        return Submission(job_id=job_id, state={"status_url": f"/v1/jobs/{job_id}"})

    async def poll(self, submission: Submission) -> PollResult:
        data = (await self._call("GET", submission.state["status_url"])).json()
        status = STATUSES.get(data.get("status"), JobStatus.RUNNING)
        return PollResult(status=status, result_url=data.get("video_url"), error=data.get("error"),
                          state={"video_url": data["video_url"]} if data.get("video_url") else {})

    async def download(self, submission: Submission, result: PollResult, output: Path) -> None:
        url = result.result_url or submission.state.get("video_url")
        response = await self._call("GET", url)
        output.write_bytes(response.content)
