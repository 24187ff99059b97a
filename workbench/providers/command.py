"""The ``command`` provider: any local program that writes a video file.

Example ``benchmark.toml`` entry::

    [models.my-lora]
    provider = "command"
    argv = ["python", "scripts/generate.py", "--prompt", "{prompt}", "--seed", "{seed}",
            "--out", "{output}"]
    timeout = 900          # seconds; the whole process group is killed after it
    env = ["HF_HOME"]      # variables passed through (besides PATH, HOME, locale, TMPDIR)
    duration = 4.0         # used for {duration} when a prompt sets none

No shell is involved: each argv item is one argument, with ``{placeholder}``
fields filled in (``{{`` and ``}}`` for literal braces). Placeholders:
{prompt} {seed} {output} {duration} {fps} {resolution} {aspect_ratio}
{negative_prompt} {model} {prompt_id} {repeat}. A placeholder the prompt and
the model leave unset is an error naming it. Relative paths in ``argv[0]`` and
``cwd`` are taken from the benchmark folder. The program must write the clip
to ``{output}`` and exit 0; otherwise the job fails with the last lines of its
standard error. ``{output}`` must end up a regular file of its own: a symlink
(say, to a file the program reuses for every prompt) is refused, and a hard
link is copied, so one prompt's clip can never become another's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import stat
import string
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from workbench.providers.base import (
    GenerationRequest, GenerationResult, LocalProvider, PermanentError, ProviderParams,
)

PLACEHOLDERS = (
    "prompt", "seed", "output", "duration", "fps", "resolution", "aspect_ratio", "negative_prompt",
    "model", "prompt_id", "repeat",
)
#: Variables every program gets (when set), besides those listed in ``env``.
BASE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")
#: Names of passed-through variables whose values are treated as secrets.
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TAIL_BYTES = 16 * 1024
TAIL_LINES = 12


def _fields(template: str) -> list[tuple[str, str]]:
    """(name, format spec) of every placeholder in ``template``; ValueError when malformed."""
    found = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if conversion:
            raise ValueError(f"{template!r}: conversions like '!{conversion}' are not supported")
        if name not in PLACEHOLDERS:
            raise ValueError(
                f"{template!r}: unknown placeholder {{{name}}} (known: "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS) + "; write {{ and }} for literal braces)"
            )
        found.append((name, spec or ""))
    return found


class CommandParams(ProviderParams):
    argv: list[str] = Field(min_length=1, description="program and arguments, with {placeholders}")
    timeout: float = Field(default=600.0, gt=0, description="seconds before the process group is killed")
    env: list[str] = Field(default_factory=list, description="environment variables to pass through")
    cwd: str | None = Field(default=None, description="working folder (default: the benchmark folder)")
    duration: float | None = Field(default=None, gt=0, description="{duration} when a prompt sets none")
    fps: int | None = Field(default=None, ge=1, description="{fps} when a prompt sets none")
    resolution: str | None = Field(default=None, description="{resolution} when a prompt sets none")
    aspect_ratio: str | None = Field(default=None, description="{aspect_ratio} when a prompt sets none")
    version: str | None = Field(default=None, description="change it to regenerate clips after editing the program")

    @field_validator("argv")
    @classmethod
    def _argv(cls, value: list[str]) -> list[str]:
        if not value[0].strip():
            raise ValueError("argv[0] (the program) is empty")
        for index, item in enumerate(value):
            try:
                _fields(item)
            except ValueError as exc:
                raise ValueError(f"argv[{index}]: {exc}") from None
        if _fields(value[0]):
            raise ValueError("argv[0] (the program) must not contain placeholders")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: list[str]) -> list[str]:
        for name in value:
            if not ENV_NAME.match(name):
                raise ValueError(f"env: {name!r} is not an environment variable name "
                                 "(list names only; values come from your environment)")
        return value


class _Tail:
    """Keeps the last bytes a stream produced."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(65536):
            self.chunks.append(chunk)
            self.size += len(chunk)
            while self.size > TAIL_BYTES and len(self.chunks) > 1:
                self.size -= len(self.chunks.popleft())

    def lines(self) -> str:
        text = b"".join(self.chunks)[-TAIL_BYTES:].decode("utf-8", errors="replace")
        kept = [line.rstrip() for line in text.splitlines() if line.strip()][-TAIL_LINES:]
        return "\n".join(kept)


class CommandProvider(LocalProvider):
    name = "command"
    Params: ClassVar[type[ProviderParams]] = CommandParams
    #: Knobs that change how a program is run, not the clip it makes ("timeout" is exempt for all).
    cache_exempt_params: ClassVar[tuple[str, ...]] = ("env",)

    def __init__(self, model_id: str, params: ProviderParams):
        super().__init__(model_id, params)
        self.params: CommandParams = params  # type: ignore[assignment]
        self.base_dir: Path | None = None

    def bind_benchmark(self, root: Path) -> None:
        """Resolve relative program paths and ``cwd`` against the benchmark folder."""
        self.base_dir = Path(root)

    @classmethod
    def cache_extra(cls, params: CommandParams, request: GenerationRequest) -> dict[str, Any]:
        """Values the clip depends on beyond the usual ones: ids the argv passes to the program."""
        used = {name for item in params.argv for name, _spec in _fields(item)}
        extra: dict[str, Any] = {}
        if "model" in used:
            extra["model"] = request.model_id
        if "prompt_id" in used:
            extra["prompt_id"] = request.prompt_id
        if "repeat" in used:
            extra["repeat"] = request.repeat
        return extra

    def secrets(self) -> list[str]:
        values = []
        for name in self.params.env:
            value = os.environ.get(name, "")
            if value and SECRET_NAME.search(name):
                values.append(value)
        return values

    # ----------------------------------------------------------------- argv
    def _values(self, request: GenerationRequest, output: Path) -> dict[str, Any]:
        p = self.params
        values = request.template_values()
        values["output"] = str(output)
        for name in ("duration", "fps", "resolution", "aspect_ratio"):
            if values.get(name) is None:
                values[name] = getattr(p, name)
        return values

    def render_argv(self, request: GenerationRequest, output: Path) -> list[str]:
        values = self._values(request, output)
        rendered = []
        for index, item in enumerate(self.params.argv):
            for name, _spec in _fields(item):
                if values.get(name) is None:
                    raise PermanentError(
                        f"argv[{index}] {item!r} uses {{{name}}}, but prompt {request.prompt_id!r} "
                        f"sets no {name} and model {self.model_id!r} has no default; set {name!r} "
                        f"on the prompt or under [models.{self.model_id}]"
                    )
            try:
                rendered.append(item.format_map(values))
            except (ValueError, TypeError) as exc:
                raise PermanentError(f"argv[{index}] {item!r}: cannot fill in placeholders ({exc})") from None
        program = rendered[0]
        if self.base_dir is not None and os.sep in program and not os.path.isabs(program):
            rendered[0] = str(self.base_dir / program)
        return rendered

    def _cwd(self) -> str | None:
        cwd = self.params.cwd
        if cwd is None:
            return str(self.base_dir) if self.base_dir is not None else None
        path = Path(cwd).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return str(path)

    def _env(self) -> dict[str, str]:
        names = list(BASE_ENV) + list(self.params.env)
        return {name: os.environ[name] for name in names if name in os.environ}

    # ------------------------------------------------------------- running
    async def generate(self, request: GenerationRequest, output: Path) -> GenerationResult:
        argv = self.render_argv(request, output)
        cwd = self._cwd()
        if cwd is not None and not Path(cwd).is_dir():
            raise PermanentError(f"cwd {cwd!r} is not a folder")
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, cwd=cwd, env=self._env(), start_new_session=True,
            )
        except FileNotFoundError:
            raise PermanentError(f"cannot run {argv[0]!r}: no such program") from None
        except PermissionError:
            raise PermanentError(f"cannot run {argv[0]!r}: permission denied") from None
        except OSError as exc:
            raise PermanentError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None

        stdout, stderr = _Tail(), _Tail()
        readers = [asyncio.ensure_future(stdout.drain(process.stdout)),
                   asyncio.ensure_future(stderr.drain(process.stderr))]
        try:
            try:
                code = await asyncio.wait_for(process.wait(), self.params.timeout)
            except TimeoutError:
                await _kill_group(process)
                raise PermanentError(
                    f"{Path(argv[0]).name} timed out after {self.params.timeout:g} s; its process "
                    f"group was killed" + _tail_note(stderr)
                ) from None
            except asyncio.CancelledError:
                await asyncio.shield(_kill_group(process))
                raise
        finally:
            await _finish_readers(readers)

        if code != 0:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            raise PermanentError(f"{Path(argv[0]).name} {how}" + _tail_note(stderr, stdout))
        _check_output(output, Path(argv[0]).name, _tail_note(stderr, stdout))
        return GenerationResult(info={"program": Path(argv[0]).name})


def _check_output(output: Path, program: str, note: str) -> None:
    """PermanentError unless ``output`` is a non-empty regular file of its own.

    The engine moves the file into the shared video cache and hard-links it into
    run folders, so it must not be a symlink (or a hard link) to a file the
    program reuses: the next prompt's clip would silently replace this one.
    A hard-linked output is copied into a private file; anything that is not a
    regular file is refused.
    """
    try:
        info = os.lstat(output)
    except FileNotFoundError:
        raise PermanentError(f"{program} exited 0 but wrote no video to {{output}}" + note) from None
    if stat.S_ISLNK(info.st_mode):
        raise PermanentError(
            f"{program} made {{output}} a symlink; {{output}} must be a regular file the program wrote, "
            f"not a symlink (copy the clip there instead)")
    if not stat.S_ISREG(info.st_mode):
        raise PermanentError(
            f"{program} left something that is not a file at {{output}}; {{output}} must be a regular "
            f"file the program wrote, not a symlink, folder or device")
    if info.st_size == 0:
        raise PermanentError(f"{program} exited 0 but wrote no video to {{output}} (the file is empty)" + note)
    if info.st_nlink > 1:
        _unshare(output)


def _unshare(output: Path) -> None:
    """Replace a hard-linked ``output`` by a private copy of its bytes."""
    private = output.with_name(output.name + ".private")
    try:
        shutil.copyfile(output, private)
        os.replace(private, output)
    except OSError as exc:
        private.unlink(missing_ok=True)
        raise PermanentError(f"cannot copy the hard-linked {{output}} into a file of its own: "
                             f"{exc.strerror or exc}") from None


def _tail_note(*tails: _Tail) -> str:
    for tail in tails:
        text = tail.lines()
        if text:
            return f"; last output:\n{text}"
    return ""


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill the program and everything it started, and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(process.wait(), 10)


async def _finish_readers(readers: list[asyncio.Future[None]]) -> None:
    """Let the output readers reach end of stream; stop them if a stray child keeps a pipe open."""
    done, pending = await asyncio.wait(readers, timeout=2.0)
    for reader in pending:
        reader.cancel()
    for reader in done:
        reader.exception()  # mark retrieved
