"""Runway's developer API (tasks).

Reference: Runway API reference (https://docs.dev.runwayml.com/api/), "Start generating"
and "Task management" (GET /v1/tasks/{id}).

* submit: ``POST {base}/text_to_video`` (or ``image_to_video``) with
  ``{"model", "promptText", "ratio", "duration", "seed"}``, headers
  ``Authorization: Bearer <RUNWAYML_API_SECRET>`` and ``X-Runway-Version``;
  the answer is ``{"id": ...}``.
* poll: ``GET {base}/tasks/{id}``; ``status`` is ``PENDING`` / ``THROTTLED`` /
  ``RUNNING`` / ``SUCCEEDED`` / ``FAILED`` / ``CANCELLED``; ``progress`` is
  0..1 while running; ``failure`` / ``failureCode`` explain a failure;
  ``output`` is a list of URLs.

Runway gives no status URL, so the documented task URL is built once at submit
time and kept in the state (a resumed run polls the same URL).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from workbench.providers.base import GenerationRequest, JobStatus, PollResult, Submission
from workbench.providers.hosted.provider_base import HostedParams, HostedProvider, error_text, map_status
from workbench.providers.hosted.request_fields import dimensions, whole

STATUSES = {
    "PENDING": JobStatus.QUEUED,
    "THROTTLED": JobStatus.THROTTLED,
    "RUNNING": JobStatus.RUNNING,
    "SUCCEEDED": JobStatus.SUCCEEDED,
    "FAILED": JobStatus.FAILED,
    "CANCELLED": JobStatus.CANCELED,
    "CANCELED": JobStatus.CANCELED,
}

#: Pixel ratios Runway expects, by aspect ratio (used when the prompt sets no resolution).
RATIOS = {"16:9": "1280:720", "9:16": "720:1280", "1:1": "960:960", "4:3": "1104:832", "3:4": "832:1104", "21:9": "1584:672"}


class RunwayParams(HostedParams):
    base_url: str = "https://api.dev.runwayml.com/v1"
    api_key_env: str = "RUNWAYML_API_SECRET"
    model: str = "veo3.1_fast"
    endpoint: Literal["text_to_video", "image_to_video"] = "text_to_video"
    runway_version: str = "2024-11-06"
    #: Pixel ratio such as "1280:720"; by default from the prompt's resolution or aspect ratio.
    ratio: str | None = None


class RunwayProvider(HostedProvider):
    name = "runway"
    label = "Runway"
    Params = RunwayParams
    #: The API version header changes the protocol, not the clip.
    cache_exempt_params: ClassVar[tuple[str, ...]] = ("runway_version",)

    @property
    def rw(self) -> RunwayParams:
        return self.params  # type: ignore[return-value]

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key()}", "X-Runway-Version": self.rw.runway_version}

    def _ratio(self, request: GenerationRequest) -> str | None:
        if self.rw.ratio:
            return self.rw.ratio
        dims = dimensions(request.resolution)
        if dims:
            return f"{dims[0]}:{dims[1]}"
        return RATIOS.get(request.aspect_ratio or "")

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        fields = self.without_omitted(
            {
                "model": self.rw.model,
                "promptText": request.prompt,
                "ratio": self._ratio(request),
                "duration": whole(request.duration),
                "seed": request.seed,
            }
        )
        fields.update(self.rendered_inputs(request))
        return fields

    async def submit(self, request: GenerationRequest) -> Submission:
        what = "submit"
        data = await self.api.call_json(
            "POST", f"{self.rw.base_url}/{self.rw.endpoint}", what=what,
            headers=self._headers(), json_body=self.body(request),
        )
        task_id = self.text_field(data, "id", what)
        return self.submission(task_id, {"task_url": self.job_url(f"{self.rw.base_url}/tasks", task_id)})

    async def poll(self, submission: Submission) -> PollResult:
        what = "status check"
        task_url = self.state_url(submission, "task_url")
        data = await self.api.call_json("GET", task_url, what=what, headers=self._headers())
        raw = self.field(data, "status", what)
        status, note = map_status(raw, STATUSES)
        if status in (JobStatus.FAILED, JobStatus.CANCELED):
            message = error_text(data.get("failure")) or f"task {raw}"
            code = data.get("failureCode")
            if code and str(code) not in message:
                message = f"{message} ({code})"
            return self.result(status, error=message, state=note)
        if status is JobStatus.SUCCEEDED:
            url = self.url_field(data, "output.0", what, relative_to=task_url)
            return self.result(status, result_url=url, progress=1.0, state={"result_url": url})
        progress = data.get("progress")
        if not isinstance(progress, (int, float)) or isinstance(progress, bool):
            progress = None
        return self.result(status, progress=progress, state=note)
