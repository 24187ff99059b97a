"""Retry policy, the retry loop, cancel-safe submits, and request spacing."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from workbench.engine.backoff import (
    CancelledWithResult, RetriesExhausted, RetryPolicy, call_finishing_on_cancel, call_with_retries,
)
from workbench.engine.rate_limit import RateLimiter
from workbench.providers.base import PermanentError, TransientError


def test_full_jitter_stays_under_the_exponential_ceiling():
    policy = RetryPolicy(base=0.5, cap=3.0)
    rng = random.Random(1)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        samples = [policy.delay(retry, rng=rng) for _ in range(400)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > 0.9 * ceiling and min(samples) < 0.1 * ceiling  # really spread out


def test_retry_after_is_honoured_up_to_its_cap():
    policy = RetryPolicy(base=0.001, cap=0.002, max_retry_after=10)
    assert policy.delay(1, retry_after=2.5) == 2.5
    assert policy.delay(3, retry_after=0) == 0
    assert policy.delay(1, retry_after=99) == 10
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


async def test_transient_errors_are_retried_until_success():
    calls = []

    async def flaky():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise TransientError("HTTP 503") if len(calls) == 1 else TimeoutError("read timed out")
        return "ok"

    seen = []
    result = await call_with_retries(flaky, RetryPolicy(base=0.001, cap=0.002), on_attempt=seen.append)
    assert result == "ok" and len(calls) == 3 and seen == [1, 2, 3]


async def test_retry_after_spaces_the_attempts():
    calls = []

    async def throttled():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise TransientError("HTTP 429", retry_after=0.15)
        return 1

    await call_with_retries(throttled, RetryPolicy(base=0.0001, cap=0.0001))
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert all(gap >= 0.145 for gap in gaps), gaps


async def test_permanent_errors_and_bugs_are_not_retried():
    calls = 0

    async def refused():
        nonlocal calls
        calls += 1
        raise PermanentError("HTTP 400: bad prompt")

    with pytest.raises(PermanentError):
        await call_with_retries(refused, RetryPolicy(base=0.001))
    assert calls == 1

    async def buggy():
        raise KeyError("status")

    with pytest.raises(KeyError):
        await call_with_retries(buggy, RetryPolicy(base=0.001))


async def test_attempts_are_capped():
    calls = 0

    async def down():
        nonlocal calls
        calls += 1
        raise TransientError("connection refused")

    with pytest.raises(RetriesExhausted) as info:
        await call_with_retries(down, RetryPolicy(max_attempts=4, base=0.001, cap=0.001))
    assert calls == 4 and info.value.attempts == 4
    assert "connection refused" in str(info.value)


async def test_a_cancel_during_a_submit_still_collects_its_answer():
    started = asyncio.Event()

    async def submit():
        started.set()
        await asyncio.sleep(0.1)  # the request is on the wire
        return "job-42"

    task = asyncio.ensure_future(call_finishing_on_cancel(submit, RetryPolicy(), grace=5))
    await started.wait()
    task.cancel()
    with pytest.raises(CancelledWithResult) as info:
        await task
    assert info.value.result == "job-42" and info.value.attempts == 1


async def test_a_cancel_during_backoff_stops_at_once():
    async def down():
        raise TransientError("busy", retry_after=30)

    task = asyncio.ensure_future(call_finishing_on_cancel(down, RetryPolicy(), grace=5))
    await asyncio.sleep(0.05)
    began = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert not isinstance(info.value, CancelledWithResult)
    assert time.monotonic() - began < 1


def test_rate_limiter_reserves_evenly_spaced_slots():
    now = [100.0]
    limiter = RateLimiter(per_minute=120, clock=lambda: now[0])  # one call every 0.5 s
    assert [limiter.reserve() for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]
    now[0] = 110.0  # idle for a while: no burst credit piles up beyond the next slot
    assert limiter.reserve() == 0.0 and limiter.reserve() == 0.5


async def test_rate_limiter_spaces_real_calls():
    limiter = RateLimiter(per_minute=1200)  # 50 ms apart
    times = []

    async def call():
        await limiter.acquire()
        times.append(time.monotonic())

    await asyncio.gather(*(call() for _ in range(5)))
    offsets = [t - times[0] for t in times]
    assert all(off >= k * 0.05 - 0.005 for k, off in enumerate(offsets)), offsets
