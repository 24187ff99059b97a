"""Luma Dream Machine.

Reference: Luma API docs (https://docs.lumalabs.ai/), "Video generation"; the
Generation object as in Luma's published OpenAPI description (``id``,
``state``, ``failure_reason``, ``assets.video``).

* submit: ``POST {base}/generations/video`` with ``{"prompt", "model",
  "aspect_ratio", "resolution", "duration"}`` and ``Authorization: Bearer
  <LUMAAI_API_KEY>``; the answer is a Generation with an ``id``.
* poll: ``GET {base}/generations/{id}``; ``state`` is ``queued`` /
  ``dreaming`` / ``completed`` / ``failed``; ``failure_reason`` explains a
  failure; ``assets.video`` is the clip's URL.
"""

from __future__ import annotations

from typing import Any

from workbench.providers.base import GenerationRequest, JobStatus, PollResult, Submission
from workbench.providers.hosted.provider_base import HostedParams, HostedProvider, error_text, map_status
from workbench.providers.hosted.request_fields import p_label, whole

STATUSES = {
    "queued": JobStatus.QUEUED,
    "dreaming": JobStatus.RUNNING,
    "completed": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
}


class LumaParams(HostedParams):
    base_url: str = "https://api.lumalabs.ai/dream-machine/v1"
    api_key_env: str = "LUMAAI_API_KEY"
    model: str = "ray-2"


class LumaProvider(HostedProvider):
    name = "luma"
    label = "Luma"
    Params = LumaParams

    @property
    def luma(self) -> LumaParams:
        return self.params  # type: ignore[return-value]

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key()}"}

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        duration = whole(request.duration)
        fields = self.without_omitted(
            {
                "prompt": request.prompt,
                "model": self.luma.model,
                "aspect_ratio": request.aspect_ratio,
                "resolution": p_label(request.resolution),
                "duration": f"{duration}s" if duration is not None else None,
                "negative_prompt": request.negative_prompt or None,
            }
        )
        fields.update(self.rendered_inputs(request))
        return fields

    async def submit(self, request: GenerationRequest) -> Submission:
        what = "submit"
        data = await self.api.call_json(
            "POST", f"{self.luma.base_url}/generations/video", what=what,
            headers=self._headers(), json_body=self.body(request),
        )
        generation_id = self.text_field(data, "id", what)
        url = self.job_url(f"{self.luma.base_url}/generations", generation_id)
        return self.submission(generation_id, {"generation_url": url})

    async def poll(self, submission: Submission) -> PollResult:
        what = "status check"
        generation_url = self.state_url(submission, "generation_url")
        data = await self.api.call_json("GET", generation_url, what=what, headers=self._headers())
        raw = self.field(data, "state", what)
        status, note = map_status(raw, STATUSES)
        if status is JobStatus.FAILED:
            message = error_text(data.get("failure_reason")) or "generation failed"
            return self.result(status, error=message, state=note)
        if status is JobStatus.SUCCEEDED:
            url = self.url_field(data, "assets.video", what, relative_to=generation_url)
            return self.result(status, result_url=url, progress=1.0, state={"result_url": url})
        return self.result(status, state=note)
