"""The provider interface the run engine drives.

Two shapes of provider exist:

* :class:`LocalProvider` renders a clip in-process or with a local program
  (``synthetic``, ``command``). Nothing is paid for, so an interrupted job is
  simply run again.
* :class:`RemoteProvider` talks to a hosted API in three steps: ``submit``
  (returns the provider's job id and the URLs it gave us, which the engine
  journals before doing anything else), ``poll`` (one status check) and
  ``download``. The engine owns retries, backoff, polling cadence, rate limits
  and the journal; providers only translate one call at a time and raise
  :class:`TransientError` or :class:`PermanentError`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class JobStatus(str, enum.Enum):
    """The one set of job states every provider's statuses are mapped onto."""

    QUEUED = "queued"
    RUNNING = "running"
    THROTTLED = "throttled"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a provider needs to make one clip."""

    model_id: str
    prompt_id: str
    prompt: str
    seed: int
    repeat: int = 0
    duration: float | None = None
    resolution: str | None = None  # "1280x720"
    aspect_ratio: str | None = None  # "16:9"
    fps: int | None = None
    negative_prompt: str | None = None

    def requested_params(self) -> dict[str, Any]:
        """The clip properties the request asks for (and a scorer can check): only those set."""
        return {key: value for key in ("duration", "resolution", "aspect_ratio", "fps")
                if (value := getattr(self, key)) is not None}

    def template_values(self) -> dict[str, Any]:
        """Values for ``{placeholder}`` templates (command argv, generic http bodies)."""
        return {
            "model": self.model_id,
            "prompt_id": self.prompt_id,
            "prompt": self.prompt,
            "seed": self.seed,
            "repeat": self.repeat,
            "duration": self.duration,
            "resolution": self.resolution,
            "aspect_ratio": self.aspect_ratio,
            "fps": self.fps,
            "negative_prompt": self.negative_prompt or "",
        }


@dataclass(frozen=True)
class Submission:
    """What the engine journals right after a successful submit.

    ``state`` holds whatever the provider needs to poll and download later
    (status URL, result URL, ...), as plain JSON values. It must never contain
    a secret.
    """

    job_id: str
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PollResult:
    status: JobStatus
    result_url: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait
    progress: float | None = None  # 0..1 when the provider says
    state: dict[str, Any] = field(default_factory=dict)  # updates to Submission.state


@dataclass(frozen=True)
class GenerationResult:
    """A finished local generation: metadata the engine stores beside the video."""

    job_id: str | None = None
    cost: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """Base for errors a provider raises while handling one job."""


class TransientError(ProviderError):
    """Worth retrying: timeouts, dropped connections, 429, 5xx.

    ``maybe_delivered`` says the request may have reached the provider before the
    failure (no answer after it was sent). Retrying a poll or a download is then
    harmless; retrying a submit could pay twice, so the engine does not.
    """

    def __init__(self, message: str, retry_after: float | None = None, *,
                 maybe_delivered: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered


class PermanentError(ProviderError):
    """Not worth retrying: bad request, auth failure, malformed answer, a failed job."""


class ProviderParams(BaseModel):
    """Base for each provider's own parameters (the extra keys of ``[models.<id>]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(ABC):
    name: ClassVar[str]
    Params: ClassVar[type[ProviderParams]] = ProviderParams
    #: Remote providers cost money; the engine journals their job ids and resumes them.
    remote: ClassVar[bool] = False

    def __init__(self, model_id: str, params: ProviderParams):
        self.model_id = model_id
        self.params = params

    def secrets(self) -> list[str]:
        """Secret values this provider may send; the engine scrubs them from anything it writes."""
        return []

    def required_env(self) -> list[str]:
        """Environment variables that must be set before this provider can work (e.g. its API key).

        The engine checks them before a run starts, so a missing key is one clear error rather
        than a failed job per prompt.
        """
        return []

    async def aclose(self) -> None:  # pragma: no cover - default does nothing
        return None


class LocalProvider(Provider):
    @abstractmethod
    async def generate(self, request: GenerationRequest, output: Path) -> GenerationResult:
        """Write the clip to ``output`` (an .mp4 path in a temp folder) or raise ProviderError."""


class RemoteProvider(Provider):
    remote = True

    @abstractmethod
    async def submit(self, request: GenerationRequest) -> Submission: ...

    @abstractmethod
    async def poll(self, submission: Submission) -> PollResult: ...

    @abstractmethod
    async def download(self, submission: Submission, result: PollResult, output: Path) -> None:
        """Fetch the finished clip to ``output`` (temp path chosen by the engine)."""

    @property
    def poll_interval(self) -> float:
        return float(getattr(self.params, "poll_interval", 5.0))
