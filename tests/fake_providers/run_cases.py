"""Fakes whose faults and outcomes are scripted per prompt, for whole-run tests.

The plain fakes take faults from one queue per stage, so under a concurrent run
it is luck which job meets which fault. Here each prompt's text carries a
marker such as ``[rate]`` and every request is traced back to its job (a
submit by its body, later calls by the job id in the path), so::

    fake = scripted(FakeLuma)(api_key=KEY, prompt_faults={"rate": {"submit": ["429"]}},
                              failing="refused", bad_url="badurl")

gives the ``[rate]`` job one 429 on submit, fails the ``[refused]`` job at the
provider and hands the ``[badurl]`` job a ``file:`` result URL.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from tests.fake_providers.server import FakeServer, Fault, Request

#: Why the fake fails the job marked ``failing``.
FAILURE_MESSAGE = "the prompt was refused by the content policy"
#: The result URL handed to the job marked ``bad_url``.
NON_HTTP_URL = "file:///etc/passwd"


class PerPromptFaults(FakeServer):
    """Mixin placed before a concrete fake (see :func:`scripted`)."""

    def __init__(
        self,
        *,
        prompt_faults: Mapping[str, Mapping[str, Iterable[str | Fault]]] | None = None,
        failing: str | None = None,
        bad_url: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.prompt_faults: dict[str, dict[str, deque[Fault]]] = {
            marker: {stage: deque(f if isinstance(f, Fault) else Fault(f) for f in items)
                     for stage, items in stages.items()}
            for marker, stages in (prompt_faults or {}).items()
        }
        self.failing_marker = failing
        self.bad_url_marker = bad_url
        self.markers = [*self.prompt_faults, *(m for m in (failing, bad_url) if m)]
        self._current: Request | None = None

    # -- which job a request belongs to -------------------------------------------------

    @staticmethod
    def job_text(job: Mapping[str, Any]) -> str:
        return json.dumps(job.get("body"))

    def markers_in(self, text: str) -> list[str]:
        return [m for m in self.markers if f"[{m}]" in text]

    def marker_of(self, request: Request) -> str | None:
        """The scripted marker of the job a request is about, if any."""
        text = request.body.decode("utf-8", "replace") if request.body else ""
        if not text:
            for job_id, job in list(self.jobs.items()):
                if job_id in request.path:
                    text = self.job_text(job)
                    break
        found = [m for m in self.markers_in(text) if m in self.prompt_faults]
        return found[0] if found else None

    def submitted_markers(self) -> list[str]:
        """The marker of every accepted submit, in order (unmarked ones as '')."""
        result = []
        for body in list(self.bodies):
            found = self.markers_in(json.dumps(body))
            result.append(found[0] if found else "")
        return result

    def unused_faults(self) -> dict[str, dict[str, list[str]]]:
        """Scripted faults no request has met yet (empty when every one was hit)."""
        left: dict[str, dict[str, list[str]]] = {}
        for marker, stages in self.prompt_faults.items():
            for stage, queue in stages.items():
                if queue:
                    left.setdefault(marker, {})[stage] = [f.kind for f in queue]
        return left

    # -- hooks of FakeServer -----------------------------------------------------------------

    def _respond(self, request: Request):  # type: ignore[override]
        # The fake's loop is one thread and _respond never awaits: this is safe.
        self._current = request
        try:
            return super()._respond(request)
        finally:
            self._current = None

    def take_fault(self, stage: str) -> Fault | None:
        request = self._current
        marker = self.marker_of(request) if request is not None else None
        if marker is not None:
            with self._lock:
                queue = self.prompt_faults[marker].get(stage)
                if queue:
                    fault = queue[0]
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            queue.popleft()
                    return fault
        return super().take_fault(stage)

    def done(self, job: dict[str, Any]) -> bool:
        # Every fake asks done() right before it reads fail_job / result_url_override.
        finished = super().done(job)
        found = self.markers_in(self.job_text(job))
        self.fail_job = FAILURE_MESSAGE if self.failing_marker in found else None
        self.result_url_override = NON_HTTP_URL if self.bad_url_marker in found else None
        return finished


def scripted(base: type[FakeServer]) -> type[PerPromptFaults]:
    """``base`` (FakeFal, FakeLuma, ...) with per-prompt faults and outcomes."""
    return type(f"Scripted{base.__name__}", (PerPromptFaults, base), {})  # type: ignore[return-value]
