"""Each hosted provider driven through the run engine against its fake API, faults and all.

One benchmark folder per provider; every prompt meets its own scripted faults
(see :mod:`tests.fake_providers.run_cases`):

* transient (429 with Retry-After, 5xx, dropped connections, an answer slower
  than the timeout, a truncated download): retried, and the job succeeds;
* permanent (malformed JSON, a job the provider fails, a ``file:`` result URL,
  an error body that echoes the API key): the job fails with a reason naming
  the problem, and the run goes on.

Then: no job was paid for twice, the key is in no file of the benchmark, and a
second run serves the finished clips from the cache without calling anyone.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import av
import pytest

from tests.engine_support.bench_folder import load, write_bench
from tests.fake_providers import Fault
from tests.fake_providers.cases import CASES, ProviderCase
from tests.fake_providers.run_cases import FAILURE_MESSAGE, PerPromptFaults, scripted
from workbench.engine import RetryPolicy, RunSummary, load_run, run_benchmark

#: One API request may take this long; generous so a loaded machine never trips it.
TIMEOUT = 1.5
#: How late the "slow" fault answers: past the timeout.
SLOW_DELAY = TIMEOUT + 0.5
RETRY = RetryPolicy(max_attempts=6, base=0.005, cap=0.02, max_retry_after=1.0)

#: marker -> (prompt id, prompt text)
PROMPTS = {
    "rate": ("rate-limited", "a red ball bounces across a wooden floor"),
    "flaky": ("flaky-server", "smoke curls up from a chimney at dusk"),
    "slow": ("slow-answers", "a hand turns the pages of an old book"),
    "garbled": ("garbled-json", "rain runs down a window pane"),
    "echo": ("echoed-key", "a neon sign flickers OPEN above a door"),
    "refused": ("refused-job", "a crowd waves flags in a stadium"),
    "badurl": ("file-url", "a paper boat drifts along a gutter"),
}
SUCCEEDS = ("rate", "flaky", "slow")


def prompt_faults(provider: str) -> dict[str, dict[str, list[Any]]]:
    """Fresh fault queues (a Fault counts down as it is used)."""
    faults: dict[str, dict[str, list[Any]]] = {
        "rate": {
            "submit": [Fault("429", retry_after="0"), Fault("429", retry_after="0.05")],
            "poll": [Fault("429", retry_after="0.05")],
            "download": [Fault("429", retry_after="0")],
        },
        "flaky": {"submit": ["500"], "poll": ["503", "drop"], "download": ["drop"]},
        "slow": {"poll": [Fault("slow", delay=SLOW_DELAY)], "download": ["truncate"]},
        "garbled": {"poll": ["malformed"]},
        "echo": {"submit": ["echo_key"]},
    }
    if provider == "fal":  # the result fetch after COMPLETED is a stage of its own
        faults["flaky"]["result"] = ["500"]
    if provider == "veo":  # the file URI on the API host, before the redirect to storage
        faults["flaky"]["file"] = ["503"]
    return faults


def secret_for(case: ProviderCase) -> tuple[str, str]:
    return f"WB_E2E_{case.name.upper()}_KEY", f"sk-test-{case.name}-SECRET-1234"


def bench_for(root: Path, case: ProviderCase, fake: PerPromptFaults, env: str) -> Path:
    table = {
        "provider": case.name,
        **case.params(fake),
        "api_key_env": env,
        "timeout": TIMEOUT,
        "poll_interval": 0.01,
        "price_per_clip": 0.5,
    }
    prompts = [
        {"id": pid, "text": f"[{marker}] {text}", "seed": 11 + i, "duration": 4.0, "aspect_ratio": "16:9"}
        for i, (marker, (pid, text)) in enumerate(PROMPTS.items())
    ]
    return write_bench(root, {"cand": table}, prompts, run={"concurrency": 8})


def assert_secret_nowhere(root: Path, secret: str) -> None:
    forms = {secret.encode(), quote(secret, safe="").encode(), quote_plus(secret).encode()}
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) > 10, files  # the run really wrote its folder
    for path in files:
        data = path.read_bytes()
        for form in forms:
            assert form not in data, f"API key ({form!r}) found in {path}"


def assert_decodes(video: Path) -> None:
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 0, video


def outcome_texts(summary: RunSummary, records: list[Any]) -> list[str]:
    return [f.error for f in summary.failures] + [r.error or "" for r in records]


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request) -> ProviderCase:
    return request.param


async def test_faulty_provider_run_ends_every_job_and_pays_once(case, tmp_path, monkeypatch):
    env, secret = secret_for(case)
    monkeypatch.setenv(env, secret)
    fake_cls = scripted(case.fake)
    async with fake_cls(api_key=secret, prompt_faults=prompt_faults(case.name),
                        failing="refused", bad_url="badurl") as fake:
        root = bench_for(tmp_path / "bench", case, fake, env)
        ids = {marker: pid for marker, (pid, _) in PROMPTS.items()}

        first = await run_benchmark(load(root), retry=RETRY)

        assert not fake.errors, fake.errors
        assert fake.unused_faults() == {}, "every scripted fault must have been met"
        assert first.status == "finished" and first.total == len(PROMPTS) and first.pending == 0
        record = load_run(root, first.run_id)
        jobs = {job.prompt_id: job for job in record.jobs}
        assert set(jobs) == set(ids.values())
        for job in jobs.values():
            assert job.status in ("succeeded", "failed"), job
            if job.status == "failed":
                assert job.error and job.error.strip(), job

        # Transient faults were retried and their jobs finished with a clip that decodes.
        for marker in SUCCEEDS:
            job = jobs[ids[marker]]
            assert job.status == "succeeded", (marker, job.error)
            assert job.video is not None and job.video.read_bytes() == fake.video
            assert_decodes(job.video)
        assert jobs[ids["rate"]].attempts == 3  # two 429s on submit, then accepted
        assert jobs[ids["flaky"]].attempts == 2  # one 500 on submit
        assert first.succeeded == len(SUCCEEDS) and first.failed == len(PROMPTS) - len(SUCCEEDS)

        # Permanent faults failed their job, saying why.
        garbled = jobs[ids["garbled"]].error
        assert "not valid JSON" in garbled and "next run polls it again" in garbled, garbled
        echo = jobs[ids["echo"]].error
        assert "HTTP 400" in echo and "not allowed" in echo and "[redacted]" in echo, echo
        refused = jobs[ids["refused"]].error
        assert FAILURE_MESSAGE in refused, refused
        badurl = jobs[ids["badurl"]].error
        assert "'file:'" in badurl and "only http and https" in badurl, badurl
        failed_ids = {f.prompt_id for f in first.failures}
        assert failed_ids == {ids[m] for m in ("garbled", "echo", "refused", "badurl")}

        # Nobody paid twice: one accepted submit per job that got past its submit.
        paid = Counter(fake.submitted_markers())
        assert paid == Counter({m: 1 for m in PROMPTS if m != "echo"}), paid
        assert fake.submit_attempts == len(PROMPTS) + 2 + 1  # + the retries after 429, 429 and 500

        # The key reached the API only, never the CDN, a file or a message.
        for request in fake.requests:
            if request.origin == "cdn":
                assert secret not in " ".join(request.headers.values()), request.path
        for text in outcome_texts(first, record.jobs):
            assert secret not in text and quote(secret, safe="") not in text, text
        assert secret not in json.dumps(record.manifest)
        assert record.manifest["model_configs"]["cand"]["api_key_env"] == env
        assert_secret_nowhere(root, secret)

        # A second run: finished clips come from the cache with no call at all; jobs still
        # open at the provider are polled again (not paid again); only jobs that never
        # got a job id or that the provider failed are submitted again.
        done_job_ids = {jobs[ids[m]].provider_job_id for m in SUCCEEDS}
        requests_before, bodies_before = len(fake.requests), len(fake.bodies)

        second = await run_benchmark(load(root), retry=RETRY)

        assert second.status == "finished" and second.run_id != first.run_id
        assert second.cached == len(SUCCEEDS)
        again = {job.prompt_id: job for job in load_run(root, second.run_id).jobs}
        for marker in SUCCEEDS:
            job = again[ids[marker]]
            assert job.status == "succeeded" and job.cached, job
            assert_decodes(job.video)
        later = fake.requests[requests_before:]
        assert not [r.path for r in later if any(j and j in r.path for j in done_job_ids)]
        resubmitted = Counter(fake.submitted_markers()[bodies_before:])
        assert resubmitted == Counter({"echo": 1, "refused": 1}), resubmitted
        assert again[ids["garbled"]].status == "succeeded"  # adopted: polled, not paid again
        assert again[ids["garbled"]].provider_job_id == jobs[ids["garbled"]].provider_job_id
        assert again[ids["echo"]].status == "succeeded"  # its submit never reached the provider
        assert again[ids["refused"]].status == "failed" and FAILURE_MESSAGE in again[ids["refused"]].error
        assert again[ids["badurl"]].status == "failed" and "'file:'" in again[ids["badurl"]].error
        assert again[ids["badurl"]].provider_job_id == jobs[ids["badurl"]].provider_job_id
        assert Counter(fake.submitted_markers()) == Counter(
            {**{m: 1 for m in PROMPTS if m != "refused"}, "refused": 2})
        for text in outcome_texts(second, list(again.values())):
            assert secret not in text, text
        assert_secret_nowhere(root, secret)
        assert not fake.errors, fake.errors


async def test_a_submit_answered_after_the_timeout_is_not_paid_twice(case, tmp_path, monkeypatch):
    env, secret = secret_for(case)
    monkeypatch.setenv(env, secret)
    short = 0.4  # only the delayed submit can trip it; a loaded machine at worst adds polls
    async with scripted(case.fake)(api_key=secret,
                                   prompt_faults={"slow": {"submit": [Fault("slow", delay=short + 0.5)]}}) as fake:
        root = write_bench(tmp_path / "bench", {"cand": {
            "provider": case.name, **case.params(fake), "api_key_env": env, "timeout": short,
            "poll_interval": 0.01}}, [{"id": "slow-submit", "text": "[slow] a kite over a beach"}])

        summary = await run_benchmark(load(root), retry=RETRY)

        [job] = load_run(root, summary.run_id).jobs
        assert job.status == "failed", job
        assert "may have accepted the job, so it was not submitted again" in job.error
        assert fake.unused_faults() == {}
        assert fake.submits == 1, f"the provider accepted {fake.submits} jobs for one prompt"
        assert secret not in job.error
