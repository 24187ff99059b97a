"""The contract every hosted provider keeps, checked against each fake server.

Happy path (submit -> polls -> download -> decodable mp4) and every injected
fault: the right exception type, Retry-After honoured, failed jobs reported as
FAILED with the provider's message, partial files removed, and the API key
nowhere in exceptions, Submission.state or PollResult.
"""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from tests.fake_providers import Fault
from tests.fake_providers.cases import CASES, ProviderCase
from workbench.errors import WorkbenchError
from workbench.providers.base import (
    GenerationRequest,
    JobStatus,
    PermanentError,
    PollResult,
    RemoteProvider,
    Submission,
    TransientError,
)
from workbench.providers.hosted.download import check_decodes

KEY = "sk-DISTINCTIVE-7f3a9c1e-KEY"
#: Generous for calls expected to succeed (a loaded CI machine must not fail them);
#: the timeout tests use SHORT_TIMEOUT against answers delayed by SLOW.
TIMEOUT = 2.0
SHORT_TIMEOUT = 0.2
SLOW = 1.0
REQUEST = GenerationRequest(
    model_id="cand",
    prompt_id="p-001",
    prompt="a red kite over a windy beach",
    seed=1234,
    duration=5.0,
    resolution="1280x720",
    aspect_ratio="16:9",
    negative_prompt="blurry",
)


def assert_no_key(*things: object) -> None:
    for thing in things:
        if isinstance(thing, BaseException):
            texts = [str(thing), repr(thing), *map(str, thing.args)]
        elif isinstance(thing, Submission):
            texts = [repr(thing), json.dumps(thing.state)]
        elif isinstance(thing, PollResult):
            texts = [repr(thing), json.dumps(thing.state)]
        else:
            texts = [repr(thing)]
        for text in texts:
            assert KEY not in text, f"API key leaked into {type(thing).__name__}: {text[:200]}"


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request) -> ProviderCase:
    return request.param


@pytest.fixture
async def harness(case, monkeypatch):
    """``harness(**fake_options)`` -> (fake, provider); everything closed afterwards."""
    monkeypatch.setenv(case.env, KEY)
    fakes, providers = [], []

    def make(provider_overrides: dict | None = None, **fake_options):
        fake = case.fake(api_key=KEY, **fake_options).start()
        fakes.append(fake)
        provider = case.provider(fake, **{"timeout": TIMEOUT, **(provider_overrides or {})})
        providers.append(provider)
        return fake, provider

    yield make
    for provider in providers:
        await provider.aclose()
    for fake in fakes:
        assert not fake.errors, fake.errors
        fake.stop()


async def finish(provider: RemoteProvider, submission: Submission, limit: int = 10) -> list[PollResult]:
    results = []
    for _ in range(limit):
        result = await provider.poll(submission)
        assert_no_key(result)
        results.append(result)
        if result.status.finished:
            return results
    raise AssertionError(f"job not finished after {limit} polls: {results}")


# -- happy path ---------------------------------------------------------------------


async def test_happy_path_gives_a_decodable_video(harness, case, tmp_path):
    fake, provider = harness(polls_before_done=2)
    submission = await provider.submit(REQUEST)
    assert submission.job_id
    assert_no_key(submission)
    results = await finish(provider, submission)
    statuses = [r.status for r in results]
    assert statuses[-1] is JobStatus.SUCCEEDED
    assert len(results) == 3, statuses  # two polls in progress, then done
    assert statuses[0] in (JobStatus.QUEUED, JobStatus.RUNNING)
    assert results[-1].result_url and results[-1].result_url.startswith("http://127.0.0.1:")
    output = tmp_path / "clip.mp4.part"
    await provider.download(submission, results[-1], output)
    assert output.read_bytes() == fake.video
    check_decodes(output)
    assert fake.submits == 1
    assert provider.secrets() == [KEY]
    # The key went to the API on every call and never to the CDN.
    for request in fake.requests:
        sent = " ".join(request.headers.values())
        if request.origin == "cdn":
            assert KEY not in sent
        else:
            assert KEY in sent


async def test_poll_interval_and_secrets_come_from_params(harness):
    _fake, provider = harness(provider_overrides={"poll_interval": 0.5})
    assert provider.poll_interval == 0.5
    assert provider.remote is True


# -- transient faults -------------------------------------------------------------------


async def test_rate_limit_on_submit_gives_retry_after_seconds(harness):
    fake, provider = harness(faults={"submit": [Fault("429", retry_after="7")]})
    with pytest.raises(TransientError) as info:
        await provider.submit(REQUEST)
    assert info.value.retry_after == 7
    assert "429" in str(info.value)
    assert_no_key(info.value)
    assert fake.submits == 0 and fake.submit_attempts == 1
    # The next call goes through: the provider itself did not retry.
    await provider.submit(REQUEST)
    assert fake.submits == 1 and fake.submit_attempts == 2


async def test_rate_limit_with_http_date(harness):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    fake, provider = harness(faults={"poll": [Fault("429", retry_after=when)]})
    submission = await provider.submit(REQUEST)
    with pytest.raises(TransientError) as info:
        await provider.poll(submission)
    assert 20 <= info.value.retry_after <= 31
    assert_no_key(info.value)


@pytest.mark.parametrize("stage", ["submit", "poll"])
@pytest.mark.parametrize("kind", ["500", "503", "drop"])
async def test_server_errors_and_dropped_connections_are_transient(harness, stage, kind):
    fake, provider = harness(faults={stage: [kind]})
    with pytest.raises(TransientError) as info:
        submission = await provider.submit(REQUEST)
        await provider.poll(submission)
    assert_no_key(info.value)
    assert fake.submits == (0 if stage == "submit" else 1)


@pytest.mark.parametrize("stage", ["submit", "poll"])
async def test_answer_slower_than_timeout_is_transient(harness, stage):
    fake, provider = harness(provider_overrides={"timeout": SHORT_TIMEOUT}, faults={stage: [Fault("slow", delay=SLOW)]})
    started = time.monotonic()
    with pytest.raises(TransientError) as info:
        submission = await provider.submit(REQUEST)
        await provider.poll(submission)
    assert time.monotonic() - started < SLOW
    assert "no answer within" in str(info.value)
    assert_no_key(info.value)


# -- permanent faults -------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["submit", "poll"])
async def test_malformed_json_is_permanent(harness, stage):
    _fake, provider = harness(faults={stage: ["malformed"]})
    with pytest.raises(PermanentError) as info:
        submission = await provider.submit(REQUEST)
        await provider.poll(submission)
    assert "JSON" in str(info.value)
    assert_no_key(info.value)


async def test_wrong_key_is_permanent_401(harness, case, monkeypatch):
    fake, provider = harness()
    monkeypatch.setenv(case.env, "wrong-key-but-also-secret-55")
    with pytest.raises(PermanentError) as info:
        await provider.submit(REQUEST)
    message = str(info.value)
    assert "401" in message
    assert "wrong-key-but-also-secret-55" not in message
    assert fake.submits == 0


async def test_missing_key_names_the_variable(harness, case, monkeypatch):
    fake, provider = harness()
    monkeypatch.delenv(case.env)
    with pytest.raises(PermanentError) as info:
        await provider.submit(REQUEST)
    assert case.env in str(info.value)
    assert isinstance(info.value, WorkbenchError)
    assert fake.submit_attempts == 0
    assert provider.secrets() == []


@pytest.mark.parametrize("stage", ["submit", "poll"])
async def test_key_echoed_by_server_is_redacted(harness, stage):
    fake, provider = harness(faults={stage: ["echo_key"]})
    with pytest.raises(PermanentError) as info:
        submission = await provider.submit(REQUEST)
        await provider.poll(submission)
    assert "400" in str(info.value)
    assert "[redacted]" in str(info.value)  # the echo was there, and was scrubbed
    assert_no_key(info.value)


async def test_failed_job_is_a_status_not_an_exception(harness):
    fake, provider = harness(fail_job="prompt flagged by the content filter")
    submission = await provider.submit(REQUEST)
    results = await finish(provider, submission)
    last = results[-1]
    assert last.status is JobStatus.FAILED
    assert "prompt flagged by the content filter" in last.error
    assert last.result_url is None


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/clip.mp4", "data:video/mp4;base64,AAAA", "javascript:alert(1)"]
)
async def test_result_url_with_other_scheme_is_refused(harness, url, tmp_path):
    _fake, provider = harness(result_url=url)
    submission = await provider.submit(REQUEST)
    scheme = url.split(":", 1)[0]
    with pytest.raises(PermanentError) as info:
        await finish(provider, submission)
    assert f"'{scheme}:'" in str(info.value)
    # Even handed straight to download, such a URL is never fetched.
    with pytest.raises(PermanentError):
        await provider.download(submission, PollResult(JobStatus.SUCCEEDED, result_url=url), tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


# -- download faults --------------------------------------------------------------------


async def _finished(provider: RemoteProvider) -> tuple[Submission, PollResult]:
    submission = await provider.submit(REQUEST)
    results = await finish(provider, submission)
    assert results[-1].status is JobStatus.SUCCEEDED
    return submission, results[-1]


@pytest.mark.parametrize("kind", ["truncate", "drop", "500", "empty"])
async def test_broken_download_is_transient_and_leaves_no_file(harness, kind, tmp_path):
    _fake, provider = harness(faults={"download": [kind]})
    submission, result = await _finished(provider)
    output = tmp_path / "clip.mp4.part"
    with pytest.raises(TransientError) as info:
        await provider.download(submission, result, output)
    assert not output.exists()
    assert_no_key(info.value)
    # The same download succeeds when tried again.
    await provider.download(submission, result, output)
    check_decodes(output)


async def test_slow_download_times_out(harness, case, tmp_path):
    fake, provider = harness(faults={"download": [Fault("slow", delay=SLOW)]})
    submission, result = await _finished(provider)
    impatient = case.provider(fake, timeout=SHORT_TIMEOUT)
    try:
        with pytest.raises(TransientError, match="no answer within"):
            await impatient.download(submission, result, tmp_path / "clip.mp4")
    finally:
        await impatient.aclose()
    assert not (tmp_path / "clip.mp4").exists()


@pytest.mark.parametrize("declared", [True, False])
async def test_download_over_the_size_cap_is_permanent(harness, declared, tmp_path):
    faults = {} if declared else {"download": ["no_length"]}
    fake, provider = harness(provider_overrides={"max_download_bytes": 1000}, faults=faults)
    assert len(fake.video) > 1000
    submission, result = await _finished(provider)
    output = tmp_path / "clip.mp4"
    with pytest.raises(PermanentError) as info:
        await provider.download(submission, result, output)
    assert "max_download_bytes" in str(info.value)
    assert not output.exists()
