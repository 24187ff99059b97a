"""The model behind one line of ``prompts.jsonl``."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workbench.benchmark.config import check_slug

RESOLUTION_RE = re.compile(r"^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$")
ASPECT_RE = re.compile(r"^[1-9][0-9]{0,2}:[1-9][0-9]{0,2}$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")

# The order keys are written in, so a saved file diffs cleanly.
FIELD_ORDER = (
    "id", "text", "tags", "notes", "seed", "duration", "resolution", "aspect_ratio", "fps",
    "negative_prompt",
)


def check_tag(tag: str) -> str:
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise ValueError(
            f"tag {tag!r} is not valid (1-48 lower-case letters, digits, '-' or '_')"
        )
    return tag


class Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    tags: tuple[str, ...] = ()
    notes: str = ""
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    duration: float | None = Field(default=None, gt=0, le=120)
    resolution: str | None = None
    aspect_ratio: str | None = None
    fps: int | None = Field(default=None, ge=1, le=240)
    negative_prompt: str | None = None

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_slug(value, "prompt id")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: list[str] = []
        for tag in value:
            check_tag(tag)
            if tag not in seen:
                seen.append(tag)
        return tuple(seen)

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str | None) -> str | None:
        if value is not None and not RESOLUTION_RE.match(value):
            raise ValueError(f"resolution {value!r} should look like '1280x720'")
        return value

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, value: str | None) -> str | None:
        if value is not None and not ASPECT_RE.match(value):
            raise ValueError(f"aspect_ratio {value!r} should look like '16:9'")
        return value

    @property
    def size(self) -> tuple[int, int] | None:
        """Requested (width, height), if a resolution was given."""
        if self.resolution is None:
            return None
        w, h = self.resolution.split("x")
        return int(w), int(h)

    def seed_for(self, repeat: int) -> int:
        """The seed of repeat ``repeat``: the prompt's own seed, or one derived from its id."""
        base = self.seed
        if base is None:
            base = int.from_bytes(hashlib.sha256(self.id.encode()).digest()[:4], "big") & 0x7FFFFFFF
        return (base + repeat) % (2**31)

    def generation_params(self) -> dict[str, Any]:
        """The params a provider receives (only those the prompt sets)."""
        out: dict[str, Any] = {}
        for key in ("duration", "resolution", "aspect_ratio", "fps", "negative_prompt"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def to_record(self) -> dict[str, Any]:
        data = self.model_dump()
        record: dict[str, Any] = {}
        for key in FIELD_ORDER:
            value = data[key]
            if key == "tags":
                record[key] = list(value)
            elif key in ("id", "text", "notes"):
                record[key] = value
            elif value is not None:
                record[key] = value
        return record
