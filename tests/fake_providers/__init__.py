"""Fake hosted video APIs on 127.0.0.1 for tests: real HTTP, real mp4, faults on demand.

Usage::

    with FakeReplicate(api_key="k", faults={"poll": ["500"]}) as fake:
        params = ReplicateParams(base_url=fake.base_url, model="acme/video")
        ...
        assert fake.submits == 1

See :mod:`tests.fake_providers.server` for the fault kinds and stages.
"""

from tests.fake_providers.fal import FakeFal
from tests.fake_providers.generic import ACME_PROTOCOL, FakeGeneric
from tests.fake_providers.luma import FakeLuma
from tests.fake_providers.media import tiny_mp4
from tests.fake_providers.replicate import FakeReplicate
from tests.fake_providers.runway import FakeRunway
from tests.fake_providers.server import DEFAULT_KEY, Fault, FakeServer, Reply, Request
from tests.fake_providers.veo import FakeVeo

__all__ = [
    "ACME_PROTOCOL",
    "DEFAULT_KEY",
    "FakeFal",
    "FakeGeneric",
    "FakeLuma",
    "FakeReplicate",
    "FakeRunway",
    "FakeServer",
    "FakeVeo",
    "Fault",
    "Reply",
    "Request",
    "tiny_mp4",
]
