"""Fake fal queue API (``queue.fal.run``): submit, status, result, CDN file."""

from __future__ import annotations

import uuid
from typing import Any

from tests.fake_providers.server import FakeServer, Reply, Request


class FakeFal(FakeServer):
    """``base_url`` is the queue origin; the model id is the path after it.

    ``fail_via="result"`` (default) makes a failed request answer the result
    fetch with 422 and a ``detail`` list; ``fail_via="status"`` puts ``error``
    and ``error_type`` in the COMPLETED status instead.
    """

    auth_prefix = "Key "

    def __init__(self, *, fail_via: str = "result", **kwargs: Any):
        super().__init__(**kwargs)
        self.fail_via = fail_via

    def unauthorized_reply(self) -> Reply:
        return Reply.json({"detail": "Unauthorized: invalid key"}, 401)

    @staticmethod
    def _parts(request: Request) -> list[str]:
        return [p for p in request.path.split("/") if p]

    def stage_of(self, request: Request) -> str | None:
        parts = self._parts(request)
        if request.method == "POST":
            return "submit"
        if "requests" in parts:
            return "poll" if parts[-1] == "status" else "result"
        return None

    def handle(self, request: Request) -> Reply:
        parts = self._parts(request)
        if request.method == "POST" and len(parts) >= 2 and "requests" not in parts:
            body = request.json()
            if not isinstance(body, dict) or not body.get("prompt"):
                return Reply.json({"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]}, 422)
            request_id = str(uuid.uuid4())
            root = "/".join(parts[:2])
            job = self.new_job(request_id, body)
            job["root"] = root
            base = f"{self.origin}/{root}/requests/{request_id}"
            return Reply.json(
                {
                    "request_id": request_id,
                    "status": "IN_QUEUE",
                    "queue_position": 0,
                    "status_url": f"{base}/status",
                    "response_url": base,
                    "cancel_url": f"{base}/cancel",
                }
            )
        if request.method == "GET" and "requests" in parts:
            index = parts.index("requests")
            job = self.jobs.get(parts[index + 1]) if len(parts) > index + 1 else None
            if job is None:
                return Reply.json({"detail": "Request not found"}, 404)
            if parts[-1] == "status":
                return self._status(job)
            return self._result(job)
        return Reply.json({"detail": "Not found"}, 404)

    def _status(self, job: dict[str, Any]) -> Reply:
        polls = self.tick(job)
        if self.done(job):
            answer: dict[str, Any] = {"status": "COMPLETED", "request_id": job["id"], "logs": None}
            if self.fail_job and self.fail_via == "status":
                answer.update(error=self.fail_job, error_type="runner_server_error")
            return Reply.json(answer)
        if polls == 1:
            return Reply.json({"status": "IN_QUEUE", "queue_position": 2, "request_id": job["id"]})
        return Reply.json({"status": "IN_PROGRESS", "request_id": job["id"], "logs": []})

    def _result(self, job: dict[str, Any]) -> Reply:
        if not self.done(job):
            return Reply.json({"detail": "Request is still in progress"}, 400)
        if self.fail_job:
            return Reply.json(
                {"detail": [{"loc": ["body", "prompt"], "msg": self.fail_job, "type": "value_error"}]}, 422
            )
        url = self.video_url(job["id"])
        return Reply.json({"video": {"url": url, "content_type": "video/mp4", "file_size": len(self.video)}, "seed": 1})
