"""Cross-reference checks on a structurally valid benchmark config."""

from __future__ import annotations

from pydantic import ValidationError

from workbench.benchmark.config import BenchmarkConfig
from workbench.benchmark.toml_lines import find_line
from workbench.errors import Problem

HUMAN_SCORERS = ("human.rating", "human.pass", "human.preference")


def known_scorer_names(config: BenchmarkConfig) -> set[str]:
    from workbench.scorers.registry import available_scorers

    names = set(available_scorers(config.scoring.external))
    names.update(HUMAN_SCORERS)
    return names


def reference_problems(config: BenchmarkConfig, file: str, text: str) -> list[Problem]:
    from workbench.benchmark.folder import toml_problems
    from workbench.providers.registry import provider_class

    problems: list[Problem] = []

    def add(loc: tuple[str, ...], message: str) -> None:
        problems.append(Problem(file, message, find_line(text, loc), ".".join(loc)))

    for model_id, model in config.models.items():
        try:
            cls = provider_class(model.provider)
        except KeyError as exc:
            add(("models", model_id, "provider"), str(exc.args[0]))
            continue
        try:
            cls.Params.model_validate(model.params)
        except ValidationError as exc:
            problems.extend(toml_problems(exc, file, text, prefix=("models", model_id)))

    known = known_scorer_names(config)
    listing = ", ".join(sorted(known))
    for index, name in enumerate(config.scorers):
        if name not in known:
            add(("scorers",), f"unknown scorer {name!r} (known: {listing})")
    for name in config.thresholds:
        if name not in known:
            add(("thresholds", name), f"unknown scorer {name!r} (known: {listing})")

    gate = config.gate
    if gate is not None:
        for role in ("incumbent", "candidate"):
            model_id = getattr(gate, role)
            if model_id not in config.models:
                add(("gate", role), f"model {model_id!r} is not defined under [models] "
                                    f"(defined: {', '.join(config.models) or 'none'})")
        for name in gate.primary:
            if name not in known:
                add(("gate", "primary"), f"unknown scorer {name!r}")
        for name in gate.scorers:
            if name not in gate.primary:
                add(("gate", "scorers", name), f"scorer {name!r} is not in gate.primary")
    return problems
