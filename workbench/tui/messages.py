"""Messages the app's workers post; handlers on the app own every state change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark
    from workbench.errors import WorkbenchError


@dataclass
class BenchmarkLoaded(Message):
    bench: Benchmark
    token: int = 0  #: which load request this answers


@dataclass
class BenchmarkFailed(Message):
    error: WorkbenchError
    token: int = 0
