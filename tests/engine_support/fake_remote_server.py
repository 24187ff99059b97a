"""A loopback hosted video API for engine tests: submit, poll, download, over real HTTP.

``POST /v1/jobs`` (JSON body) answers ``{"id": ...}``; ``GET /v1/jobs/<id>``
answers ``{"status": "queued"|"running"|"succeeded"|"failed", ...}``;
``GET /v1/jobs/<id>/video`` serves a small real mp4. ``GET /_stats`` tells
what was asked of it (every submit, poll and download count).

Behaviour knobs (constructor keywords, or ``POST /_config``):
``latency`` seconds a job takes; ``submit_429`` how many first submits get 429
with ``Retry-After: retry_after``; ``poll_503`` first polls of each job that
get 503; ``fail_prompts`` jobs that end failed; ``reject_prompts`` submits
refused with 400 whose body echoes the Authorization header (a careless API);
``broken_downloads`` first downloads of each job that send a truncated file;
``submit_delay`` seconds between creating a job and answering its submit.

Run in a thread (:class:`FakeRemoteServer`) or as a process:
``python -m tests.engine_support.fake_remote_server [--latency S]`` prints
``LISTENING <port>``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import threading
import time
from typing import Any

from tests.engine_support.clips import sample_mp4_bytes

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable"}

DEFAULT_CONFIG: dict[str, Any] = {
    "latency": 0.0,
    "submit_429": 0,
    "retry_after": 0.0,
    "poll_503": 0,
    "fail_prompts": [],
    "reject_prompts": [],
    "broken_downloads": 0,
    "submit_delay": 0.0,
}


class FakeApi:
    """The API's state and request handling (no I/O)."""

    def __init__(self, **config: Any):
        unknown = set(config) - set(DEFAULT_CONFIG)
        if unknown:
            raise ValueError(f"unknown fake server option(s): {sorted(unknown)}")
        self.config = {**DEFAULT_CONFIG, **config}
        self.video = sample_mp4_bytes()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.submits: list[dict[str, Any]] = []
        self.submit_requests = 0
        self.polls = 0
        self.downloads = 0
        self._ids = itertools.count(1)

    def stats(self) -> dict[str, Any]:
        return {"submits": list(self.submits), "submit_requests": self.submit_requests,
                "polls": self.polls, "downloads": self.downloads}

    def status_of(self, job: dict[str, Any]) -> str:
        age = time.monotonic() - job["created"]
        latency = float(self.config["latency"])
        if age < latency / 3:
            return "queued"
        if age < latency:
            return "running"
        return "failed" if job["prompt_id"] in self.config["fail_prompts"] else "succeeded"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]:
        if method == "GET" and path == "/_stats":
            return _json(200, self.stats())
        if method == "POST" and path == "/_config":
            self.config.update(json.loads(body or b"{}"))
            return _json(200, self.config)
        if method == "POST" and path == "/v1/jobs":
            return self.submit(headers, body)
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "jobs"]:
            return self.poll(parts[2])
        if method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "jobs"] and parts[3] == "video":
            return self.download(parts[2])
        return _json(404, {"error": f"no route {method} {path}"})

    def submit(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.submit_requests += 1
        if self.submit_requests <= int(self.config["submit_429"]):
            status, head, payload = _json(429, {"error": "rate limited"})
            head["Retry-After"] = str(self.config["retry_after"])
            return status, head, payload
        try:
            request = json.loads(body)
        except ValueError:
            return _json(400, {"error": "body is not JSON"})
        if request.get("prompt_id") in self.config["reject_prompts"]:
            return _json(400, {"error": f"invalid credentials: {headers.get('authorization', '')}"})
        job_id = f"job-{next(self._ids)}"
        self.jobs[job_id] = {"created": time.monotonic(), "prompt_id": request.get("prompt_id"),
                             "polls": 0, "downloads": 0}
        self.submits.append({"id": job_id, **{k: request.get(k) for k in
                                               ("model", "prompt_id", "repeat", "seed", "style")}})
        return _json(200, {"id": job_id})

    def poll(self, job_id: str) -> tuple[int, dict[str, str], bytes]:
        self.polls += 1
        job = self.jobs.get(job_id)
        if job is None:
            return _json(404, {"error": f"no job {job_id}"})
        job["polls"] += 1
        if job["polls"] <= int(self.config["poll_503"]):
            return _json(503, {"error": "busy"})
        status = self.status_of(job)
        answer: dict[str, Any] = {"id": job_id, "status": status}
        if status == "succeeded":
            answer["video_url"] = f"/v1/jobs/{job_id}/video"
        if status == "failed":
            answer["error"] = "the model could not render this prompt"
        return _json(200, answer)

    def download(self, job_id: str) -> tuple[int, dict[str, str], bytes]:
        self.downloads += 1
        job = self.jobs.get(job_id)
        if job is None or self.status_of(job) != "succeeded":
            return _json(404, {"error": "no video"})
        job["downloads"] += 1
        data = self.video
        if job["downloads"] <= int(self.config["broken_downloads"]):
            data = data[: len(data) // 3]
        return 200, {"Content-Type": "video/mp4"}, data


def _json(status: int, value: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


async def _serve_connection(api: FakeApi, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _version = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                raw = await reader.readline()
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            body = await reader.readexactly(length) if length else b""
            path = target.split("?", 1)[0]
            status, head, payload = api.handle(method, path, headers, body)
            if method == "POST" and path == "/v1/jobs" and api.config["submit_delay"]:
                await asyncio.sleep(float(api.config["submit_delay"]))  # job made, answer late
            lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
                     f"Content-Length: {len(payload)}"]
            lines += [f"{k}: {v}" for k, v in head.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return
    finally:
        writer.close()


class FakeRemoteServer:
    """The fake API on 127.0.0.1 in a background thread with its own event loop."""

    def __init__(self, **config: Any):
        self.api = FakeApi(**config)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeRemoteServer":
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def open_server() -> None:
                self._server = await asyncio.start_server(
                    lambda r, w: _serve_connection(self.api, r, w), "127.0.0.1", 0)
                self.port = self._server.sockets[0].getsockname()[1]

            loop.run_until_complete(open_server())
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=main, name="fake-remote-api", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def stats(self) -> dict[str, Any]:
        return self.api.stats()

    def __enter__(self) -> "FakeRemoteServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _serve_forever(api: FakeApi, port: int) -> None:
    server = await asyncio.start_server(lambda r, w: _serve_connection(api, r, w), "127.0.0.1", port)
    print(f"LISTENING {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve_forever(FakeApi(latency=args.latency), args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
