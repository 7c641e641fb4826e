"""The private podman of the tests (see ``podman_setup``): configured and given a busybox image once a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from plugins.container.tests import podman_setup


@pytest.fixture(scope="session")
def podman() -> Iterator[dict[str, str]]:
    """Podman set up for the session: returns the environment variables that select it, which it also sets."""
    with podman_setup.private_podman() as environment, pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        yield environment
