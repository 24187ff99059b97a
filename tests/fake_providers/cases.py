"""Each hosted provider wired to its fake: for parametrized tests of the shared contract.

    for case in CASES:
        with case.fake(api_key=KEY) as fake:
            provider = case.provider(fake, timeout=0.25)

``case.env`` is the environment variable the provider reads its key from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fake_providers.fal import FakeFal
from tests.fake_providers.generic import ACME_PROTOCOL, FakeGeneric
from tests.fake_providers.luma import FakeLuma
from tests.fake_providers.replicate import FakeReplicate
from tests.fake_providers.runway import FakeRunway
from tests.fake_providers.server import FakeServer
from tests.fake_providers.veo import FakeVeo
from workbench.providers.base import RemoteProvider
from workbench.providers.registry import provider_class


@dataclass(frozen=True)
class ProviderCase:
    name: str  # registry name
    fake: type[FakeServer]
    env: str
    params: Callable[[FakeServer], dict[str, Any]]

    def provider(self, fake: FakeServer, model_id: str = "cand", **overrides: Any) -> RemoteProvider:
        cls = provider_class(self.name)
        values = {**self.params(fake), **overrides}
        return cls(model_id, cls.Params(**values))  # type: ignore[return-value]


def _generic(fake: FakeServer) -> dict[str, Any]:
    return {
        **ACME_PROTOCOL,
        "api_key_env": "ACME_TEST_KEY",
        "submit_url": f"{fake.base_url}/jobs",
        "poll_url": f"{fake.base_url}/jobs/{{job_id}}",
    }


CASES = [
    ProviderCase("fal", FakeFal, "FAL_KEY", lambda f: {"base_url": f.base_url, "model": "fal-ai/fake-video/text-to-video"}),
    ProviderCase("replicate", FakeReplicate, "REPLICATE_API_TOKEN", lambda f: {"base_url": f.base_url, "model": "acme/video-model"}),
    ProviderCase("veo", FakeVeo, "GEMINI_API_KEY", lambda f: {"base_url": f.base_url}),
    ProviderCase("runway", FakeRunway, "RUNWAYML_API_SECRET", lambda f: {"base_url": f.base_url}),
    ProviderCase("luma", FakeLuma, "LUMAAI_API_KEY", lambda f: {"base_url": f.base_url}),
    ProviderCase("http", FakeGeneric, "ACME_TEST_KEY", _generic),
]
