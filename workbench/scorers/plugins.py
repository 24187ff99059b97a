"""Scorers from installed packages, via Python entry points in group ``workbench.scorers``.

A package declares, for example::

    [project.entry-points."workbench.scorers"]
    clip_score = "my_package.clip:ClipScorer"

The entry point's name is the scorer's name. It loads either a :class:`Scorer`
subclass (with a class attribute ``info`` whose ``name`` matches) or a factory
callable returning a Scorer instance. A new scorer object is made for each
video, so a plugin should keep expensive models in a module-level cache.
Entry points are found in every worker process, so plugins must be installed
(not just importable in the parent).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from dataclasses import dataclass
from typing import Callable

from workbench.scorers.base import Scorer, ScorerInfo

ENTRY_POINT_GROUP = "workbench.scorers"


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin scorer: what it declares and how to make one."""

    info: ScorerInfo
    factory: Callable[[], Scorer]
    source: str

    def create(self) -> Scorer:
        scorer = self.factory()
        if not isinstance(scorer, Scorer):
            raise TypeError(f"plugin {self.info.name!r} ({self.source}) made {type(scorer).__name__}, not a Scorer")
        return scorer


def _load(entry_point: importlib.metadata.EntryPoint) -> Plugin:
    source = entry_point.value
    target = entry_point.load()
    if isinstance(target, type) and issubclass(target, Scorer):
        info = getattr(target, "info", None)
        factory: Callable[[], Scorer] = target
    elif callable(target):
        info = getattr(target, "info", None)
        factory = target
        if not isinstance(info, ScorerInfo):
            made = target()
            if not isinstance(made, Scorer):
                raise TypeError(f"{source} made {type(made).__name__}, not a Scorer")
            info = getattr(made, "info", None)
    else:
        raise TypeError(f"{source} is {type(target).__name__}; expected a Scorer class or a factory")
    if not isinstance(info, ScorerInfo):
        raise TypeError(f"{source} has no 'info' (a workbench.scorers.base.ScorerInfo)")
    if info.name != entry_point.name:
        raise ValueError(f"{source} declares the name {info.name!r} but its entry point is {entry_point.name!r}")
    return Plugin(dataclasses.replace(info, kind="plugin"), factory, source)


def discover_plugins() -> tuple[dict[str, Plugin], dict[str, str]]:
    """(plugins by name, problems by name) for every entry point in the group."""
    plugins: dict[str, Plugin] = {}
    problems: dict[str, str] = {}
    try:
        entry_points = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # noqa: BLE001 - broken metadata must not stop scoring
        return {}, {"*": f"cannot list installed scorer plugins: {exc}"}
    for entry_point in entry_points:
        name = entry_point.name
        if name in plugins or name in problems:
            problems[name] = f"more than one installed package provides a scorer plugin named {name!r}"
            plugins.pop(name, None)
            continue
        try:
            plugins[name] = _load(entry_point)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not hide the others
            problems[name] = f"plugin {name!r} ({entry_point.value}) failed to load: {type(exc).__name__}: {exc}"
    return plugins, problems
