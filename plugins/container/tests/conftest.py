"""The private podman of the tests (see ``podman_setup``): configured and given a busybox image once a session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from plugins.container.tests import podman_setup


@pytest.fixture(scope="session")
def podman() -> Iterator[dict[str, str]]:
    """Podman set up for the session: returns the environment variables that select it, which it also sets."""
    with podman_setup.private_podman() as environment:
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        try:
            yield environment
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
