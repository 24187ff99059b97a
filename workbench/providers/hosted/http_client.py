"""The HTTP layer every hosted provider shares: one request, one classified outcome.

:class:`ApiClient` sends exactly one HTTP request per call (no retry loop: the
run engine owns retries and backoff) and turns every way it can go wrong into
:class:`TransientError` (worth retrying) or :class:`PermanentError` (not):

* timeouts, refused or dropped connections, 408, 429 and 5xx -> transient,
  with ``retry_after`` taken from ``Retry-After`` (seconds or an HTTP date);
* any other 4xx, an unexpected redirect, a non-JSON answer -> permanent, with
  the status and a short excerpt of the body.

Every message is passed through :func:`workbench.secrets.redact` with the
provider's current key, so a key echoed back by a server never escapes.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from workbench.providers.base import PermanentError, TransientError
from workbench.secrets import redact

#: Longest body excerpt quoted in an error message.
EXCERPT_CHARS = 300
#: Most bytes of an error body read from a streamed answer.
ERROR_BODY_LIMIT = 64 * 1024


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def excerpt(text: str, secrets: list[str] | None = None, limit: int = EXCERPT_CHARS) -> str:
    """A one-line, redacted, shortened version of a response body.

    Redaction happens before shortening so a key cut in half is never shown.
    """
    clean = redact(text or "", secrets or [])
    clean = re.sub(r"\s+", " ", clean).strip()
    if len(clean) > limit:
        clean = clean[: limit - 3] + "..."
    return clean or "(empty body)"


def check_http_url(url: Any, what: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; else PermanentError.

    Only http and https are ever fetched: ``file:``, ``ftp:``, ``data:`` and
    ``javascript:`` URLs from a provider are refused, naming the scheme.
    """
    if not isinstance(url, str) or not url.strip():
        raise PermanentError(f"{what}: no URL given (got {type(url).__name__})")
    text = url.strip()
    scheme = urlsplit(text).scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"'{scheme}:'" if scheme else "none (a relative URL)"
        raise PermanentError(
            f"{what}: refusing a URL whose scheme is {shown}; only http and https URLs are fetched"
        )
    if not urlsplit(text).hostname:
        raise PermanentError(f"{what}: URL has no host")
    return text


def same_origin(a: str | httpx.URL, b: str | httpx.URL) -> bool:
    """True when two URLs share scheme, host and port."""
    ua, ub = httpx.URL(str(a)), httpx.URL(str(b))
    return (ua.scheme, ua.host, ua.port) == (ub.scheme, ub.host, ub.port)


def _body_retry_after(text: str) -> float | None:
    """Some APIs put ``retry_after`` in the JSON body of a 429."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return None
    if isinstance(data, dict):
        value = data.get("retry_after")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return max(0.0, float(value))
    return None


class ApiClient:
    """A lazily created ``httpx.AsyncClient`` plus error classification for one provider."""

    def __init__(self, label: str, timeout: float, secrets: Callable[[], list[str]]):
        self.label = label
        self.timeout = float(timeout)
        self._secrets = secrets
        self._client: httpx.AsyncClient | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared client, created on first use (inside the running event loop)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                headers={"User-Agent": "workbench/0.1 (+text-to-video benchmark)"},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # -- messages ----------------------------------------------------------

    def redact(self, text: str) -> str:
        return redact(text, self._secrets())

    def permanent(self, what: str, detail: str) -> PermanentError:
        return PermanentError(self.redact(f"{self.label}: {what}: {detail}"))

    def transient(self, what: str, detail: str, retry_after: float | None = None, *,
                  maybe_delivered: bool = False) -> TransientError:
        return TransientError(self.redact(f"{self.label}: {what}: {detail}"), retry_after=retry_after,
                              maybe_delivered=maybe_delivered)

    def check_url(self, url: Any, what: str) -> str:
        try:
            return check_http_url(url, f"{self.label}: {what}")
        except PermanentError as exc:
            raise PermanentError(self.redact(str(exc))) from None

    def classify_transport(self, exc: Exception, what: str) -> Exception:
        """The provider error for an httpx exception raised while sending/receiving."""
        kind = type(exc).__name__
        detail = str(exc) or kind
        # Failing to connect means the request never left; anything later may have reached it.
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        if isinstance(exc, httpx.TimeoutException):
            return self.transient(what, f"no answer within {self.timeout:g} s ({kind})",
                                  maybe_delivered=not never_sent)
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return self.permanent(what, f"invalid URL ({detail})")
        if isinstance(exc, httpx.TransportError):
            return self.transient(what, f"connection failed ({kind}: {detail})",
                                  maybe_delivered=not never_sent)
        if isinstance(exc, httpx.DecodingError):
            return self.permanent(what, f"could not decode the answer ({detail})")
        return self.transient(what, f"request failed ({kind}: {detail})")

    # -- requests ----------------------------------------------------------

    async def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """Send one request and read the whole answer; transport failures classified.

        The status code is *not* checked here (see :meth:`check_status`).
        """
        url = self.check_url(url, what)
        kwargs: dict[str, Any] = {"headers": dict(headers or {})}
        if json_body is not None:
            kwargs["json"] = json_body
        client = self.http  # created outside the deadline (loading CA certificates takes time)
        try:
            # httpx's timeout bounds each phase; this bounds the whole exchange.
            async with asyncio.timeout(self.timeout):
                return await client.request(method, url, **kwargs)
        except TimeoutError:
            raise self.transient(what, f"no answer within {self.timeout:g} s", maybe_delivered=True) from None
        except httpx.HTTPError as exc:
            raise self.classify_transport(exc, what) from None

    def status_error(self, status: int, body: str, headers: httpx.Headers, what: str) -> Exception:
        """The provider error for a non-2xx status."""
        secrets = self._secrets()
        quoted = excerpt(body, secrets)
        if status == 429:
            wait = parse_retry_after(headers.get("retry-after"))
            if wait is None:
                wait = _body_retry_after(body)
            hint = f" (retry after {wait:g} s)" if wait is not None else ""
            return self.transient(what, f"rate limited, HTTP 429{hint}: {quoted}", wait)
        if status >= 500 or status == 408:
            wait = parse_retry_after(headers.get("retry-after"))
            return self.transient(what, f"server error, HTTP {status}: {quoted}", wait)
        if 300 <= status < 400:
            location = excerpt(headers.get("location", ""), secrets, 120)
            return self.permanent(what, f"unexpected redirect, HTTP {status} to {location}")
        if status in (401, 403):
            return self.permanent(what, f"not authorized, HTTP {status} (check the API key): {quoted}")
        return self.permanent(what, f"rejected, HTTP {status}: {quoted}")

    def check_status(self, response: httpx.Response, what: str) -> None:
        if not 200 <= response.status_code < 300:
            raise self.status_error(response.status_code, response.text, response.headers, what)

    def parse_json(self, response: httpx.Response, what: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise self.permanent(
                what, f"answer is not valid JSON (HTTP {response.status_code}): {excerpt(response.text, self._secrets())}"
            ) from None

    async def call_json(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Any:
        """One JSON request: transport, status and body all checked."""
        response = await self.send(method, url, what=what, headers=headers, json_body=json_body)
        self.check_status(response, what)
        return self.parse_json(response, what)
