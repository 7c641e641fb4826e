"""The private podman of the tests (see ``podman_setup``): configured and given a busybox image once a session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from plugins.container.tests import podman_setup


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Podman set up for the session: returns the environment variables that select it, which it also sets."""
    root = tmp_path_factory.mktemp("podman")
    environment = podman_setup.configure(root)
    podman_setup.import_image(podman_setup.busybox_root(root), podman_setup.BUSYBOX_IMAGE, environment)
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    yield environment
    podman_setup.reset(environment)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
