"""Who is rating or deciding: an explicit name, else $WORKBENCH_RATER, else the login name."""

from __future__ import annotations

import getpass
import os

from workbench.errors import WorkbenchError


def person_name(explicit: str | None, *, flag: str, doing: str) -> str:
    """The name to record; ``flag`` and ``doing`` word the error when none can be found."""
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ.get("WORKBENCH_RATER", "").strip()
    if env:
        return env
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise WorkbenchError(f"cannot tell who is {doing}: pass {flag} NAME or set WORKBENCH_RATER") from None
