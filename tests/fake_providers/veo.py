"""Fake Gemini API for Veo: predictLongRunning, operations, file download."""

from __future__ import annotations

import uuid
from typing import Any

from tests.fake_providers.server import FakeServer, Reply, Request


class FakeVeo(FakeServer):
    """The video URI is on the API origin, needs the key, and redirects to the CDN origin.

    ``filtered=True`` finishes with no samples and ``raiMediaFilteredReasons``.
    """

    auth_header = "x-goog-api-key"
    auth_prefix = ""
    prefix = "/v1beta"

    def __init__(self, *, filtered: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.filtered = filtered

    def unauthorized_reply(self) -> Reply:
        return Reply.json(
            {"error": {"code": 401, "message": "API key not valid. Please pass a valid API key.", "status": "UNAUTHENTICATED"}},
            401,
        )

    def stage_of(self, request: Request) -> str | None:
        if request.method == "POST" and request.path.endswith(":predictLongRunning"):
            return "submit"
        if "/operations/" in request.path:
            return "poll"
        if request.path.startswith("/v1beta/files/"):
            return "file"
        return None

    def handle(self, request: Request) -> Reply:
        path = request.path
        if request.method == "POST" and path.startswith("/v1beta/models/") and path.endswith(":predictLongRunning"):
            model = path[len("/v1beta/models/") : -len(":predictLongRunning")]
            body = request.json()
            instances = body.get("instances") if isinstance(body, dict) else None
            if not instances or not isinstance(instances[0], dict) or not instances[0].get("prompt"):
                return Reply.json({"error": {"code": 400, "message": "instances[0].prompt is required", "status": "INVALID_ARGUMENT"}}, 400)
            op_id = uuid.uuid4().hex[:12]
            job = self.new_job(op_id, body)
            job["name"] = f"models/{model}/operations/{op_id}"
            return Reply.json({"name": job["name"]})
        if request.method == "GET" and "/operations/" in path:
            job = self.jobs.get(path.rsplit("/", 1)[-1])
            if job is None or f"/v1beta/{job['name']}" != path:
                return Reply.json({"error": {"code": 404, "message": "Operation not found", "status": "NOT_FOUND"}}, 404)
            polls = self.tick(job)
            if not self.done(job):
                # proto3 JSON leaves out "done" while it is false
                return Reply.json({"name": job["name"], "metadata": {"progressPercent": min(99, 30 * polls)}})
            if self.fail_job:
                return Reply.json({"name": job["name"], "done": True, "error": {"code": 3, "message": self.fail_job}})
            response: dict[str, Any] = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"}
            if self.filtered:
                response["generateVideoResponse"] = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["The prompt was blocked by a safety filter."]}
            else:
                uri = self.result_url_override or f"{self.origin}/v1beta/files/{job['id']}:download?alt=media"
                response["generateVideoResponse"] = {"generatedSamples": [{"video": {"uri": uri}}]}
            return Reply.json({"name": job["name"], "done": True, "response": response})
        if request.method == "GET" and path.startswith("/v1beta/files/") and path.endswith(":download"):
            file_id = path[len("/v1beta/files/") : -len(":download")]
            if file_id not in self.jobs:
                return Reply.json({"error": {"code": 404, "message": "File not found"}}, 404)
            return Reply.redirect(f"{self.cdn_origin}/files/{file_id}.mp4")
        return Reply.json({"error": {"code": 404, "message": "Not found"}}, 404)
