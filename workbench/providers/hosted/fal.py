"""fal.ai through its queue API.

Reference: fal docs, "Queue API | fal.ai Reference" (https://docs.fal.ai/model-endpoints/queue)
and "Asynchronous Inference" (https://fal.ai/docs/documentation/model-apis/inference/queue).

* submit: ``POST {base}/{model}`` with the model's input as the JSON body and
  ``Authorization: Key <FAL_KEY>``; the answer holds ``request_id``,
  ``status_url``, ``response_url`` (and ``cancel_url``).
* poll: ``GET status_url`` -> ``status`` is ``IN_QUEUE`` / ``IN_PROGRESS`` /
  ``COMPLETED``. Once completed, ``GET response_url`` gives the model output
  (for video models ``{"video": {"url": ...}}``). A request that failed on the
  runner answers the result fetch with an error status, an ``error_type`` field
  or an ``X-Fal-Error-Type`` header; that is a failed job, not an exception.

The key goes only to the origin of ``base_url`` (``queue.fal.run`` by default,
where fal's own status and response URLs live). A ``status_url`` or
``response_url`` naming another host is replaced by the documented URL on
``base_url``, so it never receives the key. Relative URLs in answers are
resolved against the URL of the answer.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import field_validator

from workbench.providers.base import GenerationRequest, JobStatus, PollResult, Submission
from workbench.providers.hosted import json_paths
from workbench.providers.hosted.provider_base import HostedParams, HostedProvider, error_text, map_status
from workbench.providers.hosted.request_fields import whole

_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)+$")

STATUSES = {
    "IN_QUEUE": JobStatus.QUEUED,
    "IN_PROGRESS": JobStatus.RUNNING,
    "COMPLETED": JobStatus.SUCCEEDED,
    "FAILED": JobStatus.FAILED,
    "CANCELED": JobStatus.CANCELED,
    "CANCELLED": JobStatus.CANCELED,
}


class FalParams(HostedParams):
    base_url: str = "https://queue.fal.run"
    api_key_env: str = "FAL_KEY"
    #: Endpoint id, e.g. "fal-ai/kling-video/v2.1/standard/text-to-video".
    model: str
    #: Where the video URL is in the model's output.
    result_path: str = "video.url"

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        value = value.strip().strip("/")
        if not _MODEL.match(value) or ".." in value.split("/"):
            raise ValueError(
                f"model {value!r} is not a fal endpoint id such as 'fal-ai/kling-video/v2.1/standard/text-to-video'"
            )
        return value

    @field_validator("result_path")
    @classmethod
    def _result_path(cls, value: str) -> str:
        return json_paths.check_path(value)


class FalProvider(HostedProvider):
    name = "fal"
    label = "fal"
    Params = FalParams
    #: Where the URL is read from the answer does not change the clip.
    cache_exempt_params: ClassVar[tuple[str, ...]] = ("result_path",)

    @property
    def fal(self) -> FalParams:
        return self.params  # type: ignore[return-value]

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.api_key()}"}

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        fields = self.without_omitted(
            {
                "prompt": request.prompt,
                "seed": request.seed,
                "negative_prompt": request.negative_prompt or None,
                "aspect_ratio": request.aspect_ratio,
                "duration": whole(request.duration),
            }
        )
        fields.update(self.rendered_inputs(request))
        return fields

    async def submit(self, request: GenerationRequest) -> Submission:
        what = "submit"
        submit_url = f"{self.fal.base_url}/{self.fal.model}"
        data = await self.api.call_json(
            "POST", submit_url, what=what, headers=self._headers(), json_body=self.body(request),
        )
        request_id = self.text_field(data, "request_id", what)
        # The status/result URLs are the ones fal gives when they are on base_url's
        # origin; otherwise (or when absent) the documented layout
        # ({base}/{owner}/{app}/requests/{id}[/status]) is used.
        app_root = "/".join(self.fal.model.split("/")[:2])
        fallback = self.job_url(f"{self.fal.base_url}/{app_root}/requests", request_id)
        status_url = data.get("status_url") if isinstance(data, dict) else None
        response_url = data.get("response_url") if isinstance(data, dict) else None
        state = {
            "status_url": self.own_url(status_url, relative_to=submit_url, fallback=f"{fallback}/status",
                                       what="submit status_url"),
            "response_url": self.own_url(response_url, relative_to=submit_url, fallback=fallback,
                                         what="submit response_url"),
        }
        return self.submission(request_id, state)

    async def poll(self, submission: Submission) -> PollResult:
        what = "status check"
        headers = self._headers()
        data = await self.call_json_scoped("GET", self.state_url(submission, "status_url"), what=what, headers=headers)
        raw = self.field(data, "status", what)
        status, note = map_status(raw, STATUSES)
        if status is JobStatus.QUEUED:
            position = data.get("queue_position")
            if isinstance(position, int):
                note["queue_position"] = position
            return self.result(status, state=note)
        if status is not JobStatus.SUCCEEDED:
            message = error_text(data.get("error")) if status.finished else None
            return self.result(status, error=message or (f"request {raw}" if status.finished else None), state=note)
        if data.get("error"):
            return self.result(JobStatus.FAILED, error=self._failure(data))
        return await self._fetch_result(submission, headers)

    @staticmethod
    def _failure(data: Any) -> str:
        message = error_text(data.get("error") or data.get("detail") or data) if isinstance(data, dict) else ""
        kind = data.get("error_type") if isinstance(data, dict) else None
        if kind and str(kind) not in message:
            message = f"{message} ({kind})"
        return message or "request failed"

    async def _fetch_result(self, submission: Submission, headers: dict[str, str]) -> PollResult:
        what = "result fetch"
        response_url = self.state_url(submission, "response_url")
        response = await self.send_scoped("GET", response_url, what=what, headers=headers)
        code = response.status_code
        if not 200 <= code < 300:
            body: Any = None
            try:
                body = response.json()
            except ValueError:
                body = None
            says_failed = "x-fal-error-type" in response.headers or (
                isinstance(body, dict) and "error_type" in body
            )
            job_failed = says_failed or (400 <= code < 500 and code not in (401, 403, 404, 408, 429))
            if not job_failed:
                self.api.check_status(response, what)  # raises (transient for 429/5xx)
            failure = self._failure(body) if isinstance(body, dict) else f"result fetch answered HTTP {code}"
            if "x-fal-error-type" in response.headers and response.headers["x-fal-error-type"] not in failure:
                failure = f"{failure} ({response.headers['x-fal-error-type']})"
            return self.result(JobStatus.FAILED, error=failure)
        output = self.api.parse_json(response, what)
        url = self.url_field(output, self.fal.result_path, what, relative_to=response_url)
        return self.result(JobStatus.SUCCEEDED, result_url=url, progress=1.0, state={"result_url": url})
