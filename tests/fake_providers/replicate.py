"""Fake Replicate predictions API (``/v1``)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.fake_providers.server import FakeServer, Reply, Request


class FakeReplicate(FakeServer):
    """``output_list=True`` returns ``output`` as a list of URLs instead of one URL."""

    prefix = "/v1"

    def __init__(self, *, output_list: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.output_list = output_list

    def unauthorized_reply(self) -> Reply:
        return Reply.json(
            {"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401}, 401
        )

    def stage_of(self, request: Request) -> str | None:
        if request.method == "POST" and request.path.endswith("/predictions"):
            return "submit"
        if request.method == "GET" and request.path.startswith("/v1/predictions/"):
            return "poll"
        return None

    def handle(self, request: Request) -> Reply:
        path = request.path
        if request.method == "POST" and path.endswith("/predictions"):
            body = request.json()
            if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
                return Reply.json({"title": "Invalid input", "detail": "input is required", "status": 422}, 422)
            if path == "/v1/predictions":
                if not body.get("version"):
                    return Reply.json({"detail": "version is required", "status": 422}, 422)
                model = None
            else:
                parts = path.split("/")
                if len(parts) != 6 or parts[2] != "models":
                    return Reply.json({"detail": "Not found"}, 404)
                model = f"{parts[3]}/{parts[4]}"
            prediction_id = uuid.uuid4().hex[:26]
            job = self.new_job(prediction_id, body)
            job["model"] = model
            return Reply.json(self._prediction(job, "starting"), 201)
        if request.method == "GET" and path.startswith("/v1/predictions/"):
            job = self.jobs.get(path.rsplit("/", 1)[-1])
            if job is None:
                return Reply.json({"detail": "Not found", "status": 404}, 404)
            polls = self.tick(job)
            if self.done(job):
                if self.fail_job:
                    return Reply.json(self._prediction(job, "failed", error=self.fail_job))
                url = self.video_url(job["id"])
                return Reply.json(self._prediction(job, "succeeded", output=[url] if self.output_list else url))
            if polls == 1:
                return Reply.json(self._prediction(job, "starting"))
            return Reply.json(self._prediction(job, "processing", logs="loading\n 40%|####      | 4/10\n"))
        return Reply.json({"detail": "Not found"}, 404)

    def _prediction(self, job: dict[str, Any], status: str, output: Any = None, error: str | None = None,
                    logs: str = "") -> dict[str, Any]:
        base = f"{self.origin}/v1/predictions/{job['id']}"
        return {
            "id": job["id"],
            "model": job.get("model"),
            "version": job["body"].get("version", "hidden"),
            "input": job["body"]["input"],
            "logs": logs,
            "output": output,
            "error": error,
            "status": status,
            "created_at": "2025-01-01T00:00:00.000Z",
            "urls": {"get": base, "cancel": f"{base}/cancel"},
        }
