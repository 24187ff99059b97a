"""Scrubbing secret values out of everything the engine writes.

Providers read keys from the environment at call time; whatever they report
through ``secrets()`` (and every secret read anywhere in the process) is
replaced by ``[redacted]`` in journal events, manifests and error messages,
even when a provider echoes a key back inside an error.

Only free text and what a provider hands back are scrubbed (:data:`FREE_TEXT_FIELDS`).
Structural fields (cache keys, job ids, hashes, run ids, model and prompt ids)
are written as they are: a value that happened to contain a secret-like
substring must never be rewritten there, or resuming would no longer find its
jobs (and would pay for them again). Values shorter than
:data:`~workbench.secrets.MIN_SECRET_LENGTH` are never treated as secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from workbench.providers.base import Provider
from workbench.secrets import REDACTED, is_redactable, known_secrets, redact

#: Record fields that may carry a secret: messages, and state or details a provider supplied.
FREE_TEXT_FIELDS = frozenset({
    "error", "reason", "message", "state", "info", "benchmark", "model_configs",
})


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
            values.update(v for v in found if is_redactable(v))
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

    def record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a journal event or manifest with its free-text fields scrubbed.

        Every other field (``key``, ``job_id``, ``run_id``, hashes, ids) is kept
        byte for byte.
        """
        values = self.secret_values()
        if not values:
            return dict(record)
        return {name: _scrub(field, values) if name in FREE_TEXT_FIELDS else field
                for name, field in record.items()}


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets) if value else value
    if isinstance(value, dict):
        return {_scrub(k, secrets) if isinstance(k, str) else k: _scrub(v, secrets)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, secrets) for v in value]
    return value


__all__ = ["FREE_TEXT_FIELDS", "REDACTED", "Scrubber"]
