"""Every scorer by name: built-ins, entry-point plugins and external programs."""

from __future__ import annotations

import importlib
from functools import partial
from typing import Callable, Mapping

from workbench.benchmark.config import ExternalScorerConfig
from workbench.errors import WorkbenchError
from workbench.scorers.base import Scorer, ScorerInfo
from workbench.scorers.external import ExternalScorer, external_info
from workbench.scorers.plugins import discover_plugins

# name -> "module:Class", in the order they are listed.
BUILTIN_SCORERS: dict[str, str] = {
    "decodes": "workbench.scorers.decodes:DecodesScorer",
    "sharpness": "workbench.scorers.sharpness:SharpnessScorer",
    "brightness": "workbench.scorers.exposure:BrightnessScorer",
    "clipped_shadows": "workbench.scorers.exposure:ClippedShadowsScorer",
    "clipped_highlights": "workbench.scorers.exposure:ClippedHighlightsScorer",
    "black_frames": "workbench.scorers.exposure:BlackFramesScorer",
    "colorfulness": "workbench.scorers.color:ColorfulnessScorer",
    "blockiness": "workbench.scorers.blockiness:BlockinessScorer",
    "temporal_flicker": "workbench.scorers.temporal:TemporalFlickerScorer",
    "frozen_frames": "workbench.scorers.temporal:FrozenFramesScorer",
    "motion": "workbench.scorers.temporal:MotionScorer",
    "motion_jerk": "workbench.scorers.temporal:MotionJerkScorer",
    "scene_cuts": "workbench.scorers.temporal:SceneCutsScorer",
    "compliance": "workbench.scorers.compliance:ComplianceScorer",
}

External = Mapping[str, ExternalScorerConfig] | None


class UnknownScorer(WorkbenchError):
    """A scorer name that is neither built in, nor an installed plugin, nor configured."""


class ScorerConfigError(WorkbenchError):
    """An external scorer configuration that cannot be used."""


def builtin_class(name: str) -> type[Scorer]:
    module_name, class_name = BUILTIN_SCORERS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def _check_external(external: External) -> dict[str, ExternalScorerConfig]:
    external = dict(external or {})
    for name in external:
        if name in BUILTIN_SCORERS:
            raise ScorerConfigError(
                f"[scoring.external.{name}]: {name!r} is the name of a built-in scorer; choose another name"
            )
    return external


def available_scorers(external: External = None) -> dict[str, ScorerInfo]:
    """Built-in, plugin and external scorers by name (built-ins first, then sorted)."""
    external = _check_external(external)
    found = {name: builtin_class(name).info for name in BUILTIN_SCORERS}
    plugins, _problems = discover_plugins()
    for name in sorted(plugins):
        if name not in found and name not in external:
            found[name] = plugins[name].info
    for name in sorted(external):
        found[name] = external_info(name, external[name])
    return found


def _unknown_message(names: list[str], external: dict[str, ExternalScorerConfig],
                     plugins: Mapping[str, object], problems: Mapping[str, str]) -> str:
    lines = []
    for name in names:
        if name in problems:
            lines.append(f"scorer {name!r} is unavailable: {problems[name]}")
        else:
            lines.append(f"unknown scorer {name!r}")
    known = ", ".join(BUILTIN_SCORERS)
    lines.append(f"built-in scorers: {known}")
    extra = sorted(set(plugins) | set(external))
    lines.append("plugins and external scorers: " + (", ".join(extra) if extra else "none"))
    return "\n".join(lines)


def resolve_scorers(names: list[str], external: External = None) -> list[ScorerInfo]:
    """Infos for ``names`` in order; raises :class:`UnknownScorer` naming every unknown one."""
    return [info for info, _make in _resolve(names, external)]


def scorer_factories(names: list[str], external: External = None) -> list[tuple[ScorerInfo, Callable[[], Scorer]]]:
    """(info, factory) for ``names`` in order; each factory makes a fresh scorer for one video."""
    return _resolve(names, external)


def _resolve(names: list[str], external: External) -> list[tuple[ScorerInfo, Callable[[], Scorer]]]:
    external = _check_external(external)
    needs_plugins = [n for n in names if n not in BUILTIN_SCORERS and n not in external]
    plugins, problems = discover_plugins() if needs_plugins else ({}, {})
    unknown = [n for n in needs_plugins if n not in plugins]
    if unknown:
        raise UnknownScorer(_unknown_message(unknown, external, plugins, problems))
    resolved: list[tuple[ScorerInfo, Callable[[], Scorer]]] = []
    for name in names:
        if name in BUILTIN_SCORERS:
            cls = builtin_class(name)
            resolved.append((cls.info, cls))
        elif name in external:
            config = external[name]
            resolved.append((external_info(name, config), partial(ExternalScorer, name, config)))
        else:
            plugin = plugins[name]
            resolved.append((plugin.info, plugin.create))
    return resolved
