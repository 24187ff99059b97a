"""Replicate predictions.

Reference: Replicate docs, "Predictions" (https://replicate.com/docs/topics/predictions)
and the HTTP API reference (create a prediction, get a prediction).

* submit: official models ``POST {base}/models/{owner}/{name}/predictions``
  with ``{"input": {...}}``; a pinned version (``owner/name:<version>`` or a bare
  64-hex version id) ``POST {base}/predictions`` with ``{"version", "input"}``.
  ``Authorization: Bearer <REPLICATE_API_TOKEN>``.
* poll: ``GET urls.get`` from the prediction; ``status`` is ``starting`` /
  ``processing`` / ``succeeded`` / ``failed`` / ``canceled``; ``error`` holds
  the failure; ``output`` is a URL or a list of URLs for video models.

The key goes only to the origin of ``base_url`` (``api.replicate.com`` by
default, where ``urls.get`` lives). A ``urls.get`` naming another host is
replaced by the documented ``{base}/predictions/{id}``, so it never receives
the key. Relative URLs in answers are resolved against the URL of the answer.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import field_validator

from workbench.providers.base import GenerationRequest, JobStatus, PollResult, Submission
from workbench.providers.hosted import json_paths
from workbench.providers.hosted.provider_base import HostedParams, HostedProvider, error_text, map_status
from workbench.providers.hosted.request_fields import whole

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_OFFICIAL = re.compile(rf"^({_NAME})/({_NAME})$")
_PINNED = re.compile(rf"^({_NAME})/({_NAME}):([A-Za-z0-9]+)$")
_VERSION = re.compile(r"^[0-9a-f]{64}$")
_PERCENT = re.compile(r"(\d{1,3})%")

STATUSES = {
    "starting": JobStatus.QUEUED,
    "processing": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "canceled": JobStatus.CANCELED,
}


class ReplicateParams(HostedParams):
    base_url: str = "https://api.replicate.com/v1"
    api_key_env: str = "REPLICATE_API_TOKEN"
    #: "owner/name" (official model), "owner/name:<version>" or a 64-hex version id.
    model: str
    #: Where the video URL is in ``output``; by default the output itself or its first item.
    result_path: str | None = None

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        value = value.strip()
        if not (_OFFICIAL.match(value) or _PINNED.match(value) or _VERSION.match(value)):
            raise ValueError(
                f"model {value!r} is not 'owner/name', 'owner/name:<version>' or a 64-hex version id"
            )
        return value

    @field_validator("result_path")
    @classmethod
    def _result_path(cls, value: str | None) -> str | None:
        return None if value is None else json_paths.check_path(value)


def _output_url(output: Any) -> Any:
    """The first URL-looking value in a prediction's ``output``."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and output:
        return _output_url(output[0])
    if isinstance(output, dict):
        for key in ("video", "url", "output"):
            if key in output:
                return _output_url(output[key])
    return None


class ReplicateProvider(HostedProvider):
    name = "replicate"
    label = "Replicate"
    Params = ReplicateParams
    #: Where the URL is read from the answer does not change the clip.
    cache_exempt_params: ClassVar[tuple[str, ...]] = ("result_path",)

    @property
    def rep(self) -> ReplicateParams:
        return self.params  # type: ignore[return-value]

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key()}"}

    def _target(self) -> tuple[str, dict[str, Any]]:
        """The create URL and the body keys besides ``input``."""
        model, base = self.rep.model, self.rep.base_url
        pinned = _PINNED.match(model)
        if pinned:
            return f"{base}/predictions", {"version": pinned.group(3)}
        if _VERSION.match(model):
            return f"{base}/predictions", {"version": model}
        owner, name = _OFFICIAL.match(model).groups()  # type: ignore[union-attr]
        return self.job_url(f"{base}/models", owner, name, "predictions"), {}

    def inputs(self, request: GenerationRequest) -> dict[str, Any]:
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
        url, body = self._target()
        body["input"] = self.inputs(request)
        data = await self.api.call_json("POST", url, what=what, headers=self._headers(), json_body=body)
        job_id = self.text_field(data, "id", what)
        get_url = self.own_url(
            json_paths.lookup(data, "urls.get"), relative_to=url,
            fallback=self.job_url(f"{self.rep.base_url}/predictions", job_id), what="submit urls.get",
        )
        return self.submission(job_id, {"get_url": get_url})

    async def poll(self, submission: Submission) -> PollResult:
        what = "status check"
        get_url = self.state_url(submission, "get_url")
        data = await self.call_json_scoped("GET", get_url, what=what, headers=self._headers())
        raw = self.field(data, "status", what)
        status, note = map_status(raw, STATUSES)
        if status in (JobStatus.FAILED, JobStatus.CANCELED):
            message = error_text(data.get("error")) or f"prediction {raw}"
            return self.result(status, error=message, state=note)
        if status is JobStatus.SUCCEEDED:
            if self.rep.result_path:
                url = self.url_field(data, f"output.{self.rep.result_path}", what, relative_to=get_url)
            else:
                url = self.resolve_url(_output_url(data.get("output")), get_url, "prediction output")
            return self.result(status, result_url=url, progress=1.0, state={"result_url": url})
        return self.result(status, progress=self._progress(data.get("logs")), state=note)

    @staticmethod
    def _progress(logs: Any) -> float | None:
        """The last percentage a model printed in its logs, if any."""
        if not isinstance(logs, str):
            return None
        found = _PERCENT.findall(logs[-4000:])
        if not found:
            return None
        return min(100, int(found[-1])) / 100.0
