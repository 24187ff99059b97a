"""Fake Runway developer API (``/v1``): text_to_video, image_to_video, tasks."""

from __future__ import annotations

import uuid
from typing import Any

from tests.fake_providers.server import FakeServer, Reply, Request

API_VERSION = "2024-11-06"


class FakeRunway(FakeServer):
    """Polls go PENDING, then THROTTLED (from the 2nd poll when polls_before_done >= 3), RUNNING, ..."""

    prefix = "/v1"

    def unauthorized_reply(self) -> Reply:
        return Reply.json({"error": "Invalid API key."}, 401)

    def stage_of(self, request: Request) -> str | None:
        if request.method == "POST" and request.path in ("/v1/text_to_video", "/v1/image_to_video"):
            return "submit"
        if request.path.startswith("/v1/tasks/"):
            return "poll"
        return None

    def handle(self, request: Request) -> Reply:
        if request.headers.get("x-runway-version") != API_VERSION:
            return Reply.json({"error": f"X-Runway-Version header must be {API_VERSION}"}, 400)
        path = request.path
        if request.method == "POST" and path in ("/v1/text_to_video", "/v1/image_to_video"):
            body = request.json()
            if not isinstance(body, dict) or not body.get("promptText") or not body.get("model"):
                return Reply.json({"error": "Validation of body failed", "issues": ["promptText and model are required"]}, 400)
            task_id = str(uuid.uuid4())
            self.new_job(task_id, body)
            return Reply.json({"id": task_id})
        if request.method == "GET" and path.startswith("/v1/tasks/"):
            job = self.jobs.get(path.rsplit("/", 1)[-1])
            if job is None:
                return Reply.json({"error": "Task not found"}, 404)
            polls = self.tick(job)
            task: dict[str, Any] = {"id": job["id"], "createdAt": "2025-01-01T00:00:00.000Z"}
            if self.done(job):
                if self.fail_job:
                    task.update(status="FAILED", failure=self.fail_job, failureCode="SAFETY.INPUT.TEXT")
                else:
                    task.update(status="SUCCEEDED", output=[self.video_url(job["id"])])
            elif polls == 1:
                task.update(status="PENDING")
            elif polls == 2 and self.polls_before_done >= 3:
                task.update(status="THROTTLED")
            else:
                task.update(status="RUNNING", progress=0.5)
            return Reply.json(task)
        return Reply.json({"error": "Not found"}, 404)
