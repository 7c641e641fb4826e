"""taskloom-container: raw-container tasks, run locally with podman or docker.

``ContainerTask`` (flytekit 1.16's signature) runs a program of any image: inputs go in as files (and a
JSON or YAML file holding them all), outputs come back from files and are checked against their types;
packaged, it is a ``raw-container`` task whose template is flytekit's. Users reach it through ``taskloom``
(``from taskloom import ContainerTask``); the kernel finds the plugin through the ``taskloom.plugins``
entry point (``taskloom_container.hooks``). Names resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["ContainerTask", "ImageSpec"]

_WHERE = {"ContainerTask": "taskloom_container.container_task", "ImageSpec": "taskloom_container.image_spec"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_container' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
