"""Provider names as written in ``benchmark.toml`` and the classes behind them."""

from __future__ import annotations

import importlib

from workbench.providers.base import Provider

# name -> "module:Class"; imported on first use so loading a benchmark stays cheap.
_PROVIDERS: dict[str, str] = {
    "synthetic": "workbench.providers.synthetic:SyntheticProvider",
    "command": "workbench.providers.command:CommandProvider",
    "http": "workbench.providers.hosted.generic_http:GenericHttpProvider",
    "fal": "workbench.providers.hosted.fal:FalProvider",
    "replicate": "workbench.providers.hosted.replicate:ReplicateProvider",
    "veo": "workbench.providers.hosted.veo:VeoProvider",
    "runway": "workbench.providers.hosted.runway:RunwayProvider",
    "luma": "workbench.providers.hosted.luma:LumaProvider",
}


def provider_names() -> list[str]:
    return sorted(_PROVIDERS)


def provider_class(name: str) -> type[Provider]:
    try:
        target = _PROVIDERS[name]
    except KeyError:
        raise KeyError(
            f"unknown provider {name!r} (known: {', '.join(provider_names())})"
        ) from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)
