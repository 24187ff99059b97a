"""Fake of a made-up JSON API ("Acme") for the configurable ``http`` provider.

Protocol: ``POST /api/jobs`` -> 202 ``{"data": {"id", "links": {"status"}}}``;
``GET /api/jobs/{id}`` -> ``{"job": {"state": PENDING|WORKING|DONE|ERROR,
"progress": 0..100, "result": {"files": [{"url"}]}, "message"}}``; the key goes
in ``X-Api-Key``.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.fake_providers.server import FakeServer, Reply, Request

#: The ``[models.<id>]`` keys that describe this protocol (tests add base/key).
ACME_PROTOCOL: dict[str, Any] = {
    "headers": {"X-Api-Key": "{api_key}"},
    "body": {"text": "{prompt}", "seed": "{seed}", "length": "{duration}s", "options": {"ratio": "{aspect_ratio}"}},
    "job_id_path": "data.id",
    "status_path": "job.state",
    "status_map": {"PENDING": "queued", "WORKING": "running", "DONE": "succeeded", "ERROR": "failed"},
    "result_url_path": "job.result.files.0.url",
    "error_path": "job.message",
    "progress_path": "job.progress",
    "progress_scale": 100,
}


class FakeGeneric(FakeServer):
    auth_header = "x-api-key"
    auth_prefix = ""
    prefix = "/api"

    def __init__(self, *, final_state: str = "DONE", **kwargs: Any):
        super().__init__(**kwargs)
        self.final_state = final_state

    def unauthorized_reply(self) -> Reply:
        return Reply.json({"message": "bad api key"}, 401)

    def stage_of(self, request: Request) -> str | None:
        if request.method == "POST" and request.path == "/api/jobs":
            return "submit"
        if request.method == "GET" and request.path.startswith("/api/jobs/"):
            return "poll"
        return None

    def handle(self, request: Request) -> Reply:
        path = request.path
        if request.method == "POST" and path == "/api/jobs":
            body = request.json()
            if not isinstance(body, dict) or not body.get("text"):
                return Reply.json({"message": "text is required"}, 422)
            job_id = f"job-{uuid.uuid4().hex[:10]}"
            self.new_job(job_id, body)
            return Reply.json({"data": {"id": job_id, "links": {"status": f"{self.origin}/api/jobs/{job_id}"}}}, 202)
        if request.method == "GET" and path.startswith("/api/jobs/"):
            job = self.jobs.get(path.rsplit("/", 1)[-1])
            if job is None:
                return Reply.json({"message": "no such job"}, 404)
            polls = self.tick(job)
            if self.done(job):
                if self.fail_job:
                    return Reply.json({"job": {"state": "ERROR", "message": self.fail_job}})
                files = [{"url": self.video_url(job["id"])}]
                return Reply.json({"job": {"state": self.final_state, "progress": 100, "result": {"files": files}}})
            state = "PENDING" if polls == 1 else "WORKING"
            return Reply.json({"job": {"state": state, "progress": 0 if polls == 1 else 50}})
        return Reply.json({"message": "not found"}, 404)
