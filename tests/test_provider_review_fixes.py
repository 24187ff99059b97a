"""Provider defects found in review, each pinned by a test.

* ``command``: ``{output}`` must be a regular file of its own (no symlink, no
  shared hard link), or one prompt's clip becomes another's in the cache.
* Cache keys: the ``http`` provider's server (``base_url``) is part of a clip's
  identity; transport-only settings of ``http``, fal, Replicate and Runway are not.
* Hosted providers resolve relative result URLs against the answer's URL.
* The API key goes only to the configured origin, never to a host an answer names.
* ``timeout_total`` is a parameter of every hosted provider.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.engine_support.bench_folder import load, write_bench
from tests.engine_support.clips import sample_mp4_bytes
from tests.fake_providers import ACME_PROTOCOL, FakeFal, FakeGeneric, FakeReplicate, Reply, Request
from tests.fake_providers.cases import CASES
from workbench.benchmark.config import ModelConfig
from workbench.benchmark.prompts import Prompt
from workbench.engine import run_benchmark
from workbench.engine.jobs import plan_jobs
from workbench.providers.base import GenerationRequest, JobStatus, PermanentError
from workbench.providers.command import CommandParams, CommandProvider
from workbench.providers.hosted.download import check_decodes
from workbench.providers.hosted.generic_http import GenericHttpParams, GenericHttpProvider
from workbench.providers.registry import provider_class

KEY = "sk-REVIEW-FIXES-5e1d7c"
TIMEOUT = 2.0
REQUEST = GenerationRequest(model_id="cand", prompt_id="p-1", prompt="a paper boat on a puddle", seed=7,
                            duration=5.0, aspect_ratio="16:9")


# -- 1. command: {output} must be a regular file of its own ---------------------------------------

#: Keeps one file for every prompt and hands it out as {output} (a symlink or a hard link).
REUSER = """
import os, shutil, sys
prompt_id, output, latest, how = sys.argv[1:5]
sources = {"p1": sys.argv[5], "p2": sys.argv[6]}
shutil.copyfile(sources[prompt_id], latest)   # rewrites the same file in place every time
(os.symlink if how == "symlink" else os.link)(latest, output)
"""


def _reuser(tmp_path: Path, how: str, sources: dict[str, Path]) -> list[str]:
    script = tmp_path / "reuser.py"
    script.write_text(textwrap.dedent(REUSER))
    return [sys.executable, str(script), "{prompt_id}", "{output}", str(tmp_path / "latest.mp4"), how,
            str(sources["p1"]), str(sources["p2"])]


def _clips(tmp_path: Path) -> dict[str, Path]:
    sources = {}
    for prompt_id, frames in (("p1", 6), ("p2", 9)):
        sources[prompt_id] = tmp_path / f"src-{prompt_id}.mp4"
        sources[prompt_id].write_bytes(sample_mp4_bytes(frames=frames))
    assert sources["p1"].read_bytes() != sources["p2"].read_bytes()
    return sources


async def test_command_output_symlink_is_refused(tmp_path):
    sources = _clips(tmp_path)
    provider = CommandProvider("cmd", CommandParams(argv=_reuser(tmp_path, "symlink", sources)))
    output = tmp_path / "work" / "out.mp4"
    output.parent.mkdir()
    request = GenerationRequest(model_id="cmd", prompt_id="p1", prompt="x", seed=1)
    with pytest.raises(PermanentError, match=r"\{output\} must be a regular file the program wrote, not a symlink"):
        await provider.generate(request, output)


async def test_command_hard_linked_output_becomes_a_private_copy(tmp_path):
    sources = _clips(tmp_path)
    provider = CommandProvider("cmd", CommandParams(argv=_reuser(tmp_path, "link", sources)))
    output = tmp_path / "work" / "out.mp4"
    output.parent.mkdir()
    await provider.generate(GenerationRequest(model_id="cmd", prompt_id="p1", prompt="x", seed=1), output)
    assert os.lstat(output).st_nlink == 1
    # The program's next run rewrites its reused file; the finished clip must not change.
    (tmp_path / "latest.mp4").write_bytes(sources["p2"].read_bytes())
    assert output.read_bytes() == sources["p1"].read_bytes()


@pytest.mark.parametrize("how", ["symlink", "link"])
async def test_command_reused_output_never_swaps_clips_in_a_run(tmp_path, how):
    sources = _clips(tmp_path)
    root = write_bench(tmp_path / "bench", {"cmd": {"provider": "command", "argv": _reuser(tmp_path, how, sources)}},
                       [{"id": "p1", "text": "a red ball"}, {"id": "p2", "text": "a blue car"}],
                       run={"concurrency": 1})
    summary = await run_benchmark(load(root))
    cache = root / ".workbench-cache" / "videos"
    cached = list(cache.rglob("*")) if cache.exists() else []
    assert not [p for p in cached if p.is_symlink()], "a symlink made it into the video cache"
    videos = summary.run_dir / "videos" / "cmd"
    if how == "symlink":
        assert summary.failed == 2 and summary.succeeded == 0
        assert all("not a symlink" in f.error for f in summary.failures), summary.failures
    else:
        assert summary.succeeded == 2, summary.failures
        for prompt_id in ("p1", "p2"):
            assert (videos / f"{prompt_id}--r0.mp4").read_bytes() == sources[prompt_id].read_bytes()


# -- 2. cache keys ------------------------------------------------------------------------------------

PROMPT = Prompt(id="p1", text="a cat on a windowsill")
HTTP_MODEL: dict[str, Any] = {
    "provider": "http", "base_url": "http://gpu1.local:8000", "submit_url": "/v1/videos", "job_id_path": "id",
    "poll_url": "/v1/videos/{job_id}", "status_path": "status", "status_map": {"done": "succeeded"},
    "result_url_path": "url", "body": {"prompt": "{prompt}"},
}


def key_of(table: dict[str, Any]) -> str:
    """The cache key the engine plans for one model with this ``[models.<id>]`` table."""
    config = ModelConfig.model_validate(table)
    cls = provider_class(config.provider)
    params = cls.Params.model_validate(config.params)
    jobs = plan_jobs({"m": (config, cls, params)}, [PROMPT], 1, {"m": 5.0})
    return jobs[0].key


def test_http_models_on_different_servers_do_not_share_clips():
    gpu1 = key_of(HTTP_MODEL)
    assert key_of({**HTTP_MODEL, "base_url": "http://gpu2.local:8000"}) != gpu1
    assert key_of({**HTTP_MODEL, "base_url": "http://gpu1.local:8000/"}) == gpu1  # same server


@pytest.mark.parametrize("change", [
    {"poll_url": "/v2/videos/{job_id}"},
    {"poll_url": None, "poll_url_path": "links.status"},
    {"poll_method": "POST"},
    {"headers": {"X-Trace": "on"}},
    {"job_id_path": "data.id"},
    {"status_path": "state"},
    {"status_map": {"done": "succeeded", "oops": "failed"}},
    {"unknown_status": "error"},
    {"result_url_path": "files.0.url"},
    {"error_path": "message"},
    {"progress_path": "progress"},
    {"progress_scale": 100},
    {"download_auth": True},
    {"timeout": 5.0, "poll_interval": 1.0, "timeout_total": 60.0},
], ids=lambda c: ",".join(c))
def test_http_transport_settings_do_not_change_the_key(change):
    table = {k: v for k, v in {**HTTP_MODEL, **change}.items() if v is not None}
    assert key_of(table) == key_of(HTTP_MODEL)


@pytest.mark.parametrize("change", [
    {"submit_url": "/v1/videos/hq"},
    {"method": "PUT"},
    {"body": {"prompt": "{prompt}", "steps": 50}},
    {"inputs": {"guidance": 7}},
], ids=lambda c: ",".join(c))
def test_http_request_settings_change_the_key(change):
    assert key_of({**HTTP_MODEL, **change}) != key_of(HTTP_MODEL)


@pytest.mark.parametrize(("table", "transport", "shaping"), [
    ({"provider": "fal", "model": "fal-ai/v/text-to-video"}, {"result_path": "data.video.url"},
     {"model": "fal-ai/w/text-to-video"}),
    ({"provider": "replicate", "model": "acme/video"}, {"result_path": "0"}, {"model": "acme/other"}),
    ({"provider": "runway"}, {"runway_version": "2025-01-01"}, {"ratio": "960:960"}),
], ids=["fal", "replicate", "runway"])
def test_hosted_transport_settings_do_not_change_the_key(table, transport, shaping):
    base = key_of(table)
    assert key_of({**table, **transport}) == base
    assert key_of({**table, **shaping}) != base


# -- 3. relative result URLs ------------------------------------------------------------------------------

HOSTED = [c for c in CASES if c.name != "http"] + [c for c in CASES if c.name == "http"]


async def _finish(provider, submission, limit: int = 10):
    for _ in range(limit):
        result = await provider.poll(submission)
        if result.status.finished:
            return result
    raise AssertionError("job never finished")


@pytest.mark.parametrize("case", HOSTED, ids=[c.name for c in HOSTED])
async def test_relative_result_urls_are_resolved_against_the_answer(case, monkeypatch, tmp_path):
    monkeypatch.setenv(case.env, KEY)
    with case.fake(api_key=KEY, polls_before_done=0) as fake:
        provider = case.provider(fake, timeout=TIMEOUT)
        try:
            fake.result_url_override = "/files/clip.mp4"
            result = await _finish(provider, await provider.submit(REQUEST))
            assert result.status is JobStatus.SUCCEEDED
            assert result.result_url == f"{fake.origin}/files/clip.mp4"

            # Scheme-relative: the CDN, fetched for real.
            fake.result_url_override = f"//127.0.0.1:{fake.cdn_port}/files/clip.mp4"
            submission = await provider.submit(REQUEST)
            result = await _finish(provider, submission)
            assert result.result_url == f"{fake.cdn_origin}/files/clip.mp4"
            output = tmp_path / f"{case.name}.mp4"
            await provider.download(submission, result, output)
            check_decodes(output)

            # Still only http(s) after resolving.
            fake.result_url_override = "file:///etc/passwd"
            with pytest.raises(PermanentError, match="'file:'"):
                await _finish(provider, await provider.submit(REQUEST))
        finally:
            await provider.aclose()


# -- 4. the key stays on its own origin ------------------------------------------------------------------------


def _cdn_requests_with_key(fake) -> list[Request]:
    return [r for r in fake.requests if r.origin == "cdn" and KEY in " ".join(r.headers.values())]


class FalNamingAnotherHost(FakeFal):
    """fal whose submit answer points status/response URLs at another origin (the CDN port)."""

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if request.method == "POST":
            reply.body = reply.body.replace(self.origin.encode(), self.cdn_origin.encode())
        return reply


class ReplicateNamingAnotherHost(FakeReplicate):
    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if request.method == "POST":
            reply.body = reply.body.replace(f'"get": "{self.origin}'.encode(), f'"get": "{self.cdn_origin}'.encode())
        return reply


@pytest.mark.parametrize(("fake_cls", "name", "env", "model"), [
    (FalNamingAnotherHost, "fal", "FAL_KEY", "fal-ai/fake-video/text-to-video"),
    (ReplicateNamingAnotherHost, "replicate", "REPLICATE_API_TOKEN", "acme/video-model"),
], ids=["fal", "replicate"])
async def test_status_urls_on_another_host_get_no_key_and_the_job_still_finishes(
        fake_cls, name, env, model, monkeypatch, tmp_path):
    monkeypatch.setenv(env, KEY)
    cls = provider_class(name)
    with fake_cls(api_key=KEY, polls_before_done=1) as fake:
        provider = cls("cand", cls.Params(base_url=fake.base_url, model=model, timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            assert all(fake.cdn_origin not in str(url) for url in submission.state.values()), submission.state
            result = await _finish(provider, submission)
            assert result.status is JobStatus.SUCCEEDED
            await provider.download(submission, result, tmp_path / "clip.mp4")
        finally:
            await provider.aclose()
    assert not _cdn_requests_with_key(fake)
    assert [r for r in fake.requests if r.origin == "cdn"] == [r for r in fake.requests if r.path.startswith("/files/")]


class AcmeStatusElsewhere(FakeGeneric):
    """The Acme API, but its status links point at another origin (the CDN port) that serves them.

    ``cdn_status`` is the HTTP status the other origin answers with (401: it wants a key).
    """

    def __init__(self, *, cdn_status: int = 200, **kwargs: Any):
        super().__init__(**kwargs)
        self.cdn_status = cdn_status

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if request.method == "POST":
            reply.body = reply.body.replace(self.origin.encode(), self.cdn_origin.encode())
        return reply

    def handle_cdn(self, request: Request) -> Reply:
        if request.path.startswith("/api/jobs/"):
            if self.cdn_status != 200:
                return Reply.json({"message": "no credentials"}, self.cdn_status)
            return self.handle(request)
        return super().handle_cdn(request)


def acme_params(fake, **changes: Any) -> GenericHttpParams:
    values = {**ACME_PROTOCOL, "api_key_env": "ACME_TEST_KEY", "submit_url": f"{fake.base_url}/jobs",
              "poll_url": None, "poll_url_path": "data.links.status", "timeout": TIMEOUT,
              "headers": {"X-Api-Key": "{api_key}", "X-Client": "workbench"}}
    values.update(changes)
    return GenericHttpParams(**{k: v for k, v in values.items() if v is not None})


async def test_http_poll_url_from_the_answer_on_another_host_is_polled_without_the_key(monkeypatch):
    monkeypatch.setenv("ACME_TEST_KEY", KEY)
    with AcmeStatusElsewhere(api_key=KEY, polls_before_done=1) as fake:
        provider = GenericHttpProvider("cand", acme_params(fake))
        try:
            submission = await provider.submit(REQUEST)
            assert submission.state["poll_url"].startswith(fake.cdn_origin)
            result = await _finish(provider, submission)
        finally:
            await provider.aclose()
    assert result.status is JobStatus.SUCCEEDED
    polls = [r for r in fake.requests if r.origin == "cdn"]
    assert polls and not _cdn_requests_with_key(fake)
    assert all(r.headers.get("x-client") == "workbench" for r in polls)  # other headers still go
    assert fake.requests[0].headers["x-api-key"] == KEY  # the submit origin gets the key


async def test_http_other_host_asking_for_credentials_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("ACME_TEST_KEY", KEY)
    with AcmeStatusElsewhere(api_key=KEY, cdn_status=401) as fake:
        provider = GenericHttpProvider("cand", acme_params(fake))
        try:
            submission = await provider.submit(REQUEST)
            with pytest.raises(PermanentError, match="API key is sent only to") as info:
                await provider.poll(submission)
        finally:
            await provider.aclose()
    assert KEY not in str(info.value)
    assert not _cdn_requests_with_key(fake)


async def test_http_configured_poll_url_keeps_the_key_but_not_a_job_id_host(monkeypatch):
    monkeypatch.setenv("ACME_TEST_KEY", KEY)
    with AcmeStatusElsewhere(api_key=KEY) as fake:
        # A poll_url written in benchmark.toml is the user's choice of host: it gets the key.
        configured = GenericHttpProvider("cand", acme_params(
            fake, poll_url_path=None, poll_url=f"{fake.cdn_origin}/api/jobs/{{job_id}}"))
        assert configured.sends_key_to(f"{fake.cdn_origin}/api/jobs/x")
        # A host that depends on the job id (which the provider chooses) does not.
        varying = GenericHttpProvider("cand", acme_params(
            fake, poll_url_path=None, poll_url="http://{job_id}.example/jobs"))
        assert not varying.sends_key_to("http://job-1.example/jobs")
        assert varying.sends_key_to(f"{fake.base_url}/jobs")


# -- 5. timeout_total ------------------------------------------------------------------------------------------

HOSTED_PARAMS = {
    "fal": {"model": "fal-ai/v/text-to-video"}, "replicate": {"model": "acme/video"}, "veo": {}, "runway": {},
    "luma": {}, "http": {k: v for k, v in HTTP_MODEL.items() if k != "provider"},
}


@pytest.mark.parametrize("name", sorted(HOSTED_PARAMS))
def test_hosted_params_take_timeout_total(name):
    Params = provider_class(name).Params
    assert Params.model_validate(HOSTED_PARAMS[name]).timeout_total is None
    assert Params.model_validate({**HOSTED_PARAMS[name], "timeout_total": 900}).timeout_total == 900.0
    with pytest.raises(ValidationError, match="timeout_total"):
        Params.model_validate({**HOSTED_PARAMS[name], "timeout_total": 0})
