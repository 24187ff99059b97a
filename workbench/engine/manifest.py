"""``runs/<run-id>/manifest.json``: what a run was asked to do and how it ended.

Written atomically when a run starts (status ``running``) and again when it
stops (``finished``, ``interrupted`` or ``failed``). Model configurations are
stored without secrets: ``api_key_env`` names a variable, its value never
appears, and any value a provider reports as secret is scrubbed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.benchmark.config import ModelConfig
from workbench.engine.redaction import Scrubber
from workbench.safe_files import atomic_write_text

MANIFEST_FILE = "manifest.json"
UNFINISHED = ("running", "interrupted")

_SECRET_NAME = re.compile(r"(api[_-]?key|token|secret|password|credential)s?$", re.IGNORECASE)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public_model_config(config: ModelConfig, scrubber: Scrubber) -> dict[str, Any]:
    """A model's config fit for a file: no secret-looking keys, no secret values."""
    data = config.model_dump(mode="json", exclude_none=True)
    clean = {k: v for k, v in data.items() if k.endswith("_env") or not _SECRET_NAME.search(k)}
    return scrubber.value(clean)


def write_manifest(run_dir: Path, manifest: dict[str, Any], scrubber: Scrubber) -> None:
    text = json.dumps(scrubber.record(manifest), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(Path(run_dir) / MANIFEST_FILE, text)


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The manifest of a run folder, or None when it is missing or unreadable."""
    try:
        data = json.loads((Path(run_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
