"""Planning a run: jobs, cache keys, cost estimates, model selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_support.bench_folder import load, write_bench
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from workbench.engine import plan_run, run_benchmark
from workbench.engine.jobs import cache_key
from workbench.errors import InvalidInput, NotFound, WorkbenchError

PROMPTS = [
    {"id": "a", "text": "a red ball bounces", "duration": 4},
    {"id": "b", "text": "smoke rises"},
    {"id": "c", "text": "text reads OPEN", "seed": 7, "fps": 12},
]


def keys(root: Path) -> dict[tuple[str, str, int], str]:
    return {job.id: job.key for job in plan_run(load(root)).jobs}


def test_cache_key_is_canonical_and_sensitive_to_what_shapes_the_clip():
    base = cache_key("synthetic", {"blur": 1.0, "noise": 2}, "a cat", {"fps": 12}, 5)
    assert base == cache_key("synthetic", {"noise": 2, "blur": 1.0}, "a cat", {"fps": 12}, 5)
    assert len(base) == 64
    variants = [
        cache_key("command", {"blur": 1.0, "noise": 2}, "a cat", {"fps": 12}, 5),
        cache_key("synthetic", {"blur": 1.5, "noise": 2}, "a cat", {"fps": 12}, 5),
        cache_key("synthetic", {"blur": 1.0, "noise": 2}, "a dog", {"fps": 12}, 5),
        cache_key("synthetic", {"blur": 1.0, "noise": 2}, "a cat", {"fps": 24}, 5),
        cache_key("synthetic", {"blur": 1.0, "noise": 2}, "a cat", {"fps": 12}, 6),
    ]
    assert len({base, *variants}) == 6


def test_transport_and_price_keys_do_not_change_cache_keys(tmp_path):
    models = {"m": {"provider": "fake-remote", "base_url": "http://127.0.0.1:1", "style": "x"}}
    root = write_bench(tmp_path / "b", models, PROMPTS)
    before = keys(root)
    models["m"].update(base_url="http://127.0.0.1:2", api_key_env="OTHER_KEY", timeout=99.0,
                       poll_interval=1.0, timeout_total=5.0, price_per_clip=3.0, price_per_second=1.0,
                       max_concurrency=2, requests_per_minute=30.0, description="changed")
    write_bench(root, models, PROMPTS)
    assert keys(root) == before
    models["m"]["style"] = "y"
    write_bench(root, models, PROMPTS)
    assert set(keys(root).values()).isdisjoint(before.values())


def test_editing_one_prompt_changes_only_its_keys(tmp_path):
    models = {"m": {"provider": "fake-local"}, "n": {"provider": "fake-local", "style": "other"}}
    root = write_bench(tmp_path / "b", models, PROMPTS)
    before = keys(root)
    edited = [dict(p) for p in PROMPTS]
    edited[1]["text"] = "smoke rises slowly"
    write_bench(root, models, edited)
    after = keys(root)
    changed = {ident for ident in before if before[ident] != after[ident]}
    assert changed == {("m", "b", 0), ("n", "b", 0)}


def test_plan_interleaves_models_and_orders_by_repeat(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local"}, "n": {"provider": "fake-local"}},
                       PROMPTS[:2])
    plan = plan_run(load(root), repeats=2)
    assert [j.id for j in plan.jobs] == [
        ("m", "a", 0), ("n", "a", 0), ("m", "b", 0), ("n", "b", 0),
        ("m", "a", 1), ("n", "a", 1), ("m", "b", 1), ("n", "b", 1),
    ]
    seeds = {j.id: j.seed for j in plan.jobs}
    assert seeds[("m", "a", 1)] == seeds[("m", "a", 0)] + 1
    assert plan.jobs[0].video_name == "videos/m/a--r0.mp4"


def test_cost_uses_prompt_duration_else_model_default(tmp_path):
    models = {"paid": {"provider": "fake-local", "price_per_clip": 0.5, "price_per_second": 0.1},
              "free": {"provider": "fake-local"}}
    root = write_bench(tmp_path / "b", models, PROMPTS)
    plan = plan_run(load(root))
    by_model = {m.model: m for m in plan.per_model}
    # a: 4 s; b and c: no duration -> 5 s fallback (fake-local declares no default)
    assert by_model["paid"].estimated_cost == pytest.approx(3 * 0.5 + 0.1 * (4 + 5 + 5))
    assert by_model["paid"].priced and not by_model["free"].priced
    assert by_model["free"].estimated_cost == 0
    assert plan.estimated_cost == pytest.approx(by_model["paid"].estimated_cost)


async def test_cached_jobs_cost_nothing_in_the_next_plan(tmp_path):
    models = {"paid": {"provider": "fake-local", "price_per_clip": 1.0}}
    root = write_bench(tmp_path / "b", models, PROMPTS)
    assert plan_run(load(root)).estimated_cost == 3.0
    await run_benchmark(load(root))
    plan = plan_run(load(root))
    assert plan.estimated_cost == 0 and plan.cached == 3 and plan.to_generate == 0


def test_identical_clips_in_one_run_are_costed_once(tmp_path):
    models = {"a": {"provider": "fake-local", "price_per_clip": 1.0},
              "b": {"provider": "fake-local", "price_per_clip": 1.0}}
    root = write_bench(tmp_path / "b", models, PROMPTS)
    plan = plan_run(load(root))
    assert {j.key for j in plan.jobs if j.model == "a"} == {j.key for j in plan.jobs if j.model == "b"}
    assert plan.estimated_cost == 3.0


def test_unknown_model_and_bad_values_are_clear_errors(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local"}}, PROMPTS)
    with pytest.raises(NotFound, match="no model 'zz' .*defined: m"):
        plan_run(load(root), models=["zz"])
    with pytest.raises(WorkbenchError, match="repeats"):
        plan_run(load(root), repeats=0)
    write_bench(root, {"m": {"provider": "fake-local", "latency": "slow"}}, PROMPTS)
    with pytest.raises(InvalidInput) as info:
        plan_run(load(root).__class__.load(root, check_references=False))
    assert "models.m.latency" in str(info.value)


def test_model_selection_keeps_order_and_drops_duplicates(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local"}, "n": {"provider": "fake-local"}},
                       PROMPTS)
    plan = plan_run(load(root), models=["n", "m", "n"])
    assert plan.models == ("n", "m")
    assert plan.total_jobs == 6
