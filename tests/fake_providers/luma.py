"""Fake Luma Dream Machine API (``/dream-machine/v1``)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.fake_providers.server import FakeServer, Reply, Request


class FakeLuma(FakeServer):
    prefix = "/dream-machine/v1"

    def unauthorized_reply(self) -> Reply:
        return Reply.json({"detail": "Invalid API key provided"}, 401)

    def stage_of(self, request: Request) -> str | None:
        if request.method == "POST" and request.path == "/dream-machine/v1/generations/video":
            return "submit"
        if request.method == "GET" and request.path.startswith("/dream-machine/v1/generations/"):
            return "poll"
        return None

    def handle(self, request: Request) -> Reply:
        path = request.path
        if request.method == "POST" and path == "/dream-machine/v1/generations/video":
            body = request.json()
            if not isinstance(body, dict) or not body.get("prompt"):
                return Reply.json({"detail": "prompt is required"}, 400)
            generation_id = str(uuid.uuid4())
            job = self.new_job(generation_id, body)
            return Reply.json(self._generation(job, "queued"), 201)
        if request.method == "GET" and path.startswith("/dream-machine/v1/generations/"):
            job = self.jobs.get(path.rsplit("/", 1)[-1])
            if job is None:
                return Reply.json({"detail": "Generation not found"}, 404)
            polls = self.tick(job)
            if self.done(job):
                if self.fail_job:
                    return Reply.json(self._generation(job, "failed", failure_reason=self.fail_job))
                return Reply.json(self._generation(job, "completed", video=self.video_url(job["id"])))
            return Reply.json(self._generation(job, "queued" if polls == 1 else "dreaming"))
        return Reply.json({"detail": "Not found"}, 404)

    def _generation(self, job: dict[str, Any], state: str, video: str | None = None,
                    failure_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": job["id"],
            "generation_type": "video",
            "state": state,
            "failure_reason": failure_reason,
            "created_at": "2025-01-01T00:00:00.000Z",
            "assets": {"video": video, "image": None} if video else None,
            "model": job["body"].get("model"),
            "request": job["body"],
        }
