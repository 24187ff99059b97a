"""API keys: read from environment variables at call time, and scrubbed from text.

A key never lives in ``benchmark.toml``, a journal, a log or an error message.
Configuration names the *variable* (``api_key_env = "FAL_KEY"``); the value is
read from the environment each time it is needed, so rotating a key needs no
restart and nothing has to hold it longer than one request.

Every value read through :func:`read_secret` is remembered (in memory only) so
:func:`redact` can scrub it from any text, even text that does not know which
key it might contain (a provider echoing the key in an error body, say).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from workbench.errors import WorkbenchError

#: What a secret is replaced with.
REDACTED = "[redacted]"

#: Values shorter than this are never scrubbed. Real API keys are far longer, while
#: short values ("1", "yes", "prod") also reach the engine as secrets (say, an
#: environment variable a command passes through) and, replaced everywhere they
#: occur as a substring, would corrupt ordinary text, ids and hashes.
MIN_SECRET_LENGTH = 8

_seen_lock = threading.Lock()
_seen: set[str] = set()


class MissingSecret(WorkbenchError):
    """The environment variable that should hold an API key is unset or empty."""

    def __init__(self, env_var: str, purpose: str | None = None):
        self.env_var = env_var
        what = f" (the API key for {purpose})" if purpose else ""
        super().__init__(
            f"environment variable {env_var} is not set{what}; "
            f"export {env_var}=<your key> before running, or point api_key_env at another variable"
        )


def read_secret(env_var: str, purpose: str | None = None) -> str:
    """The value of ``env_var`` right now; :class:`MissingSecret` if unset or blank."""
    if not env_var or not isinstance(env_var, str):
        raise MissingSecret(str(env_var or "<unnamed>"), purpose)
    value = os.environ.get(env_var, "").strip()
    if not value:
        raise MissingSecret(env_var, purpose)
    remember_secret(value)
    return value


def peek_secret(env_var: str | None) -> str | None:
    """The value of ``env_var`` or ``None`` when unset; never raises."""
    if not env_var:
        return None
    value = os.environ.get(env_var, "").strip()
    if not value:
        return None
    remember_secret(value)
    return value


def is_redactable(value: object) -> bool:
    """Whether ``value`` is long enough to be scrubbed as a secret (see MIN_SECRET_LENGTH)."""
    return isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH


def remember_secret(value: str) -> None:
    """Add a value to the set :func:`redact` always scrubs (too short a value is ignored)."""
    if is_redactable(value):
        with _seen_lock:
            _seen.add(value)


def known_secrets() -> list[str]:
    """Every secret value read so far in this process."""
    with _seen_lock:
        return list(_seen)


def _forms(secret: str) -> set[str]:
    """The ways a secret may show up in text: as is, URL-quoted, JSON-escaped."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    escaped = json.dumps(secret)[1:-1]
    forms.add(escaped)
    return {f for f in forms if f}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret, and every secret read so far, replaced.

    Longer secrets are replaced first so a key that contains another is not
    half-replaced. Values shorter than :data:`MIN_SECRET_LENGTH` are left alone.
    """
    if not text:
        return text
    values = {s for s in secrets if is_redactable(s)}
    values.update(known_secrets())
    forms: set[str] = set()
    for value in values:
        forms |= _forms(value)
    for form in sorted(forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, REDACTED)
    return text
