"""SerializationSettings and the images that tasks' container_image placeholders name."""

from __future__ import annotations

import pytest

from taskloom import SerializationSettings, task
from taskloom.configuration import resolve_image, split_image
from taskloom.exceptions.user import ValidationError

SETTINGS = SerializationSettings(
    default_image="ghcr.io/acme/base:1.2",
    images={"trainer": "registry:5000/acme/trainer:3.1", "pinned": "acme/pinned@sha256:0123abcd"},
)


@pytest.mark.parametrize(
    ("image", "resolved"),
    [
        (None, "ghcr.io/acme/base:1.2"),
        ("", "ghcr.io/acme/base:1.2"),
        ("docker.io/library/python:3.11", "docker.io/library/python:3.11"),
        ("{{.image.trainer.fqn}}:{{.image.trainer.version}}", "registry:5000/acme/trainer:3.1"),
        ("{{.image.trainer}}", "registry:5000/acme/trainer:3.1"),
        ("{{ .images.trainer }}", "registry:5000/acme/trainer:3.1"),
        ("{{.image.default.fqn}}:{{.image.default.version}}", "ghcr.io/acme/base:1.2"),
        ("mirror.example/base:{{.image.default.version}}", "mirror.example/base:1.2"),
        ("{{.image.pinned.fqn}}:{{.image.pinned.version}}", "acme/pinned@sha256:0123abcd"),
    ],
)
def test_placeholders_are_resolved_as_flytekit_resolves_them(image, resolved):
    assert resolve_image(image, SETTINGS) == resolved


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("registry:5000/team/app:3.1", ("registry:5000/team/app", "3.1")),
        ("registry:5000/team/app", ("registry:5000/team/app", "latest")),
        ("app@sha256:ff", ("app", "sha256:ff")),
    ],
)
def test_an_image_splits_into_name_and_version(image, parts):
    assert split_image(image) == parts


def test_an_unknown_image_name_is_an_error_naming_the_task_and_how_to_define_it():
    with pytest.raises(ValidationError, match=r"task 'fit'.*'gpu'.*known: default, pinned, trainer.*--image gpu=IMAGE"):
        resolve_image("{{.image.gpu.fqn}}:{{.image.gpu.version}}", SETTINGS, entity="task 'fit'")


def test_an_unknown_attribute_is_an_error():
    with pytest.raises(ValidationError, match="only .fqn and .version"):
        resolve_image("{{.image.trainer.digest}}", SETTINGS)


def test_a_task_template_carries_the_resolved_image():
    @task(container_image="{{.image.trainer.fqn}}:{{.image.trainer.version}}")
    def fit() -> None:
        pass

    @task
    def plain() -> None:
        pass

    assert fit.to_task_template(SETTINGS).container.image == "registry:5000/acme/trainer:3.1"
    assert plain.to_task_template(SETTINGS).container.image == "ghcr.io/acme/base:1.2"
