"""Hosted text-to-video APIs: fal, Replicate, Veo (Gemini API), Runway, Luma and a
configurable generic HTTP provider, all small presets on one shared engine.

Modules: :mod:`.http_client` (one request, errors classified and redacted),
:mod:`.download` (streaming download with a size cap), :mod:`.provider_base`
(parameters, key handling, shared provider class), :mod:`.json_paths` and
:mod:`.templates` (dot paths and ``{placeholder}`` rendering). Provider classes
are imported by name through :mod:`workbench.providers.registry`.
"""
