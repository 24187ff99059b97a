"""A scorer that runs a program per video and reads one JSON result from its output.

Configured by ``[scoring.external.<name>]`` (:class:`ExternalScorerConfig`): the
argv template may contain ``{video}`` (the video's path) and ``{prompt}`` (the
prompt text); it is run directly, never through a shell. The program prints
``{"value": 0.73}`` (optionally with ``"detail": "..."``) or ``{"error": "..."}``
as its last line of output.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
from pathlib import Path

from workbench.benchmark.config import ExternalScorerConfig
from workbench.scorers.base import ScoreResult, Scorer, ScorerError, ScorerInfo, VideoContext

_SHOWN_OUTPUT = 200


def external_info(name: str, config: ExternalScorerConfig) -> ScorerInfo:
    fingerprint = hashlib.sha256(json.dumps(config.argv).encode("utf-8")).hexdigest()[:16]
    return ScorerInfo(
        name=name,
        version=config.version,
        direction=config.direction,
        unit=config.unit,
        range=(None, None),
        description=config.description or f"external program {config.argv[0]}",
        kind="external",
        inputs=("prompt_text",),
        fingerprint=fingerprint,
    )


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_OUTPUT else text[:_SHOWN_OUTPUT] + "..."


def parse_output(stdout: str) -> ScoreResult:
    """The result in a program's output: the whole output or its last non-empty line as JSON."""
    text = stdout.strip()
    candidates = [text]
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        candidates.append(lines[-1])
    data = None
    for candidate in candidates:
        try:
            data = json.loads(candidate)
            break
        except ValueError:
            continue
    expected = 'expected {"value": <number>} or {"error": "<reason>"}'
    if not text:
        raise ScorerError(f"printed nothing ({expected})")
    if not isinstance(data, dict):
        raise ScorerError(f"printed no JSON object ({expected}); output: {_shorten(text)!r}")
    if data.get("error") is not None:
        raise ScorerError(f"reported: {_shorten(str(data['error']))}")
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScorerError(f"printed no numeric \"value\" ({expected}); output: {_shorten(text)!r}")
    if not math.isfinite(value):
        raise ScorerError(f"printed a non-finite value {value!r}")
    detail = data.get("detail")
    return ScoreResult(float(value), str(detail) if detail is not None else None)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


class ExternalScorer(Scorer):
    """Runs the configured program once per video (after the decode pass)."""

    needs_frames = False

    def __init__(self, name: str, config: ExternalScorerConfig):
        self.config = config
        self.info = external_info(name, config)  # type: ignore[misc]

    def command(self, context: VideoContext) -> list[str]:
        video = str(Path(context.path).absolute())
        return [arg.replace("{video}", video).replace("{prompt}", context.prompt_text)
                for arg in self.config.argv]

    def score_file(self, context: VideoContext) -> ScoreResult:
        argv = self.command(context)
        program = self.config.argv[0]
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise ScorerError(f"program not found: {program}") from None
        except OSError as exc:
            raise ScorerError(f"cannot run {program}: {exc.strerror or exc}") from None
        try:
            out, err = process.communicate(timeout=self.config.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            raise ScorerError(f"{program} timed out after {self.config.timeout:g}s") from None
        except BaseException:
            _kill_group(process)
            process.communicate()
            raise
        stdout = out.decode("utf-8", "replace")
        stderr = err.decode("utf-8", "replace")
        if process.returncode != 0:
            try:
                result = parse_output(stdout)
            except ScorerError as exc:
                if str(exc).startswith("reported:"):
                    raise ScorerError(f"{program} {exc}") from None
                tail = _shorten(stderr.strip().splitlines()[-1]) if stderr.strip() else "no error output"
                raise ScorerError(f"{program} exited with status {process.returncode}: {tail}") from None
            raise ScorerError(f"{program} exited with status {process.returncode} (value {result.value} ignored)")
        try:
            return parse_output(stdout)
        except ScorerError as exc:
            raise ScorerError(f"{program} {exc}") from None
