"""Any submit-then-poll JSON API, described entirely in benchmark.toml.

Example::

    [models.acme]
    provider = "http"
    api_key_env = "ACME_KEY"
    submit_url = "https://api.acme.example/v2/videos"
    headers = { Authorization = "Bearer {api_key}" }
    body = { text = "{prompt}", seed = "{seed}", length = "{duration}s" }
    job_id_path = "data.id"
    poll_url = "https://api.acme.example/v2/videos/{job_id}"
    status_path = "data.state"
    status_map = { pending = "queued", working = "running", done = "succeeded", error = "failed" }
    result_url_path = "data.files.0.url"
    error_path = "data.message"

Header values may use ``{api_key}``: the key is read from ``api_key_env`` at
call time and inserted only into headers, never into URLs or bodies. Body
strings use the request placeholders of :mod:`.templates`; a value that is
exactly ``"{seed}"`` is sent as the number. ``inputs`` is merged into the body
(top level) after rendering.

Where the key goes: headers that use ``{api_key}`` are sent only to the
origins of the configured ``submit_url`` and ``poll_url`` (after joining
``base_url``; a ``poll_url`` whose host depends on ``{job_id}`` does not
count). A poll URL read from the answer (``poll_url_path``) on any other
origin is polled with the other headers but without the key; if it then
answers 401/403 the job fails with a message saying so. Result URLs are
downloaded without headers unless ``download_auth`` is set, and then only from
the submit URL's origin. Relative URLs in answers are resolved against the URL
of the answer they came in.

Cache keys: ``base_url`` is part of a clip's identity here (two servers make
different clips), while settings that only say how to talk to the server
(polling, headers, paths into the answers, status vocabulary) are not, so
fixing them never regenerates a clip. ``submit_url``, ``method``, ``body``,
``inputs``, ``omit`` and ``model`` are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
from pydantic import Field, field_validator, model_validator

from workbench.providers.base import GenerationRequest, JobStatus, PermanentError, PollResult, Submission
from workbench.providers.hosted import json_paths, templates
from workbench.providers.hosted.http_client import check_http_url, same_origin
from workbench.providers.hosted.provider_base import HostedParams, HostedProvider, check_env_name, error_text

StatusName = Literal["queued", "running", "throttled", "succeeded", "failed", "canceled"]
HEADER_PLACEHOLDERS = frozenset({"api_key", "model"})
URL_PLACEHOLDERS = frozenset({"model"})


class GenericHttpParams(HostedParams):
    #: Optional; relative submit/poll URLs are joined to it.
    base_url: str | None = None  # type: ignore[assignment]
    #: Needed only when a header uses {api_key}.
    api_key_env: str | None = None  # type: ignore[assignment]
    model: str = ""

    submit_url: str
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] = Field(default_factory=dict)
    job_id_path: str

    poll_url: str | None = None
    poll_url_path: str | None = None
    poll_method: Literal["GET", "POST"] = "GET"
    status_path: str
    status_map: dict[str, StatusName]
    #: What an unmapped status means: keep polling (noted), a failed job, or an error.
    unknown_status: Literal["running", "failed", "error"] = "running"
    result_url_path: str
    error_path: str | None = None
    progress_path: str | None = None
    #: Divide the progress value by this (100 for percentages).
    progress_scale: float = Field(default=1.0, gt=0)
    #: Send the headers (with the key) when downloading from the submit URL's own origin.
    download_auth: bool = False

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:  # type: ignore[override]
        if value is None:
            return None
        try:
            check_http_url(value, "base_url")
        except PermanentError as exc:
            raise ValueError(str(exc)) from None
        return value.strip().rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:  # type: ignore[override]
        if value is None:
            return None
        return check_env_name(value)

    @field_validator("job_id_path", "poll_url_path", "status_path", "result_url_path", "error_path", "progress_path")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        return None if value is None else json_paths.check_path(value)

    @field_validator("body")
    @classmethod
    def _body(cls, value: dict[str, Any]) -> dict[str, Any]:
        templates.check_placeholders(value, templates.REQUEST_PLACEHOLDERS, "body")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        templates.check_placeholders(value, HEADER_PLACEHOLDERS, "headers")
        return value

    @field_validator("status_map")
    @classmethod
    def _status_map(cls, value: dict[str, StatusName]) -> dict[str, StatusName]:
        if not value:
            raise ValueError("status_map is empty; map the provider's status values onto queued/running/succeeded/...")
        if "succeeded" not in value.values():
            raise ValueError("status_map maps no value to 'succeeded', so no job could ever finish")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "GenericHttpParams":
        if (self.poll_url is None) == (self.poll_url_path is None):
            raise ValueError("give exactly one of poll_url (a template with {job_id}) or poll_url_path")
        templates.check_placeholders(self.submit_url, URL_PLACEHOLDERS, "submit_url")
        if self.poll_url is not None:
            templates.check_placeholders(self.poll_url, URL_PLACEHOLDERS | {"job_id"}, "poll_url")
            if "job_id" not in templates.placeholders_in(self.poll_url):
                raise ValueError("poll_url has no {job_id} placeholder")
        if "api_key" in templates.placeholders_in(self.headers) and not self.api_key_env:
            raise ValueError("headers use {api_key} but api_key_env (the variable holding the key) is not set")
        for name, url in (("submit_url", self.submit_url), ("poll_url", self.poll_url)):
            if url is None:
                continue
            scheme = httpx.URL(url.replace("{", "").replace("}", "")).scheme
            if not scheme and not self.base_url:
                raise ValueError(f"{name} {url!r} is relative; make it absolute or set base_url")
            if scheme and scheme not in ("http", "https"):
                raise ValueError(f"{name} has scheme '{scheme}:'; only http and https are supported")
        return self


class GenericHttpProvider(HostedProvider):
    name = "http"
    label = "http"
    Params = GenericHttpParams
    #: How to talk to the server and read its answers, not what it renders.
    cache_exempt_params: ClassVar[tuple[str, ...]] = (
        "job_id_path", "poll_url", "poll_url_path", "poll_method", "headers", "status_path", "status_map",
        "unknown_status", "result_url_path", "error_path", "progress_path", "progress_scale", "download_auth",
    )

    @classmethod
    def cache_extra(cls, params: GenericHttpParams, request: GenerationRequest) -> dict[str, Any]:
        """The server is part of the clip's identity: ``base_url`` (exempt for other providers) counts."""
        return {"base_url": params.base_url} if params.base_url else {}

    @property
    def gp(self) -> GenericHttpParams:
        return self.params  # type: ignore[return-value]

    def secrets(self) -> list[str]:
        return super().secrets() if self.gp.api_key_env else []

    # -- pieces ------------------------------------------------------------------

    def _absolute(self, url: str, relative_to: str | None = None) -> str:
        base = relative_to or (self.gp.base_url + "/" if self.gp.base_url else None)
        if base and not httpx.URL(url).scheme:
            url = str(httpx.URL(base).join(url))
        return url

    def _url(self, template: str, **values: str) -> str:
        filled = {"model": quote(self.gp.model, safe="/:"), **{k: quote(v, safe="") for k, v in values.items()}}
        return self._absolute(templates.render_string(template, filled))

    def key_origins(self) -> list[str]:
        """The configured submit URL, and the configured poll URL when its host is fixed."""
        origins = [self._url(self.gp.submit_url)]
        if self.gp.poll_url is not None:
            one, other = self._url(self.gp.poll_url, job_id="a"), self._url(self.gp.poll_url, job_id="b")
            try:
                if same_origin(one, other):
                    origins.append(one)
            except (httpx.InvalidURL, ValueError, TypeError):
                pass
        return origins

    def headers_without_key(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The configured headers that do not use ``{api_key}``."""
        keyed = {name for name, value in self.gp.headers.items() if "api_key" in templates.placeholders_in(value)}
        return {name: value for name, value in headers.items() if name not in keyed}

    def _headers(self) -> dict[str, str]:
        if not self.gp.headers:
            return {}
        values = {"model": self.gp.model}
        if "api_key" in templates.placeholders_in(self.gp.headers):
            values["api_key"] = self.api_key()
        return {name: str(templates.render_string(value, values)) for name, value in self.gp.headers.items()}

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        values = self.template_values(request)
        body = templates.render(self.gp.body, values)
        body.update(self.rendered_inputs(request))
        return body

    def _status(self, raw: Any) -> tuple[JobStatus | None, dict[str, Any]]:
        key = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
        if key in self.gp.status_map:
            return JobStatus(self.gp.status_map[key]), {}
        return None, {"note": f"unknown status {key[:80]!r}"}

    # -- protocol ----------------------------------------------------------------

    async def submit(self, request: GenerationRequest) -> Submission:
        what = "submit"
        submit_url = self._url(self.gp.submit_url)
        data = await self.api.call_json(
            self.gp.method, submit_url, what=what, headers=self._headers(), json_body=self.body(request)
        )
        job_id = self.text_field(data, self.gp.job_id_path, what)
        if self.gp.poll_url_path:
            found = self.field(data, self.gp.poll_url_path, what)
            if not isinstance(found, str):
                raise self.api.permanent(what, f"{self.gp.poll_url_path!r} is not a URL string")
            poll_url = self.resolve_url(found, submit_url, "poll URL")
        else:
            poll_url = self._url(self.gp.poll_url or "", job_id=job_id)
        return self.submission(job_id, {"poll_url": self.api.check_url(poll_url, "poll URL")})

    async def poll(self, submission: Submission) -> PollResult:
        what = "status check"
        poll_url = self.state_url(submission, "poll_url")
        data = await self.call_json_scoped(self.gp.poll_method, poll_url, what=what, headers=self._headers())
        raw = self.field(data, self.gp.status_path, what)
        status, note = self._status(raw)
        if status is None:
            if self.gp.unknown_status == "error":
                raise self.api.permanent(what, f"status {str(raw)[:80]!r} is not in status_map")
            if self.gp.unknown_status == "failed":
                return self.result(JobStatus.FAILED, error=f"status {str(raw)[:80]!r} is not in status_map", state=note)
            status = JobStatus.RUNNING
            note["note"] += " treated as running"
        if status in (JobStatus.FAILED, JobStatus.CANCELED):
            message = ""
            if self.gp.error_path:
                message = error_text(json_paths.lookup(data, self.gp.error_path))
            return self.result(status, error=message or f"job {status.value} (status {str(raw)[:80]!r})", state=note)
        if status is JobStatus.SUCCEEDED:
            found = self.field(data, self.gp.result_url_path, what)
            if not isinstance(found, str):
                raise self.api.permanent(what, f"{self.gp.result_url_path!r} is not a URL string")
            url = self.resolve_url(found, poll_url, "result URL")
            return self.result(status, result_url=url, progress=1.0, state={**note, "result_url": url})
        progress = None
        if self.gp.progress_path:
            value = json_paths.lookup(data, self.gp.progress_path)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                progress = value / self.gp.progress_scale
        return self.result(status, progress=progress, state=note)

    def download_headers(self, url: str) -> Mapping[str, str]:
        if self.gp.download_auth and same_origin(url, self._url(self.gp.submit_url)):
            return self._headers()
        return {}
