"""A missing API key is one clear error before a run starts, not a failed job per prompt."""

from __future__ import annotations

import pytest

from workbench.benchmark.folder import Benchmark
from workbench.cli.main import main
from workbench.engine.backoff import RetryPolicy
from workbench.engine.runner import run_benchmark_sync
from workbench.errors import WorkbenchError

HOSTED = '''
[models.veo3]
provider = "veo"
api_key_env = "WORKBENCH_TEST_MISSING_KEY"
base_url = "http://127.0.0.1:9"
'''


def test_missing_key_stops_the_run_before_it_starts(tiny_bench, monkeypatch, capsys):
    monkeypatch.delenv("WORKBENCH_TEST_MISSING_KEY", raising=False)
    toml = tiny_bench / "benchmark.toml"
    toml.write_text(toml.read_text() + HOSTED)
    with pytest.raises(WorkbenchError, match=r"WORKBENCH_TEST_MISSING_KEY \(models.veo3, provider veo\)"):
        run_benchmark_sync(Benchmark.load(tiny_bench))
    assert not (tiny_bench / "runs").exists()

    assert main(["run", str(tiny_bench), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "environment variable not set: WORKBENCH_TEST_MISSING_KEY" in err
    assert "Traceback" not in err

    # the other models still run when the hosted one is left out
    summary = run_benchmark_sync(Benchmark.load(tiny_bench), models=["old"])
    assert summary.succeeded == 3


def test_a_set_key_passes_the_check(tiny_bench, monkeypatch):
    monkeypatch.setenv("WORKBENCH_TEST_MISSING_KEY", "sk-local-test")
    toml = tiny_bench / "benchmark.toml"
    toml.write_text(toml.read_text() + HOSTED)
    # nothing listens on port 9: the jobs fail at the connection, not at the key check
    summary = run_benchmark_sync(Benchmark.load(tiny_bench), models=["veo3"],
                                 retry=RetryPolicy(max_attempts=2, base=0.01, cap=0.02))
    assert summary.failed == 3 and summary.run_id is not None
