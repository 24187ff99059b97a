"""A tiny real HTTP/1.1 server on 127.0.0.1 for faking hosted video APIs.

Each fake runs its own asyncio event loop in a background thread, so it works
from synchronous tests, from async tests and from code that starts its own
loop. It listens on two free ports: the API origin and a "CDN" origin that
serves the finished clips (as real providers do), so tests can check that an
API key never travels to the CDN.

Faults are injected per *stage* (``"submit"``, ``"poll"``, ``"result"``,
``"file"``, ``"download"``): every request of that stage takes the next fault
from its queue, then requests behave normally again::

    FakeReplicate(faults={"submit": ["429"], "poll": ["500", Fault("slow", delay=1)]})

Fault kinds:

``429``          429 with ``Retry-After`` (``Fault("429", retry_after="<HTTP date>")``)
``500``/``503``  server error
``drop``         close the connection without answering
``slow``         answer normally after ``delay`` seconds (longer than a client timeout)
``malformed``    200 with a body that is not JSON
``unauthorized`` 401 whatever the key
``echo_key``     400 whose body repeats the credentials the client sent
``truncate``     ``Content-Length`` larger than the body, then close
``empty``        200 with an empty body
``no_length``    answer normally but without ``Content-Length`` (body ends at close)
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_providers.media import tiny_mp4

DEFAULT_KEY = "fake-api-key-0000"
FAULT_KINDS = frozenset(
    {"429", "500", "503", "drop", "slow", "malformed", "unauthorized", "echo_key", "truncate", "empty", "no_length"}
)
REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 422: "Unprocessable Entity",
    429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
}


@dataclass
class Fault:
    """One injected failure; ``times=None`` repeats it forever."""

    kind: str
    retry_after: str = "1"
    delay: float = 1.0
    times: int | None = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r} (known: {', '.join(sorted(FAULT_KINDS))})")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    origin: str  # "api" or "cdn"

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    declared_length: int | None = None
    omit_length: bool = False

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> "Reply":
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> "Reply":
        return cls(status, b"", {"Location": location})


class FakeServer:
    """Base class: request parsing, fault queues, the CDN, start/stop."""

    #: Header carrying the key, and the prefix before it ("Bearer ", "Key ", "").
    auth_header = "authorization"
    auth_prefix = "Bearer "
    #: Path prefix of the API under the origin (``base_url`` = origin + prefix).
    prefix = ""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_KEY,
        faults: Mapping[str, Iterable[str | Fault]] | None = None,
        polls_before_done: int = 2,
        fail_job: str | None = None,
        result_url: str | None = None,
        video: bytes | None = None,
    ):
        self.api_key = api_key
        self.polls_before_done = polls_before_done
        self.fail_job = fail_job
        self.result_url_override = result_url
        self.video = video if video is not None else tiny_mp4()
        self._faults: dict[str, deque[Fault]] = {}
        for stage, items in (faults or {}).items():
            self._faults[stage] = deque(f if isinstance(f, Fault) else Fault(f) for f in items)
        self.requests: list[Request] = []
        self.errors: list[str] = []
        #: Jobs created (each accepted submit creates one).
        self.submits = 0
        #: Submit requests received, including refused and faulted ones.
        self.submit_attempts = 0
        self.bodies: list[Any] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.cdn_port = 0

    # -- addresses ---------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cdn_origin(self) -> str:
        return f"http://127.0.0.1:{self.cdn_port}"

    @property
    def base_url(self) -> str:
        """What to pass as the provider's ``base_url``."""
        return self.origin + self.prefix

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> "FakeServer":
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), loop).result(10)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> "FakeServer":
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    async def _open(self) -> None:
        api = await asyncio.start_server(lambda r, w: self._accept(r, w, "api"), "127.0.0.1", 0)
        cdn = await asyncio.start_server(lambda r, w: self._accept(r, w, "cdn"), "127.0.0.1", 0)
        self._servers = [api, cdn]
        self.port = api.sockets[0].getsockname()[1]
        self.cdn_port = cdn.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    # -- building blocks for subclasses-----------------------------------------------------

    def take_fault(self, stage: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(stage)
            if not queue:
                return None
            fault = queue[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queue.popleft()
            return fault

    def sent_credentials(self, request: Request) -> str:
        return request.headers.get(self.auth_header, "")

    def authorized(self, request: Request) -> bool:
        return self.sent_credentials(request) == f"{self.auth_prefix}{self.api_key}"

    def unauthorized_reply(self) -> Reply:
        return Reply.json({"detail": "Invalid credentials"}, 401)

    def fault_reply(self, fault: Fault, request: Request) -> Reply | None:
        """The reply for a fault that replaces the answer (None for ``slow``/``truncate``)."""
        kind = fault.kind
        if kind == "429":
            return Reply.json({"detail": "Request was throttled."}, 429, {"Retry-After": fault.retry_after})
        if kind in ("500", "503"):
            return Reply.json({"detail": "internal error"}, int(kind))
        if kind == "drop":
            return Reply(drop=True)
        if kind == "malformed":
            return Reply(200, b'{"id": "abc", "status": <html>oops', {"Content-Type": "application/json"})
        if kind == "unauthorized":
            return self.unauthorized_reply()
        if kind == "echo_key":
            sent = self.sent_credentials(request)
            return Reply.json({"detail": f"credentials {sent!r} are not allowed for this model"}, 400)
        if kind == "empty":
            return Reply(200, b"", {"Content-Type": "application/octet-stream"})
        return None

    def video_url(self, job_id: str) -> str:
        if self.result_url_override is not None:
            return self.result_url_override
        return f"{self.cdn_origin}/files/{job_id}.mp4"

    def new_job(self, job_id: str, body: Any) -> dict[str, Any]:
        job = {"id": job_id, "polls": 0, "body": body}
        with self._lock:
            self.jobs[job_id] = job
            self.submits += 1
            self.bodies.append(body)
        return job

    def tick(self, job: dict[str, Any]) -> int:
        """Count one poll of ``job``; return how many polls it has had."""
        job["polls"] += 1
        return job["polls"]

    def done(self, job: dict[str, Any]) -> bool:
        return job["polls"] > self.polls_before_done

    # -- dispatch ------------------------------------------------------------------------

    def stage_of(self, request: Request) -> str | None:
        """The fault stage a request belongs to (subclasses)."""
        return None

    def handle(self, request: Request) -> Reply:
        """The answer of the API origin (subclasses)."""
        return Reply.json({"detail": "not found"}, 404)

    def handle_cdn(self, request: Request) -> Reply:
        name = request.path.rsplit("/", 1)[-1]
        if request.method != "GET" or not request.path.startswith("/files/") or not name.endswith(".mp4"):
            return Reply(404, b"no such file")
        return Reply(200, self.video, {"Content-Type": "video/mp4"})

    def _respond(self, request: Request) -> Reply:
        stage = "download" if request.origin == "cdn" else self.stage_of(request)
        if stage == "submit":
            with self._lock:
                self.submit_attempts += 1
        fault = self.take_fault(stage) if stage else None
        if fault is not None:
            reply = self.fault_reply(fault, request)
            if reply is not None:
                return reply
        if request.origin == "api" and not self.authorized(request):
            return self.unauthorized_reply()
        reply = self.handle_cdn(request) if request.origin == "cdn" else self.handle(request)
        if fault is not None and fault.kind == "slow":
            reply.delay = fault.delay
        if fault is not None and fault.kind == "no_length":
            reply.omit_length = True
        if fault is not None and fault.kind == "truncate":
            reply.declared_length = len(reply.body) + 1000
            reply.body = reply.body[: max(1, len(reply.body) // 2)]
        return reply

    # -- the HTTP part ---------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, origin: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            request = await self._read(reader, origin)
            if request is None:
                return
            self.requests.append(request)
            try:
                reply = self._respond(request)
            except Exception as exc:  # a bug in a fake: answer 500 and remember it
                self.errors.append(f"{request.method} {request.path}: {type(exc).__name__}: {exc}")
                reply = Reply.json({"detail": f"fake server error: {exc}"}, 500)
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.drop:
                return
            await self._write(writer, reply)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, asyncio.CancelledError):
                pass
            if task is not None:
                self._tasks.discard(task)

    async def _read(self, reader: asyncio.StreamReader, origin: str) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        parts = urlsplit(target)
        return Request(method, parts.path, parse_qs(parts.query), headers, body, origin)

    async def _write(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        length = reply.declared_length if reply.declared_length is not None else len(reply.body)
        head = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}"]
        headers = {"Connection": "close", **reply.headers}
        if not reply.omit_length:
            headers["Content-Length"] = str(length)
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
        await writer.drain()
