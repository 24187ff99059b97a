"""The ``command`` provider: a local program that writes the clip, run without a shell."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.engine_support.bench_folder import load, write_bench
from tests.engine_support.clips import sample_mp4_bytes
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from workbench.engine import load_run, run_benchmark
from workbench.media.video_check import video_problem
from workbench.errors import InvalidInput
from workbench.providers.base import GenerationRequest, PermanentError
from workbench.providers.command import CommandParams, CommandProvider

WRITER = """
import json, shutil, sys
source, output, log = sys.argv[1], sys.argv[2], sys.argv[3]
with open(log, "a") as handle:
    handle.write(json.dumps(sys.argv[4:]) + "\\n")
shutil.copyfile(source, output)
print("wrote", output)
"""

FAILER = """
import sys
for i in range(30):
    print(f"loading weights {i}", file=sys.stderr)
print("CUDA out of memory: tried to allocate 20 GiB", file=sys.stderr)
sys.exit(3)
"""

HANGER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(60)
"""

NOOP = "print('done, but forgot to write the file')\n"


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "source.mp4"
    path.write_bytes(sample_mp4_bytes())
    return path


def provider(**params) -> CommandProvider:
    return CommandProvider("cmd", CommandParams.model_validate(params))


def request(**fields) -> GenerationRequest:
    values = {"model_id": "cmd", "prompt_id": "p1", "prompt": "a cat; rm -rf / $(whoami)", "seed": 42}
    values.update(fields)
    return GenerationRequest(**values)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


async def test_program_writes_the_clip_with_placeholders_filled_without_a_shell(tmp_path, clip):
    log = tmp_path / "args.jsonl"
    cmd = provider(argv=[sys.executable, script(tmp_path, "w.py", WRITER), str(clip), "{output}", str(log),
                         "{prompt}", "{seed}", "{duration}", "{fps}", "{model}/{prompt_id}",
                         "{{literal}}", "{negative_prompt}"],
                   duration=3.5)
    output = tmp_path / "out.mp4"
    result = await cmd.generate(request(fps=12), output)
    assert video_problem(output) is None
    assert json.loads(log.read_text()) == ["a cat; rm -rf / $(whoami)", "42", "3.5", "12", "cmd/p1",
                                           "{literal}", ""]
    assert result.info["program"] == Path(sys.executable).name


async def test_non_zero_exit_fails_with_the_last_lines_of_stderr(tmp_path):
    cmd = provider(argv=[sys.executable, script(tmp_path, "f.py", FAILER), "{output}"])
    with pytest.raises(PermanentError) as info:
        await cmd.generate(request(), tmp_path / "out.mp4")
    message = str(info.value)
    assert "exited with status 3" in message and "CUDA out of memory" in message
    assert "loading weights 29" in message and "loading weights 0\n" not in message


async def test_missing_output_is_an_error(tmp_path):
    cmd = provider(argv=[sys.executable, script(tmp_path, "n.py", NOOP), "{output}"])
    with pytest.raises(PermanentError, match="(?s)wrote no video .*forgot to write"):
        await cmd.generate(request(), tmp_path / "out.mp4")


async def test_timeout_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    cmd = provider(argv=[sys.executable, script(tmp_path, "h.py", HANGER), str(pid_file), "{output}"],
                   timeout=1.0)
    began = time.monotonic()
    with pytest.raises(PermanentError, match=r"timed out after 1 s; its process group was killed"):
        await cmd.generate(request(), tmp_path / "out.mp4")
    assert time.monotonic() - began < 8
    child = int(pid_file.read_text())
    for _ in range(100):
        if not alive(child):
            break
        await asyncio.sleep(0.05)
    assert not alive(child), "the program's own child survived the timeout"


async def test_cancelling_kills_the_program(tmp_path):
    pid_file = tmp_path / "child.pid"
    cmd = provider(argv=[sys.executable, script(tmp_path, "h.py", HANGER), str(pid_file), "{output}"])
    task = asyncio.ensure_future(cmd.generate(request(), tmp_path / "out.mp4"))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    child = int(pid_file.read_text())
    for _ in range(100):
        if not alive(child):
            break
        await asyncio.sleep(0.05)
    assert not alive(child)


async def test_a_placeholder_without_a_value_is_a_clear_error(tmp_path):
    cmd = provider(argv=["true", "--seconds", "{duration}", "{output}"])
    with pytest.raises(PermanentError, match=r"argv\[2\] '\{duration\}' uses \{duration\}, but prompt 'p1' "
                                             r"sets no duration and model 'cmd' has no default"):
        await cmd.generate(request(), tmp_path / "out.mp4")


def test_bad_argv_and_env_are_rejected_when_loading():
    with pytest.raises(ValidationError, match=r"argv\[1\].*unknown placeholder \{promt\}"):
        CommandParams(argv=["gen", "{promt}"])
    with pytest.raises(ValidationError, match="must not contain placeholders"):
        CommandParams(argv=["{prompt}"])
    with pytest.raises(ValidationError, match="not an environment variable name"):
        CommandParams(argv=["gen"], env=["MY_KEY=abc"])
    with pytest.raises(ValidationError):
        CommandParams(argv=[])


async def test_a_missing_program_is_a_clear_error(tmp_path):
    cmd = provider(argv=[str(tmp_path / "nope"), "{output}"])
    with pytest.raises(PermanentError, match="no such program"):
        await cmd.generate(request(), tmp_path / "out.mp4")


async def test_only_listed_variables_reach_the_program(tmp_path, clip, monkeypatch):
    monkeypatch.setenv("WB_PASSED", "yes")
    monkeypatch.setenv("WB_NOT_PASSED", "no")
    dump = script(tmp_path, "env.py", """
        import json, os, shutil, sys
        json.dump(dict(os.environ), open(sys.argv[1], "w"))
        shutil.copyfile(sys.argv[2], sys.argv[3])
    """)
    out_env = tmp_path / "env.json"
    cmd = provider(argv=[sys.executable, dump, str(out_env), str(clip), "{output}"], env=["WB_PASSED"])
    await cmd.generate(request(), tmp_path / "out.mp4")
    env = json.loads(out_env.read_text())
    assert env["WB_PASSED"] == "yes" and "WB_NOT_PASSED" not in env and "PATH" in env


async def test_command_models_run_through_the_engine(tmp_path, clip, monkeypatch):
    """Relative program paths resolve in the benchmark folder; secrets passed in env are scrubbed."""
    secret = "tok-93b1f0c2aa77"
    monkeypatch.setenv("WB_GEN_TOKEN", secret)
    root = tmp_path / "bench"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "gen.py").write_text(textwrap.dedent(f"""
        import os, shutil, sys
        prompt, output = sys.argv[1], sys.argv[2]
        if "fail" in prompt:
            print("auth failed for token " + os.environ["WB_GEN_TOKEN"], file=sys.stderr)
            sys.exit(1)
        shutil.copyfile({str(clip)!r}, output)
    """))
    prompts = [{"id": "ok", "text": "a calm lake"}, {"id": "bad", "text": "please fail"}]
    write_bench(root, {"local": {"provider": "command", "argv": [sys.executable, "scripts/gen.py",
                                                                  "{prompt}", "{output}"],
                                 "env": ["WB_GEN_TOKEN"], "timeout": 30}}, prompts)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert (summary.succeeded, summary.failed) == (1, 1)
    error = summary.failures[0].error
    assert "exited with status 1" in error and "[redacted]" in error and secret not in error
    journal = (root / "runs" / summary.run_id / "journal.jsonl").read_text()
    assert secret not in journal
    assert video_problem(load_run(root, summary.run_id).job("local", "ok").video) is None

    # The timeout is not part of a clip's identity; the program's arguments are.
    write_bench(root, {"local": {"provider": "command", "argv": [sys.executable, "scripts/gen.py",
                                                                  "{prompt}", "{output}"],
                                 "env": ["WB_GEN_TOKEN"], "timeout": 60}}, prompts)
    again = await run_benchmark(load(root), retry=FAST_RETRY)
    assert again.cached == 1 and again.provider_calls == 1  # only the failed job is tried again


def test_unknown_placeholder_is_reported_with_its_place_in_benchmark_toml(tmp_path):
    root = write_bench(tmp_path / "b", {"local": {"provider": "command", "argv": ["gen", "{sead}"]}}, 1)
    with pytest.raises(InvalidInput, match=r"models\.local\.argv.*unknown placeholder \{sead\}"):
        load(root)
