"""A task's container_image given as an object is named by a plugin (hook taskloom_container_image); the
container runtime is one a plugin offers (hook taskloom_container_runtime)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from taskloom import SerializationSettings, task
from taskloom.extend import ValidationError, hookimpl

SETTINGS = SerializationSettings.for_image("ghcr.io/example/default:1", "v1")


class Recipe:
    """An image described by an object, as taskloom-container's ImageSpec is."""

    def __init__(self, name: str) -> None:
        self.name = name


# No inputs or outputs: the kernel alone (no taskloom-types) has no transformer for int.
@task(container_image=Recipe("trainer"))
def train() -> None:
    pass


def test_a_plugin_names_the_image_and_the_template_carries_the_name(taskloom_plugins):
    namer = SimpleNamespace(
        taskloom_container_image=hookimpl(
            lambda image, settings: f"localhost:30000/{image.name}:1" if isinstance(image, Recipe) else None
        )
    )
    taskloom_plugins.register(namer, name="namer")
    assert train.to_task_template(SETTINGS).container.image == "localhost:30000/trainer:1"


def test_an_answer_may_use_the_settings_image_placeholders(taskloom_plugins):
    namer = SimpleNamespace(taskloom_container_image=hookimpl(lambda image: "{{.image.default}}"))
    taskloom_plugins.register(namer, name="namer")
    assert train.to_task_template(SETTINGS).container.image == "ghcr.io/example/default:1"


def test_an_image_object_no_plugin_names_is_an_error_naming_the_task_and_the_type(taskloom_plugins):
    with pytest.raises(
        ValidationError, match=r"task '.*train': container_image is a Recipe, which no installed plugin"
    ):
        train.to_task_template(SETTINGS)


def test_container_names_without_their_plugin_point_to_taskloom_container(bare_plugins):
    import taskloom

    for resolve in (lambda: taskloom.ContainerTask, lambda: taskloom.ImageSpec):
        with pytest.raises(
            ImportError, match="provided by the distribution 'taskloom-container'.*pip install taskloom-container"
        ):
            resolve()


def test_the_container_runtime_is_the_first_a_plugin_offers_for_the_name(bare_plugins):
    from taskloom.extend import get_container_runtime

    assert get_container_runtime() is None and get_container_runtime("podman") is None  # no plugin runs containers
    offered = {"kind": "a runtime object"}
    bare_plugins.register(
        SimpleNamespace(taskloom_container_runtime=hookimpl(lambda name: offered if name in (None, "kind") else None)),
        name="runtimes",
    )
    assert get_container_runtime() is offered and get_container_runtime("kind") is offered
    assert get_container_runtime("other") is None
