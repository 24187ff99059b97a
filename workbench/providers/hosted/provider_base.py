"""What every hosted provider shares: parameters, the key, the client, download.

A concrete provider is a small preset: where to submit, how to read the job id
and status, how its statuses map onto :class:`JobStatus`, where the video URL
is. Requests, error classification and redaction live in :mod:`.http_client`,
streaming in :mod:`.download`.

Where the API key goes: only to the origin (scheme, host, port) of
``base_url``, the address the user configured (the ``http`` provider widens
this to the origins of its configured ``submit_url`` and ``poll_url``). A
status or result URL the provider's *answer* names on any other origin never
gets the key: presets replace such a URL by the documented one on
``base_url`` when the API documents one (fal, Replicate), and otherwise poll
it without the key, turning a 401/403 there into a clear error saying why.
The real APIs name URLs on their own origin (fal: ``queue.fal.run``,
Replicate: ``api.replicate.com``), so this never gets in their way.

URLs in answers may be relative; they are resolved against the URL of the
answer they came in, and only http(s) results are ever fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import AliasChoices, Field, field_validator

from workbench.errors import WorkbenchError
from workbench.providers.base import (
    GenerationRequest,
    JobStatus,
    PermanentError,
    PollResult,
    ProviderParams,
    RemoteProvider,
    Submission,
)
from workbench.providers.hosted import json_paths, templates
from workbench.providers.hosted.download import download_file
from workbench.providers.hosted.http_client import ApiClient, check_http_url, same_origin
from workbench.secrets import MissingSecret, peek_secret, read_secret, redact

DEFAULT_MAX_DOWNLOAD = 2 * 1024**3


class MissingApiKey(PermanentError, WorkbenchError):
    """The key's environment variable is unset: a job error and a user-facing message."""

    def __init__(self, message: str, env_var: str):
        super().__init__(message)
        self.env_var = env_var


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_env_name(value: str) -> str:
    """``value`` if it looks like an environment variable name, else ValueError.

    The message never repeats the value: someone may have pasted the key itself.
    """
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise ValueError(
            "api_key_env must be the name of an environment variable (e.g. 'FAL_KEY'), "
            "never the key itself"
        )
    return value


class HostedParams(ProviderParams):
    """Keys common to all hosted providers (``[models.<id>]`` in benchmark.toml)."""

    base_url: str
    api_key_env: str
    model: str
    timeout: float = Field(
        default=60.0, gt=0,
        description="seconds allowed for one API request; for downloads, for each read of the body",
    )
    poll_interval: float = Field(default=5.0, gt=0, description="seconds between status checks")
    timeout_total: float | None = Field(
        default=None, gt=0,
        description="seconds a job may take from submit to finish before it is given up; "
                    "unset = the run engine's default (an hour)",
    )
    max_download_bytes: int = Field(default=DEFAULT_MAX_DOWNLOAD, gt=0)
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("inputs", "extra"),
        description="extra request fields; string values may use {prompt}, {seed}, ... placeholders",
    )
    omit: list[str] = Field(
        default_factory=list, description="standard request fields not to send (e.g. ['seed'])"
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        try:
            check_http_url(value, "base_url")
        except PermanentError as exc:
            raise ValueError(str(exc)) from None
        return value.strip().rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        return check_env_name(value)

    @field_validator("inputs")
    @classmethod
    def _inputs(cls, value: dict[str, Any]) -> dict[str, Any]:
        templates.check_placeholders(value, templates.REQUEST_PLACEHOLDERS, "inputs")
        return value


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, for messages."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return "another host"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def map_status(value: Any, table: Mapping[str, JobStatus]) -> tuple[JobStatus, dict[str, Any]]:
    """The JobStatus for a provider's status value, and a state note for unknown ones.

    An unknown value is taken as still running (the engine's deadline bounds
    it) and noted in the state so the journal shows what the provider said.
    """
    key = value if isinstance(value, str) else str(value)
    if key in table:
        return table[key], {}
    return JobStatus.RUNNING, {"note": f"unknown status {key[:80]!r} treated as running"}


def error_text(value: Any) -> str:
    """A readable message from whatever a provider put in its error field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        for key in ("message", "detail", "error", "msg", "reason", "failure", "title"):
            if key in value and value[key]:
                text = error_text(value[key])
                code = value.get("code") or value.get("error_type") or value.get("failureCode")
                return f"{text} ({code})" if code and str(code) not in text else text
        return json.dumps(value, sort_keys=True)[:500]
    if isinstance(value, (list, tuple)):
        return "; ".join(t for t in (error_text(v) for v in value) if t)
    return str(value)


class HostedProvider(RemoteProvider):
    """Shared machinery; subclasses implement submit and poll as presets."""

    name: ClassVar[str]
    #: Human-readable name used in messages ("fal", "Replicate", ...).
    label: ClassVar[str]
    Params: ClassVar[type[HostedParams]] = HostedParams

    def __init__(self, model_id: str, params: ProviderParams):
        super().__init__(model_id, params)
        self.params: HostedParams = params  # type: ignore[assignment]
        self.api = ApiClient(self.label, self.params.timeout, self.secrets)

    # -- the key -------------------------------------------------------------

    def api_key(self) -> str:
        """The key, read from the environment now."""
        env = self.params.api_key_env
        try:
            return read_secret(env, purpose=f"{self.label} model '{self.model_id}'")
        except MissingSecret as exc:
            raise MissingApiKey(str(exc), env) from None

    def secrets(self) -> list[str]:
        value = peek_secret(self.params.api_key_env)
        return [value] if value else []

    def required_env(self) -> list[str]:
        return [self.params.api_key_env] if self.params.api_key_env else []

    async def aclose(self) -> None:
        await self.api.aclose()

    # -- building blocks for presets------------------------------------------------

    def template_values(self, request: GenerationRequest) -> dict[str, Any]:
        values = request.template_values()
        values["model"] = self.params.model or request.model_id
        return values

    def rendered_inputs(self, request: GenerationRequest) -> dict[str, Any]:
        return templates.render(self.params.inputs, self.template_values(request))

    def without_omitted(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Drop unset (None) values and the fields named in ``omit``."""
        omitted = set(self.params.omit)
        return {k: v for k, v in fields.items() if v is not None and k not in omitted}

    def field(self, data: Any, path: str, what: str) -> Any:
        """The value at ``path`` in a provider's answer; PermanentError when absent."""
        try:
            return json_paths.resolve(data, path)
        except json_paths.PathNotFound as exc:
            raise self.api.permanent(what, f"answer is missing {exc.path!r}: {exc.reason}") from None

    def text_field(self, data: Any, path: str, what: str) -> str:
        value = self.field(data, path, what)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
            raise self.api.permanent(what, f"answer field {path!r} is not a non-empty string")
        return str(value)

    def url_field(self, data: Any, path: str, what: str, *, relative_to: str | None = None) -> str:
        """The URL at ``path``, resolved against ``relative_to`` (the URL the answer came from)."""
        return self.resolve_url(self.field(data, path, what), relative_to, f"{what} ({path})")

    def resolve_url(self, value: Any, relative_to: str | None, what: str) -> str:
        """``value`` made absolute against ``relative_to``; PermanentError unless it is http(s).

        A relative URL (``/files/x.mp4``, ``x.mp4``, ``//cdn.example/x.mp4``) is
        resolved as a browser would against the URL of the answer it came in;
        the scheme check happens after resolving, so ``file:`` and friends stay refused.
        """
        if isinstance(value, str) and value.strip() and relative_to:
            try:
                value = str(httpx.URL(relative_to).join(value.strip()))
            except (httpx.InvalidURL, ValueError, TypeError):
                raise self.api.permanent(what, "the answer's URL is not a valid URL") from None
        return self.api.check_url(value, what)

    # -- where the key may go -------------------------------------------------------

    def key_origins(self) -> list[str]:
        """URLs whose origins may receive the API key: the configured ``base_url``."""
        return [self.params.base_url]

    def sends_key_to(self, url: str) -> bool:
        """True when ``url`` is on an origin that may receive the key."""
        try:
            return any(same_origin(url, origin) for origin in self.key_origins())
        except (httpx.InvalidURL, ValueError, TypeError):
            return False

    def headers_without_key(self, headers: Mapping[str, str]) -> dict[str, str]:
        """What of ``headers`` may go to another origin; nothing by default (they carry the key)."""
        return {}

    def headers_for(self, url: str, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` for a request to ``url``: the key only travels to its own origin."""
        if self.sends_key_to(url):
            return dict(headers)
        return self.headers_without_key(headers)

    def own_url(self, value: Any, *, relative_to: str, fallback: str, what: str) -> str:
        """A URL from an answer if it is on the key's origin, else the documented ``fallback``.

        Used where the API documents where a job's URLs live, so an answer naming
        another host neither receives the key nor loses the job.
        """
        if value is None or value == "":
            return self.api.check_url(fallback, what)
        url = self.resolve_url(value, relative_to, what)
        return url if self.sends_key_to(url) else self.api.check_url(fallback, what)

    async def call_json_scoped(self, method: str, url: str, *, what: str, headers: Mapping[str, str]) -> Any:
        """Like ``api.call_json``, but the key goes only to its own origin (see the module notes)."""
        response = await self.send_scoped(method, url, what=what, headers=headers)
        self.api.check_status(response, what)
        return self.api.parse_json(response, what)

    async def send_scoped(self, method: str, url: str, *, what: str, headers: Mapping[str, str]) -> httpx.Response:
        """``api.send`` with the key only for its own origin; a 401/403 elsewhere says why."""
        keyed = self.sends_key_to(url)
        response = await self.api.send(method, url, what=what, headers=self.headers_for(url, headers))
        if not keyed and response.status_code in (401, 403):
            raise self.api.permanent(
                what,
                f"{_origin(url)} answered HTTP {response.status_code} (it wants credentials), but the API key "
                f"is sent only to {', '.join(sorted({_origin(u) for u in self.key_origins()}))}, "
                "never to another host named in the provider's answers",
            )
        return response

    def job_url(self, base: str, *parts: str) -> str:
        """``base`` joined with URL-quoted path parts (ids never escape their segment)."""
        return "/".join([base.rstrip("/"), *(quote(p, safe="") for p in parts)])

    def scrub(self, value: Any) -> Any:
        """A copy of a JSON-like value with every secret redacted (for state and messages)."""
        if isinstance(value, str):
            return redact(value, self.secrets())
        if isinstance(value, Mapping):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(v) for v in value]
        return value

    def submission(self, job_id: str, state: dict[str, Any]) -> Submission:
        return Submission(job_id=self.scrub(job_id), state=self.scrub(state))

    def result(
        self,
        status: JobStatus,
        *,
        result_url: str | None = None,
        error: str | None = None,
        retry_after: float | None = None,
        progress: float | None = None,
        state: dict[str, Any] | None = None,
    ) -> PollResult:
        if progress is not None:
            progress = min(1.0, max(0.0, float(progress)))
        if error is not None:
            error = self.scrub(f"{self.label}: {error}")[:2000]
        return PollResult(
            status=status,
            result_url=self.scrub(result_url) if result_url else None,
            error=error,
            retry_after=retry_after,
            progress=progress,
            state=self.scrub(state or {}),
        )

    def state_url(self, submission: Submission, key: str) -> str:
        """A URL kept in ``Submission.state`` at submit time."""
        value = submission.state.get(key)
        if not value:
            raise PermanentError(f"{self.label}: submission {submission.job_id!r} has no {key!r} in its state")
        return self.api.check_url(value, f"stored {key}")

    # -- download ----------------------------------------------------------------

    def download_headers(self, url: str) -> Mapping[str, str]:
        """Headers sent with each download hop; none by default (result URLs are CDN links)."""
        return {}

    async def download(self, submission: Submission, result: PollResult, output: Path) -> None:
        url = result.result_url or submission.state.get("result_url")
        if not url:
            raise PermanentError(f"{self.label}: job {submission.job_id!r} finished without a result URL")
        await download_file(
            self.api,
            url,
            output,
            max_bytes=self.params.max_download_bytes,
            headers_for=self.download_headers,
        )
