"""The tests' agent server and the path to their sample agents (imported by name, as the server does)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from plugins.agent.tests.servers import HERE, Server, agent_server

# The tests import sample_agents under the name the server imports it with (one registry entry per agent).
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One plaintext server with the sample agents for a test module."""
    with agent_server() as running:
        yield running
