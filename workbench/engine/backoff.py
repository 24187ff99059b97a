"""Retrying a provider call: capped exponential backoff with full jitter.

The n-th retry waits a random time in ``[0, min(cap, base * 2**(n-1))]``
("full jitter"), unless the provider said how long to wait (``Retry-After``),
in which case that wait is honoured (up to ``max_retry_after``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from workbench.providers.base import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one provider call is retried."""

    max_attempts: int = 5
    base: float = 1.0
    cap: float = 60.0
    max_retry_after: float = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("backoff times must not be negative")

    def delay(self, retry: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        if retry_after is not None and retry_after >= 0:
            return min(float(retry_after), self.max_retry_after)
        ceiling = min(self.cap, self.base * (2 ** max(0, retry - 1)))
        return (rng or random).uniform(0.0, ceiling)


class RetriesExhausted(Exception):
    """A call kept failing with transient errors until the attempts ran out."""

    def __init__(self, last: BaseException, attempts: int):
        super().__init__(f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {last}")
        self.last = last
        self.attempts = attempts


def is_transient(error: BaseException) -> bool:
    """Errors worth another try: a provider's TransientError, timeouts, dropped connections."""
    return isinstance(error, (TransientError, TimeoutError, ConnectionError))


def retry_after_of(error: BaseException) -> float | None:
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    before_attempt: Callable[[], Awaitable[None]] | None = None,
    on_attempt: Callable[[int], None] | None = None,
) -> T:
    """Run ``call`` until it succeeds, retrying transient errors per ``policy``.

    Raises :class:`RetriesExhausted` when the attempts run out; any other
    exception (PermanentError, a bug in a provider) propagates at once.
    ``before_attempt`` runs before every attempt (rate limiting).
    """
    attempt = 0
    while True:
        attempt += 1
        if before_attempt is not None:
            await before_attempt()
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            return await call()
        except Exception as error:  # noqa: BLE001 - classified below
            if not is_transient(error):
                raise
            if attempt >= policy.max_attempts:
                raise RetriesExhausted(error, attempt) from error
            await asyncio.sleep(policy.delay(attempt, retry_after_of(error)))


class CancelledInFlight(asyncio.CancelledError):
    """The run was stopped while a call was on the wire and no answer came back in time."""


class SubmitOutcomeUnknown(Exception):
    """A paid call failed after its request may have reached the provider; it is not repeated."""

    def __init__(self, error: BaseException, attempts: int):
        super().__init__(
            f"{error} - the provider may have accepted the job, so it was not submitted again "
            "(that could pay twice); check the provider's dashboard, and to submit it anyway run "
            "again with --retry-uncertain")
        self.error = error
        self.attempts = attempts


class CancelledWithResult(asyncio.CancelledError):
    """The run was stopped while a call was on the wire; the call finished and here is its answer."""

    def __init__(self, result: object, attempts: int):
        super().__init__("cancelled after the call completed")
        self.result = result
        self.attempts = attempts


async def call_finishing_on_cancel(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    grace: float,
    before_attempt: Callable[[], Awaitable[None]] | None = None,
    on_attempt: Callable[[int], None] | None = None,
    before_send: Callable[[int], Awaitable[None]] | None = None,
    after_unsent: Callable[[int], Awaitable[None]] | None = None,
) -> T:
    """Like :func:`call_with_retries`, but a cancel during an attempt waits for its answer.

    For calls that spend money (submitting a hosted job): if the run is stopped
    while the request is in flight, the answer (the provider's job id) is still
    collected for up to ``grace`` seconds and handed over in
    :class:`CancelledWithResult`, so it can be journaled and never paid for twice.
    A cancel during a backoff sleep stops at once (nothing is in flight); one
    whose request got no answer within ``grace``, or whose answer is an error
    saying the request may have been delivered, raises :class:`CancelledInFlight`.

    ``before_send(attempt)`` runs right before each request goes out (after
    ``before_attempt``, the rate limiter), ``after_unsent(attempt)`` after an
    attempt failed without the request reaching the provider, before the
    backoff sleep: the pair lets the caller journal exactly when a request may
    be on the wire.
    """
    attempt = 0
    while True:
        attempt += 1
        if before_attempt is not None:
            await before_attempt()
        if on_attempt is not None:
            on_attempt(attempt)
        if before_send is not None:
            await before_send(attempt)
        task = asyncio.ensure_future(call())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            try:
                result = await asyncio.wait_for(task, grace)
            except TimeoutError:  # no answer within the grace (or the call itself timed out)
                task.cancel()
                raise CancelledInFlight() from None
            except Exception as error:  # noqa: BLE001 - the provider answered with an error
                if getattr(error, "maybe_delivered", False):  # e.g. dropped after it was sent
                    raise CancelledInFlight() from None
                raise asyncio.CancelledError() from None  # nothing made
            except BaseException:  # noqa: BLE001 - no answer: the provider may have the job
                task.cancel()
                raise CancelledInFlight() from None
            raise CancelledWithResult(result, attempt) from None
        except Exception as error:  # noqa: BLE001 - classified below
            if not is_transient(error):
                raise
            if getattr(error, "maybe_delivered", False):
                raise SubmitOutcomeUnknown(error, attempt) from error
            if attempt >= policy.max_attempts:
                raise RetriesExhausted(error, attempt) from error
            if after_unsent is not None:
                await after_unsent(attempt)
            await asyncio.sleep(policy.delay(attempt, retry_after_of(error)))
