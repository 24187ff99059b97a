"""What a run will do before it does it: jobs, cache hits, resumable work, cost.

:func:`plan_run` is what the CLI shows (and asks to confirm) before spending
anything, and what :func:`~workbench.engine.runner.run_benchmark` executes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from workbench.benchmark.config import ModelConfig
from workbench.benchmark.folder import Benchmark, toml_problems
from workbench.engine.cost import default_duration
from workbench.engine.jobs import JobId, PlannedJob, plan_jobs
from workbench.engine.journal import JOURNAL_FILE, JobState, read_journal, replay
from workbench.engine.manifest import UNFINISHED
from workbench.engine.runs import run_folders
from workbench.engine.video_cache import VideoCache
from workbench.errors import InvalidInput, NotFound, Problem, WorkbenchError
from workbench.providers.base import Provider
from workbench.providers.registry import provider_class

#: What the engine will do with a job.
DONE = "done"  # succeeded earlier in the run being resumed
FAILED_BEFORE = "failed"  # failed earlier in the run being resumed (a new run retries it)
CACHED = "cached"  # the clip is in the video cache: no provider call
ADOPT = "adopt"  # submitted earlier and maybe still alive: poll it, never submit again
UNCERTAIN = "uncertain"  # a submit of this clip may have reached the provider (any run, no job id)
GENERATE = "generate"  # a new provider job


@dataclass(frozen=True)
class OpenSubmission:
    """A hosted job submitted by some run and not known to be finished."""

    run_id: str
    job: JobId
    key: str
    job_id: str
    state: dict[str, Any]
    permanent_failures: int = 0


@dataclass(frozen=True)
class ModelPlan:
    model: str
    provider: str
    jobs: int
    done: int  # already succeeded in the resumed run
    cached: int
    in_flight: int  # submitted earlier; polled, not paid again
    failed_before: int
    uncertain: int  # a submit may have reached the provider (any run); recorded failed, not resubmitted
    to_generate: int
    estimated_cost: float
    priced: bool  # the model has a price set (otherwise its cost shows as 0)
    retrying_uncertain: int = 0  # uncertain jobs submitted again because retry_uncertain was asked


@dataclass(frozen=True)
class RunPlan:
    bench_root: Path
    models: tuple[str, ...]
    repeats: int
    jobs: tuple[PlannedJob, ...]
    actions: dict[JobId, str]
    per_model: tuple[ModelPlan, ...]
    estimated_cost: float
    resume_run_id: str | None = None
    previous: dict[JobId, JobState] = field(default_factory=dict)  # the resumed run's job states
    open_submissions: dict[JobId, OpenSubmission] = field(default_factory=dict)  # per job to adopt
    uncertain_from: dict[JobId, str] = field(default_factory=dict)  # UNCERTAIN job -> run it was sent in
    retry_uncertain: bool = False

    @property
    def total_jobs(self) -> int:
        return len(self.jobs)

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions.values() if a == action)

    @property
    def cached(self) -> int:
        return self.count(CACHED)

    @property
    def to_generate(self) -> int:
        return self.count(GENERATE)


@dataclass(frozen=True)
class ModelSetup:
    """A model's config, provider class and validated provider parameters."""

    model_id: str
    config: ModelConfig
    provider_cls: type[Provider]
    params: Any


def select_models(bench: Benchmark, models: Iterable[str] | None) -> list[str]:
    defined = list(bench.config.models)
    if not defined:
        raise WorkbenchError(f"{bench.config_path}: no models defined; add a [models.<id>] table")
    if models is None:
        return defined
    chosen: list[str] = []
    for model_id in models:
        if model_id not in bench.config.models:
            raise NotFound(f"{bench.config_path}: no model {model_id!r} "
                           f"(defined: {', '.join(defined)})")
        if model_id not in chosen:
            chosen.append(model_id)
    if not chosen:
        raise WorkbenchError("no models selected")
    return chosen


def model_setups(bench: Benchmark, model_ids: list[str]) -> dict[str, ModelSetup]:
    """Provider class and validated parameters of each model; every problem reported at once."""
    setups: dict[str, ModelSetup] = {}
    problems: list[Problem] = []
    file = str(bench.config_path)
    text = bench._config_bytes.decode("utf-8", errors="replace")
    for model_id in model_ids:
        config = bench.config.models[model_id]
        try:
            cls = provider_class(config.provider)
        except KeyError as exc:
            problems.append(Problem(file, str(exc.args[0]), field=f"models.{model_id}.provider"))
            continue
        except ImportError as exc:
            problems.append(Problem(file, f"provider {config.provider!r} is not available ({exc})",
                                    field=f"models.{model_id}.provider"))
            continue
        try:
            params = cls.Params.model_validate(config.params)
        except ValidationError as exc:
            problems.extend(toml_problems(exc, file, text, prefix=("models", model_id)))
            continue
        setups[model_id] = ModelSetup(model_id, config, cls, params)
    if problems:
        raise InvalidInput(problems)
    return setups


def _plan_matches(manifest: dict[str, Any], bench: Benchmark, models: list[str], repeats: int) -> bool:
    return (
        sorted(manifest.get("models") or []) == sorted(models)
        and manifest.get("prompts_sha256") == bench.prompts_hash()
        and manifest.get("repeats") == repeats
    )


def _uncertain_verdicts(states: Iterable[JobState]) -> dict[str, bool]:
    """Per cache key, whether one run leaves a submit of that clip uncertain.

    Uncertain: some job was left at ``submitting`` (or failed as uncertain) and
    no job of the run got a job id or the clip for that key. Pending and
    skipped jobs say nothing about a key.
    """
    uncertain: set[str] = set()
    settled: set[str] = set()
    for state in states:
        if not state.key or state.status in ("pending", "skipped"):
            continue
        if state.uncertain:
            uncertain.add(state.key)
        elif state.status in ("submitted", "succeeded") or state.job_id:
            settled.add(state.key)
    keys = uncertain | settled
    return {key: key in uncertain and key not in settled for key in keys}


def plan_run(
    bench: Benchmark, models: Iterable[str] | None = None, repeats: int | None = None,
    *, retry_uncertain: bool = False,
) -> RunPlan:
    """The jobs of a run and what each will cost, without calling any provider.

    A clip whose submit may have reached its provider without a job id coming
    back (a run died, or the connection dropped, while it was being sent) is
    never submitted again by any later run, whatever its plan: it is recorded
    as failed (check the provider's dashboard). ``retry_uncertain`` submits
    such clips again anyway.
    """
    model_ids = select_models(bench, models)
    if repeats is None:
        repeats = bench.config.run.repeats
    if not isinstance(repeats, int) or isinstance(repeats, bool) or not 1 <= repeats <= 100:
        raise WorkbenchError(f"repeats must be a whole number from 1 to 100, not {repeats!r}")
    if not bench.prompts:
        raise WorkbenchError(f"{bench.prompts_path}: no prompts; add some with "
                             f"'workbench prompts {bench.root} add \"...\"'")
    setups = model_setups(bench, model_ids)
    jobs = plan_jobs(
        {m: (s.config, s.provider_cls, s.params) for m, s in setups.items()},
        bench.prompts, repeats,
        {m: default_duration(s.provider_cls, s.params) for m, s in setups.items()},
    )

    # Earlier runs: the newest unfinished run with the same plan is resumed, and
    # any hosted job still open in any run is polled instead of paid for again.
    resume_id: str | None = None
    previous: dict[JobId, JobState] = {}
    open_by_key: dict[str, OpenSubmission] = {}
    uncertain_by_key: dict[str, str] = {}  # cache key -> the run whose submit of it is in doubt
    for run_dir, manifest in run_folders(bench):  # oldest first: the newest verdict on a key wins
        states = replay(read_journal(run_dir / JOURNAL_FILE).events)
        if manifest.get("status") in UNFINISHED and _plan_matches(manifest, bench, model_ids, repeats):
            resume_id, previous = run_dir.name, states
        for key, in_doubt in _uncertain_verdicts(states.values()).items():
            if in_doubt:
                uncertain_by_key.setdefault(key, run_dir.name)
            else:
                uncertain_by_key.pop(key, None)
        for ident, state in states.items():
            if state.open_submission and state.key and state.job_id:
                open_by_key[state.key] = OpenSubmission(
                    run_dir.name, ident, state.key, state.job_id, dict(state.submission_state or {}),
                    state.permanent_failures)

    cache = VideoCache(bench.cache_dir)
    actions: dict[JobId, str] = {}
    adopt: dict[JobId, OpenSubmission] = {}
    uncertain_from: dict[JobId, str] = {}
    retrying: set[JobId] = set()
    costed_keys: set[str] = set()
    per_model_cost = {m: 0.0 for m in model_ids}
    for job in jobs:
        before = previous.get(job.id)
        same_clip = before is not None and before.key == job.key
        own_doubt = same_clip and before.uncertain  # this job's own submit in the resumed run
        if same_clip and before.status == "succeeded" and (
            cache.has(job.key) or (bench_video_exists(bench, resume_id, before))
        ):
            actions[job.id] = DONE
        elif same_clip and before.status == "failed" and not before.open_submission \
                and not (own_doubt and retry_uncertain):
            actions[job.id] = FAILED_BEFORE
        elif own_doubt and not retry_uncertain and not cache.has(job.key):
            actions[job.id] = UNCERTAIN
            uncertain_from[job.id] = resume_id or ""
        elif cache.has(job.key):
            actions[job.id] = CACHED
        elif job.key in open_by_key:
            actions[job.id] = ADOPT
            adopt[job.id] = open_by_key[job.key]
        elif job.key in uncertain_by_key and not retry_uncertain:
            actions[job.id] = UNCERTAIN
            uncertain_from[job.id] = uncertain_by_key[job.key]
        elif same_clip and before.status == "succeeded" and before.job_id \
                and before.submission_state is not None:
            # A hosted clip the journal calls done but whose file is gone (a crash lost the
            # rename, or someone cleared the cache): fetch it again rather than pay again.
            actions[job.id] = ADOPT
            adopt[job.id] = OpenSubmission(resume_id or "", job.id, job.key, before.job_id,
                                           dict(before.submission_state))
        else:
            actions[job.id] = GENERATE
            if own_doubt or job.key in uncertain_by_key:
                retrying.add(job.id)
            if job.key not in costed_keys:  # identical clips in one run are made once
                costed_keys.add(job.key)
                per_model_cost[job.model] += job.estimated_cost

    per_model = []
    for model_id in model_ids:
        mine = [actions[j.id] for j in jobs if j.model == model_id]
        config = setups[model_id].config
        per_model.append(ModelPlan(
            model=model_id, provider=config.provider, jobs=len(mine),
            done=mine.count(DONE), cached=mine.count(CACHED), in_flight=mine.count(ADOPT),
            failed_before=mine.count(FAILED_BEFORE), uncertain=mine.count(UNCERTAIN),
            to_generate=mine.count(GENERATE),
            estimated_cost=per_model_cost[model_id],
            priced=bool(config.price_per_clip or config.price_per_second),
            retrying_uncertain=sum(1 for j in jobs if j.model == model_id and j.id in retrying),
        ))
    return RunPlan(
        bench_root=bench.root, models=tuple(model_ids), repeats=repeats, jobs=tuple(jobs),
        actions=actions, per_model=tuple(per_model),
        estimated_cost=sum(per_model_cost.values()), resume_run_id=resume_id,
        previous=previous, open_submissions=adopt, uncertain_from=uncertain_from,
        retry_uncertain=retry_uncertain,
    )


def bench_video_exists(bench: Benchmark, run_id: str | None, state: JobState) -> bool:
    if run_id is None or not state.video:
        return False
    return (bench.runs_dir / run_id / state.video).is_file()
