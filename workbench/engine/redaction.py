"""Scrubbing secret values out of everything the engine writes.

Providers read keys from the environment at call time; whatever they report
through ``secrets()`` (and every secret read anywhere in the process) is
replaced by ``[redacted]`` in journal events, manifests and error messages,
even when a provider echoes a key back inside an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workbench.providers.base import Provider
from workbench.secrets import REDACTED, known_secrets, redact


class Scrubber:
    def __init__(self, providers: Iterable[Provider] = ()):
        self._providers = list(providers)

    def add(self, provider: Provider) -> None:
        self._providers.append(provider)

    def secret_values(self) -> list[str]:
        values: set[str] = set(known_secrets())
        for provider in self._providers:
            try:
                found = provider.secrets() or []
            except Exception:  # noqa: BLE001 - a broken secrets() must not stop scrubbing
                continue
            values.update(v for v in found if isinstance(v, str) and v)
        return sorted(values)

    def text(self, text: str) -> str:
        values = self.secret_values()
        if not values or not text:
            return text
        return redact(text, values)

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every secret replaced (keys included)."""
        values = self.secret_values()
        if not values:
            return value
        return _scrub(value, values)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets) if value else value
    if isinstance(value, dict):
        return {_scrub(k, secrets) if isinstance(k, str) else k: _scrub(v, secrets)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, secrets) for v in value]
    return value


__all__ = ["REDACTED", "Scrubber"]
