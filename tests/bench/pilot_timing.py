"""What the TUI benches share: waiting for a screen state, and sending a key as a terminal would."""

from __future__ import annotations

import asyncio
import time

from textual import events
from textual.app import App

#: keys whose event carries a character (others, like arrows, carry none)
_CHARACTERS = {"space": " "}


def ms(seconds: float) -> float:
    return seconds * 1000


async def until(condition, timeout: float = 30.0) -> None:
    """Yield to the event loop until ``condition()`` holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the screen did not get there in time")
        await asyncio.sleep(0.001)


def press(app: App, key: str) -> None:
    """Send one key as the terminal would (no waiting, unlike Pilot.press)."""
    character = _CHARACTERS.get(key, key if len(key) == 1 else None)
    app.post_message(events.Key(key, character))
