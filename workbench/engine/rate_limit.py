"""Spacing provider calls so a model never exceeds its ``requests_per_minute``."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Hands out call slots at most ``per_minute`` per minute, evenly spaced.

    Each caller reserves the next free slot, then sleeps until it, so waiting
    callers are served in arrival order and never burst.
    """

    def __init__(self, per_minute: float, clock=time.monotonic):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Reserve the next slot; return how many seconds to wait for it."""
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot - now

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
