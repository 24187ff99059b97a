"""Run-engine speed: ``python tests/bench/bench_engine.py [--jobs N] [--concurrency C]``.

1. Engine overhead: N jobs against a zero-latency loopback hosted API (a
   separate process) at concurrency C, compared with making the very same
   submit + poll + download calls directly (the baseline, same run). Each job
   also journals three fsynced events, checks that its clip decodes, and
   stores it in the cache. Then the same against a zero-latency local fake.
2. A cached re-run of sample_benchmarks/hard-cases (every clip already made).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.engine_support.bench_folder import register_fakes, write_bench  # noqa: E402
from tests.engine_support.fake_remote import FakeRemoteParams, FakeRemoteProvider  # noqa: E402
from workbench.benchmark.folder import Benchmark  # noqa: E402
from workbench.engine import RetryPolicy, run_benchmark  # noqa: E402
from workbench.engine.jobs import make_request  # noqa: E402
from workbench.providers.base import JobStatus, Submission  # noqa: E402


def start_server() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "tests.engine_support.fake_remote_server"],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().split()
    if len(line) != 2 or line[0] != "LISTENING":
        process.kill()
        raise SystemExit("the fake API did not start")
    return process, f"http://127.0.0.1:{line[1]}"


async def direct_calls(base_url: str, jobs: int, concurrency: int, scratch: Path, transport: str) -> float:
    """The baseline: the same provider calls, no engine (no journal, cache or checks)."""
    bench = Benchmark.load(scratch)
    provider = FakeRemoteProvider("m", FakeRemoteParams(base_url=base_url, poll_interval=0,
                                                        transport=transport))
    slots = asyncio.Semaphore(concurrency)
    out = scratch / f"direct-{transport}"
    out.mkdir()

    async def one(index: int) -> None:
        async with slots:
            request = make_request("m", bench.prompts[index], 0)
            submission: Submission = await provider.submit(request)
            result = await provider.poll(submission)
            assert result.status == JobStatus.SUCCEEDED
            await provider.download(submission, result, out / f"{index}.mp4")

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(jobs)))
    elapsed = time.perf_counter() - began
    await provider.aclose()
    return elapsed


async def engine_run(root: Path, concurrency: int) -> tuple[float, int]:
    bench = Benchmark.load(root)
    began = time.perf_counter()
    summary = await run_benchmark(bench, concurrency=concurrency, retry=RetryPolicy(base=0.01, cap=0.1))
    elapsed = time.perf_counter() - began
    if not summary.ok:
        raise SystemExit(f"engine run failed: {summary.failures[:3]}")
    return elapsed, summary.provider_calls


def overhead(jobs: int, concurrency: int) -> None:
    register_fakes()
    server, base_url = start_server()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            for transport in ("lean", "httpx"):
                root = write_bench(tmp_path / transport, {"m": {
                    "provider": "fake-remote", "base_url": base_url, "poll_interval": 0,
                    "transport": transport}}, jobs)
                direct = asyncio.run(direct_calls(base_url, jobs, concurrency, root, transport))
                engine, calls = asyncio.run(engine_run(root, concurrency))
                rows.append((transport, direct, engine, calls))
            local = write_bench(tmp_path / "local", {"m": {"provider": "fake-local"}}, jobs)
            local_s, _ = asyncio.run(engine_run(local, concurrency))
    finally:
        server.terminate()
        server.wait(10)
    print(f"engine overhead: {jobs} jobs, concurrency {concurrency}, zero-latency fakes "
          "(hosted: submit + poll + download over loopback HTTP to a separate process)")
    for transport, direct, engine, calls in rows:
        label = {"lean": "bare asyncio HTTP client", "httpx": "httpx client"}[transport]
        print(f"  hosted fake, {label}:")
        print(f"    direct provider calls (baseline) {direct:7.2f} s  {jobs / direct:7.0f} jobs/s")
        print(f"    through the engine               {engine:7.2f} s  {jobs / engine:7.0f} jobs/s  "
              f"({calls} calls; {engine / direct:.2f}x the baseline; "
              f"+{(engine - direct) / jobs * 1000:.2f} ms per job)")
    print(f"  local fake through the engine      {local_s:7.2f} s  {jobs / local_s:7.0f} jobs/s")
    lean = next(r for r in rows if r[0] == "lean")
    verdict = "meets" if jobs / lean[2] >= 300 else "MISSES"
    print(f"  target >= 300 jobs/s (hosted fake, bare client): {verdict}")


def cached_rerun() -> None:
    sample = REPO / "sample_benchmarks" / "hard-cases"
    if not (sample / "benchmark.toml").is_file():
        print("cached re-run: skipped (sample_benchmarks/hard-cases is missing)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "hard-cases"
        shutil.copytree(sample, root, ignore=shutil.ignore_patterns("runs", ".workbench-cache", "decisions",
                                                                   "ratings.jsonl"))
        began = time.perf_counter()
        first = asyncio.run(run_benchmark(Benchmark.load(root)))
        cold = time.perf_counter() - began
        began = time.perf_counter()
        bench = Benchmark.load(root)
        second = asyncio.run(run_benchmark(bench))
        warm = time.perf_counter() - began
    print(f"sample benchmark hard-cases: {first.total} jobs")
    print(f"  first run (synthetic renders)   {cold:7.2f} s  ({first.provider_calls} provider calls)")
    print(f"  cached re-run (load + run)       {warm:7.3f} s  ({second.provider_calls} provider calls, "
          f"{second.cached} from the cache; {cold / warm:.0f}x faster)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--skip-sample", action="store_true")
    args = parser.parse_args()
    overhead(args.jobs, args.concurrency)
    if not args.skip_sample:
        cached_rerun()


if __name__ == "__main__":
    main()
