"""Google Veo through the Gemini API (long-running operations).

Reference: Gemini API docs, "Generate videos with Veo" (https://ai.google.dev/gemini-api/docs/video),
REST examples.

* submit: ``POST {base}/models/{model}:predictLongRunning`` with
  ``{"instances": [{"prompt": ...}], "parameters": {...}}`` and the header
  ``x-goog-api-key``; the answer is an operation with a ``name`` such as
  ``models/veo-3.0-generate-001/operations/abc``.
* poll: ``GET {base}/{name}``; ``done`` turns true, then either ``error``
  (``code``, ``message``) or
  ``response.generateVideoResponse.generatedSamples[0].video.uri``.
* download: the video URI needs the key header too. It is sent only to the API's
  own origin; redirects elsewhere (storage) get no key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import field_validator

from workbench.providers.base import GenerationRequest, JobStatus, PollResult, Submission
from workbench.providers.hosted import json_paths
from workbench.providers.hosted.http_client import same_origin
from workbench.providers.hosted.provider_base import HostedParams, HostedProvider, error_text
from workbench.providers.hosted.request_fields import p_label, whole

_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_OPERATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9._~-]+)+$")
SAMPLE_URI = "response.generateVideoResponse.generatedSamples.0.video.uri"


class VeoParams(HostedParams):
    base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    api_key_env: str = "GEMINI_API_KEY"
    model: str = "veo-3.0-generate-001"

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("models/"):
            value = value[len("models/") :]
        if not _MODEL.match(value):
            raise ValueError(f"model {value!r} is not a Veo model name such as 'veo-3.0-generate-001'")
        return value


class VeoProvider(HostedProvider):
    name = "veo"
    label = "Veo"
    Params = VeoParams

    @property
    def veo(self) -> VeoParams:
        return self.params  # type: ignore[return-value]

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.api_key()}

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        """``inputs`` and ``omit`` apply to ``parameters`` (API field names, camelCase)."""
        parameters = self.without_omitted(
            {
                "aspectRatio": request.aspect_ratio,
                "negativePrompt": request.negative_prompt or None,
                "durationSeconds": whole(request.duration),
                "resolution": p_label(request.resolution),
            }
        )
        parameters.update(self.rendered_inputs(request))
        body: dict[str, Any] = {"instances": [{"prompt": request.prompt}]}
        if parameters:
            body["parameters"] = parameters
        return body

    async def submit(self, request: GenerationRequest) -> Submission:
        what = "submit"
        url = f"{self.veo.base_url}/models/{self.veo.model}:predictLongRunning"
        data = await self.api.call_json("POST", url, what=what, headers=self._headers(), json_body=self.body(request))
        name = self.text_field(data, "name", what)
        if not _OPERATION.match(name) or ".." in name.split("/"):
            raise self.api.permanent(what, f"operation name {name[:120]!r} is not a relative resource name")
        return self.submission(name, {"operation_url": f"{self.veo.base_url}/{name}"})

    async def poll(self, submission: Submission) -> PollResult:
        what = "status check"
        operation_url = self.state_url(submission, "operation_url")
        data = await self.api.call_json("GET", operation_url, what=what, headers=self._headers())
        if not isinstance(data, dict):
            raise self.api.permanent(what, "answer is not a JSON object")
        done = data.get("done", False)
        if not isinstance(done, bool):
            raise self.api.permanent(what, f"'done' is {type(done).__name__}, expected true/false")
        if not done:
            percent = json_paths.lookup(data, "metadata.progressPercent")
            progress = percent / 100.0 if isinstance(percent, (int, float)) and not isinstance(percent, bool) else None
            return self.result(JobStatus.RUNNING, progress=progress)
        if data.get("error"):
            return self.result(JobStatus.FAILED, error=error_text(data["error"]) or "operation failed")
        video = json_paths.lookup(data, "response.generateVideoResponse")
        samples = video.get("generatedSamples") if isinstance(video, Mapping) else None
        if not samples:
            reasons = video.get("raiMediaFilteredReasons") if isinstance(video, Mapping) else None
            if reasons:
                return self.result(JobStatus.FAILED, error=f"video filtered: {error_text(reasons)}")
        url = self.url_field(data, SAMPLE_URI, what, relative_to=operation_url)
        return self.result(JobStatus.SUCCEEDED, result_url=url, progress=1.0, state={"result_url": url})

    def download_headers(self, url: str) -> Mapping[str, str]:
        # The file URI lives on the API host and needs the key; a redirect to
        # another origin (storage) must not receive it.
        if same_origin(url, self.veo.base_url):
            return self._headers()
        return {}
