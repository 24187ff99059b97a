"""What each hosted provider does that the others don't: request shapes, status
vocabularies, URL following, and the generic provider's configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.fake_providers import ACME_PROTOCOL, FakeFal, FakeGeneric, FakeLuma, FakeReplicate, FakeRunway, FakeVeo, Fault
from workbench.providers.base import GenerationRequest, JobStatus, PermanentError, TransientError
from workbench.providers.hosted.download import check_decodes
from workbench.providers.hosted.fal import FalParams, FalProvider
from workbench.providers.hosted.generic_http import GenericHttpParams, GenericHttpProvider
from workbench.providers.hosted.luma import LumaParams, LumaProvider
from workbench.providers.hosted.replicate import ReplicateParams, ReplicateProvider
from workbench.providers.hosted.runway import RunwayParams, RunwayProvider
from workbench.providers.hosted.veo import VeoParams, VeoProvider
from workbench.providers.registry import provider_class

KEY = "sk-DISTINCTIVE-specifics-2468"
TIMEOUT = 2.0  # no test here waits for a timeout
REQUEST = GenerationRequest(
    model_id="cand", prompt_id="p-002", prompt="a lighthouse at dusk", seed=99,
    duration=5.0, resolution="1280x720", aspect_ratio="16:9", negative_prompt="text, watermark",
)


async def poll_all(provider, submission, limit=10):
    results = []
    for _ in range(limit):
        results.append(await provider.poll(submission))
        if results[-1].status.finished:
            break
    return results


@pytest.fixture
def keys(monkeypatch):
    for var in ("FAL_KEY", "REPLICATE_API_TOKEN", "GEMINI_API_KEY", "RUNWAYML_API_SECRET", "LUMAAI_API_KEY", "ACME_TEST_KEY"):
        monkeypatch.setenv(var, KEY)


def test_registry_names_resolve_to_remote_providers():
    expected = {"http": GenericHttpProvider, "fal": FalProvider, "replicate": ReplicateProvider,
                "veo": VeoProvider, "runway": RunwayProvider, "luma": LumaProvider}
    for name, cls in expected.items():
        assert provider_class(name) is cls
        assert cls.remote is True


def test_params_forbid_unknown_keys_and_bad_values():
    with pytest.raises(ValidationError, match="modle"):
        FalParams(model="fal-ai/x", modle="typo")
    with pytest.raises(ValidationError):
        FalParams(model="fal-ai/x", base_url="ftp://queue.fal.run")
    with pytest.raises(ValidationError, match="never the key itself"):
        LumaParams(api_key_env="sk-live 123")
    with pytest.raises(ValidationError):
        RunwayParams(timeout=0)
    with pytest.raises(ValidationError, match="promt"):
        LumaParams(inputs={"x": "{promt}"})
    assert LumaParams(extra={"loop": True}).inputs == {"loop": True}
    assert VeoParams(base_url="https://proxy.example/v1beta/").base_url == "https://proxy.example/v1beta"


def test_default_endpoints_and_key_variables():
    assert FalParams(model="fal-ai/x").base_url == "https://queue.fal.run"
    assert FalParams(model="fal-ai/x").api_key_env == "FAL_KEY"
    assert ReplicateParams(model="a/b").api_key_env == "REPLICATE_API_TOKEN"
    assert VeoParams().api_key_env == "GEMINI_API_KEY"
    assert RunwayParams().api_key_env == "RUNWAYML_API_SECRET"
    assert LumaParams().api_key_env == "LUMAAI_API_KEY"
    assert VeoParams().poll_interval == 5.0
    assert VeoParams().max_download_bytes == 2 * 1024**3


# -- fal ----------------------------------------------------------------------------------------


async def test_fal_body_urls_and_inputs(keys):
    with FakeFal(api_key=KEY) as fake:
        params = FalParams(
            base_url=fake.base_url, model="fal-ai/fake-video/v2/text-to-video", timeout=TIMEOUT,
            inputs={"duration": "{duration}s", "enable_safety_checker": False}, omit=["seed"],
        )
        provider = FalProvider("cand", params)
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
        finally:
            await provider.aclose()
    body = fake.bodies[0]
    assert body == {"prompt": "a lighthouse at dusk", "negative_prompt": "text, watermark", "aspect_ratio": "16:9",
                    "duration": "5s", "enable_safety_checker": False}
    assert fake.requests[0].path == "/fal-ai/fake-video/v2/text-to-video"
    assert fake.requests[0].headers["authorization"] == f"Key {KEY}"
    # status and result URLs are the ones fal returned (owner/app root, no subpath)
    assert fake.requests[1].path == f"/fal-ai/fake-video/requests/{submission.job_id}/status"
    assert fake.requests[-1].path == f"/fal-ai/fake-video/requests/{submission.job_id}"
    assert [r.status for r in results] == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert results[0].state == {"queue_position": 2}


async def test_fal_failure_reported_in_status(keys):
    with FakeFal(api_key=KEY, fail_job="CUDA out of memory", fail_via="status") as fake:
        provider = FalProvider("cand", FalParams(base_url=fake.base_url, model="fal-ai/v", timeout=TIMEOUT))
        try:
            results = await poll_all(provider, await provider.submit(REQUEST))
        finally:
            await provider.aclose()
    assert results[-1].status is JobStatus.FAILED
    assert "CUDA out of memory" in results[-1].error and "runner_server_error" in results[-1].error


async def test_fal_result_fetch_server_error_is_transient(keys):
    with FakeFal(api_key=KEY, polls_before_done=0, faults={"result": ["500"]}) as fake:
        provider = FalProvider("cand", FalParams(base_url=fake.base_url, model="fal-ai/v", timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            with pytest.raises(TransientError):
                await provider.poll(submission)
            assert (await provider.poll(submission)).status is JobStatus.SUCCEEDED
        finally:
            await provider.aclose()


def test_fal_model_must_be_an_endpoint_id():
    for bad in ("justname", "fal-ai/../admin", "fal-ai//x", "https://evil.example/x"):
        with pytest.raises(ValidationError):
            FalParams(model=bad)


# -- Replicate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path", "version"),
    [
        ("acme/video", "/v1/models/acme/video/predictions", None),
        ("acme/video:5c7d5dc6dd8b", "/v1/predictions", "5c7d5dc6dd8b"),
        ("a" * 64, "/v1/predictions", "a" * 64),
    ],
)
async def test_replicate_official_and_pinned_models(keys, model, path, version):
    with FakeReplicate(api_key=KEY, output_list=True) as fake:
        provider = ReplicateProvider("cand", ReplicateParams(base_url=fake.base_url, model=model, timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
        finally:
            await provider.aclose()
    assert fake.requests[0].path == path
    body = fake.bodies[0]
    assert body.get("version") == version
    assert body["input"] == {"prompt": "a lighthouse at dusk", "seed": 99, "negative_prompt": "text, watermark",
                             "aspect_ratio": "16:9", "duration": 5}
    assert [r.status for r in results] == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert results[1].progress == pytest.approx(0.4)
    assert results[-1].result_url.endswith(f"/files/{submission.job_id}.mp4")
    assert submission.state["get_url"].endswith(f"/v1/predictions/{submission.job_id}")


def test_replicate_model_forms():
    for bad in ("video", "acme/video/extra", "acme/video:", "acme/../x"):
        with pytest.raises(ValidationError):
            ReplicateParams(model=bad)


# -- Veo ---------------------------------------------------------------------------------------------


async def test_veo_request_and_key_only_to_api_origin(keys, tmp_path):
    with FakeVeo(api_key=KEY) as fake:
        provider = VeoProvider("cand", VeoParams(base_url=fake.base_url, model="veo-3.0-generate-001", timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
            await provider.download(submission, results[-1], tmp_path / "v.mp4")
        finally:
            await provider.aclose()
    check_decodes(tmp_path / "v.mp4")
    assert fake.requests[0].path == "/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    assert fake.bodies[0] == {
        "instances": [{"prompt": "a lighthouse at dusk"}],
        "parameters": {"aspectRatio": "16:9", "negativePrompt": "text, watermark", "durationSeconds": 5, "resolution": "720p"},
    }
    assert submission.job_id.startswith("models/veo-3.0-generate-001/operations/")
    assert [r.status for r in results] == [JobStatus.RUNNING, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert results[0].progress == pytest.approx(0.3)
    file_hop, cdn_hop = fake.requests[-2:]
    assert file_hop.path.endswith(":download") and file_hop.headers["x-goog-api-key"] == KEY
    assert cdn_hop.origin == "cdn" and KEY not in " ".join(cdn_hop.headers.values())


async def test_veo_safety_filter_is_a_failed_job(keys):
    with FakeVeo(api_key=KEY, filtered=True) as fake:
        provider = VeoProvider("cand", VeoParams(base_url=fake.base_url, timeout=TIMEOUT))
        try:
            results = await poll_all(provider, await provider.submit(REQUEST))
        finally:
            await provider.aclose()
    assert results[-1].status is JobStatus.FAILED
    assert "safety filter" in results[-1].error


async def test_veo_file_endpoint_refusal_is_permanent(keys, tmp_path):
    with FakeVeo(api_key=KEY, faults={"file": ["unauthorized"]}) as fake:
        provider = VeoProvider("cand", VeoParams(base_url=fake.base_url, timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
            with pytest.raises(PermanentError, match="401"):
                await provider.download(submission, results[-1], tmp_path / "v.mp4")
        finally:
            await provider.aclose()
    assert not (tmp_path / "v.mp4").exists()


# -- Runway --------------------------------------------------------------------------------------------


async def test_runway_statuses_headers_and_body(keys):
    with FakeRunway(api_key=KEY, polls_before_done=3) as fake:
        provider = RunwayProvider("cand", RunwayParams(base_url=fake.base_url, model="gen4_turbo", timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
        finally:
            await provider.aclose()
    assert [r.status for r in results] == [JobStatus.QUEUED, JobStatus.THROTTLED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert results[2].progress == 0.5
    assert fake.requests[0].path == "/v1/text_to_video"
    assert all(r.headers["x-runway-version"] == "2024-11-06" for r in fake.requests if r.origin == "api")
    assert fake.bodies[0] == {"model": "gen4_turbo", "promptText": "a lighthouse at dusk", "ratio": "1280:720",
                              "duration": 5, "seed": 99}


async def test_runway_failure_code_and_ratio_from_aspect(keys):
    request = GenerationRequest(model_id="cand", prompt_id="p", prompt="tall", seed=1, aspect_ratio="9:16")
    with FakeRunway(api_key=KEY, fail_job="Prompt did not pass moderation") as fake:
        provider = RunwayProvider("cand", RunwayParams(base_url=fake.base_url, timeout=TIMEOUT))
        try:
            results = await poll_all(provider, await provider.submit(request))
        finally:
            await provider.aclose()
    assert fake.bodies[0]["ratio"] == "720:1280"
    assert "duration" not in fake.bodies[0]
    assert results[-1].status is JobStatus.FAILED
    assert "Prompt did not pass moderation" in results[-1].error and "SAFETY.INPUT.TEXT" in results[-1].error


async def test_runway_wrong_api_version_is_permanent(keys):
    with FakeRunway(api_key=KEY) as fake:
        provider = RunwayProvider("cand", RunwayParams(base_url=fake.base_url, runway_version="1999-01-01", timeout=TIMEOUT))
        try:
            with pytest.raises(PermanentError, match="HTTP 400.*X-Runway-Version"):
                await provider.submit(REQUEST)
        finally:
            await provider.aclose()


# -- Luma ------------------------------------------------------------------------------------------------


async def test_luma_body_and_states(keys):
    with FakeLuma(api_key=KEY) as fake:
        provider = LumaProvider("cand", LumaParams(base_url=fake.base_url, inputs={"loop": True}, timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
        finally:
            await provider.aclose()
    assert fake.bodies[0] == {"prompt": "a lighthouse at dusk", "model": "ray-2", "aspect_ratio": "16:9",
                              "resolution": "720p", "duration": "5s", "negative_prompt": "text, watermark", "loop": True}
    assert [r.status for r in results] == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert submission.state["generation_url"] == f"{fake.base_url}/generations/{submission.job_id}"


# -- generic http ------------------------------------------------------------------------------------------


def generic_params(fake, **changes):
    values = {**ACME_PROTOCOL, "api_key_env": "ACME_TEST_KEY", "submit_url": f"{fake.base_url}/jobs",
              "poll_url": f"{fake.base_url}/jobs/{{job_id}}", "timeout": TIMEOUT}
    values.update(changes)
    return GenericHttpParams(**{k: v for k, v in values.items() if v is not None})


async def test_generic_body_template_and_progress(keys):
    with FakeGeneric(api_key=KEY) as fake:
        provider = GenericHttpProvider("cand", generic_params(fake, inputs={"quality": "high"}))
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
        finally:
            await provider.aclose()
    assert fake.bodies[0] == {"text": "a lighthouse at dusk", "seed": 99, "length": "5s",
                              "options": {"ratio": "16:9"}, "quality": "high"}
    assert isinstance(fake.bodies[0]["seed"], int)
    assert fake.requests[0].headers["x-api-key"] == KEY
    assert [r.status for r in results] == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert results[1].progress == 0.5
    assert submission.state == {"poll_url": f"{fake.base_url}/jobs/{submission.job_id}"}


async def test_generic_poll_url_from_answer_and_relative_urls(keys):
    with FakeGeneric(api_key=KEY) as fake:
        params = generic_params(fake, base_url=fake.base_url, submit_url="jobs", poll_url=None,
                                poll_url_path="data.links.status")
        provider = GenericHttpProvider("cand", params)
        try:
            submission = await provider.submit(REQUEST)
            results = await poll_all(provider, submission)
        finally:
            await provider.aclose()
    assert fake.requests[0].path == "/api/jobs"
    assert results[-1].status is JobStatus.SUCCEEDED


@pytest.mark.parametrize(("mode", "expected"), [("running", JobStatus.RUNNING), ("failed", JobStatus.FAILED), ("error", None)])
async def test_generic_unknown_status(keys, mode, expected):
    with FakeGeneric(api_key=KEY, final_state="FINISHED", polls_before_done=0) as fake:
        provider = GenericHttpProvider("cand", generic_params(fake, unknown_status=mode))
        try:
            submission = await provider.submit(REQUEST)
            if expected is None:
                with pytest.raises(PermanentError, match="FINISHED"):
                    await provider.poll(submission)
                return
            result = await provider.poll(submission)
        finally:
            await provider.aclose()
    assert result.status is expected
    if expected is JobStatus.RUNNING:
        assert "FINISHED" in result.state["note"] and result.error is None
    else:
        assert "FINISHED" in result.error


async def test_generic_without_a_key(monkeypatch):
    monkeypatch.delenv("ACME_TEST_KEY", raising=False)
    with FakeGeneric(api_key="") as fake:
        provider = GenericHttpProvider("cand", generic_params(fake, headers={}, api_key_env=None))
        try:
            results = await poll_all(provider, await provider.submit(REQUEST))
        finally:
            await provider.aclose()
    assert provider.secrets() == []
    assert results[-1].status is JobStatus.SUCCEEDED


async def test_generic_download_auth_only_on_submit_origin(keys):
    with FakeGeneric(api_key=KEY) as fake:
        provider = GenericHttpProvider("cand", generic_params(fake, download_auth=True))
        assert provider.download_headers(f"{fake.origin}/files/x.mp4") == {"X-Api-Key": KEY}
        assert provider.download_headers(f"{fake.cdn_origin}/files/x.mp4") == {}
        plain = GenericHttpProvider("cand", generic_params(fake))
        assert plain.download_headers(f"{fake.origin}/files/x.mp4") == {}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"poll_url_path": "data.links.status"}, "exactly one of poll_url"),
        ({"poll_url": None}, "exactly one of poll_url"),
        ({"poll_url": "https://x.example/jobs"}, "no {job_id}"),
        ({"body": {"auth": "{api_key}"}}, "unknown placeholder"),
        ({"body": {"t": "{promt}"}}, "promt"),
        ({"submit_url": "https://x.example/?key={api_key}"}, "unknown placeholder"),
        ({"api_key_env": None}, "api_key_env"),
        ({"submit_url": "/jobs"}, "relative"),
        ({"submit_url": "ftp://x.example/jobs"}, "ftp"),
        ({"status_map": {"DONE": "finished"}}, "status_map"),
        ({"status_map": {"PENDING": "queued"}}, "succeeded"),
        ({"job_id_path": "data..id"}, "empty segment"),
        ({"method": "DELETE"}, "method"),
    ],
)
def test_generic_configuration_errors_are_explained(changes, message):
    class Fake:
        base_url = "https://acme.example/api"

    with pytest.raises(ValidationError, match=message):
        generic_params(Fake(), **changes)


# -- the fakes themselves -------------------------------------------------------------------------------


async def test_fakes_work_as_async_context_managers_with_repeating_faults(keys):
    async with FakeLuma(api_key=KEY, faults={"poll": [Fault("503", times=None)]}) as fake:
        provider = LumaProvider("cand", LumaParams(base_url=fake.base_url, timeout=TIMEOUT))
        try:
            submission = await provider.submit(REQUEST)
            for _ in range(3):
                with pytest.raises(TransientError, match="HTTP 503"):
                    await provider.poll(submission)
        finally:
            await provider.aclose()
        assert fake.submits == 1 and fake.submit_attempts == 1
    assert fake.port and fake._thread is None  # stopped on exit


def test_unknown_fault_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown fault"):
        Fault("explode")
