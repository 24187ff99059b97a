"""Streaming download of a finished clip, with a size cap and no surprises.

* Only http and https URLs are fetched, on every redirect hop too.
* The bytes go to the path the engine chose; nothing the provider sends
  (``Content-Disposition``, the URL's file name) picks a local name.
* The size cap is checked against ``Content-Length`` before reading and
  against the bytes actually received while reading.
* A connection dropped mid-body or a body shorter than its ``Content-Length``
  is a :class:`TransientError`; any failure deletes the partial file.
* Redirects are followed by hand so auth headers go only where
  ``headers_for`` says (a key meant for the API host never reaches a CDN).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from workbench.media.video_check import video_problem
from workbench.providers.base import PermanentError
from workbench.providers.hosted.http_client import ERROR_BODY_LIMIT, ApiClient

CHUNK = 256 * 1024
MAX_REDIRECTS = 5


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None:
        return None
    try:
        length = int(value.strip())
    except ValueError:
        return None
    return length if length >= 0 else None


async def _read_limited(response: httpx.Response, limit: int) -> str:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit]).decode("utf-8", errors="replace")


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


async def download_file(
    api: ApiClient,
    url: str,
    output: Path,
    *,
    max_bytes: int,
    headers_for: Callable[[str], Mapping[str, str]] | None = None,
    what: str = "download",
) -> int:
    """Stream ``url`` into ``output``; return the number of bytes written.

    ``headers_for(url)`` gives the extra headers for each hop (default: none).
    """
    output = Path(output)
    current = api.check_url(url, what)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            headers = dict(headers_for(current)) if headers_for else {}
            try:
                async with api.http.stream("GET", current, headers=headers) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise api.permanent(what, f"HTTP {response.status_code} redirect without a Location")
                        current = api.check_url(str(response.url.join(location)), f"{what} redirect")
                        continue
                    if not 200 <= response.status_code < 300:
                        body = await _read_limited(response, ERROR_BODY_LIMIT)
                        raise api.status_error(response.status_code, body, response.headers, what)
                    if response.status_code == 206:
                        raise api.permanent(what, "server sent partial content (HTTP 206) without being asked")
                    return await _save_body(api, response, output, max_bytes, what)
            except httpx.HTTPError as exc:
                raise api.classify_transport(exc, what) from None
        raise api.permanent(what, f"more than {MAX_REDIRECTS} redirects")
    except BaseException:
        output.unlink(missing_ok=True)
        raise


async def _save_body(
    api: ApiClient, response: httpx.Response, output: Path, max_bytes: int, what: str
) -> int:
    declared = _declared_length(response)
    if declared is not None and declared > max_bytes:
        raise api.permanent(
            what, f"file is {_mib(declared)}, over the limit of {_mib(max_bytes)} (max_download_bytes)"
        )
    written = 0
    with open(output, "wb") as fh:
        async for chunk in response.aiter_bytes(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise api.permanent(
                    what, f"download passed the limit of {_mib(max_bytes)} (max_download_bytes); aborted"
                )
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    received = response.num_bytes_downloaded
    if declared is not None and received < declared:
        raise api.transient(what, f"body truncated: got {received} of {declared} bytes")
    if written == 0:
        raise api.transient(what, "server sent an empty body")
    return written


def check_decodes(path: Path) -> None:
    """PermanentError unless ``path`` holds a video PyAV can decode a frame from."""
    problem = video_problem(path)
    if problem is not None:
        raise PermanentError(f"{path.name}: downloaded file is not a usable video: {problem}")
