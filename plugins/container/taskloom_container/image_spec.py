""":class:`ImageSpec`: an image described by what goes into it, named by a hash of that (flytekit 1.16's API).

``@task(container_image=ImageSpec(...))`` and ``ContainerTask(image=ImageSpec(...))`` name the image
``registry/name:tag`` in their templates, exactly as pyflyte names it: the tag is flytekit's hash of the
spec's fields (:attr:`ImageSpec.tag`), so a program ported from flytekit packages with the same image
names and finds the images flytekit built. The kernel sees only the name, through the hook
``taskloom_container_image`` (``taskloom_container.hooks``).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import enum
import hashlib
import os
import pathlib
import re
from typing import Any

from taskloom.extend import ExecutionState, FlyteContextManager, ValidationError

#: The environment variable holding the id of the spec an image was built from (flytekit's ``_F_IMG_ID``).
IMAGE_ID_ENV = "_F_IMG_ID"

# flytekit's validate_container_registry_name.
_REGISTRY = re.compile(r"^(localhost:\d{1,5}|([a-z\d\._-]+)(:\d{1,5})?)(/[\w\.-]+)*$")

# The fields that must be lists of strings (flytekit checks the same ones).
_STRING_LISTS = (
    "packages",
    "conda_channels",
    "conda_packages",
    "apt_packages",
    "pip_extra_index_url",
    "entrypoint",
    "commands",
    "runtime_packages",
)

# Left out of the id: they do not change the image (flytekit's list).
_NOT_IN_ID = ("pip_secret_mounts", "builder", "runtime_packages")


class CopyFileDetection(enum.Enum):
    """Which source files go into the image (flytekit's ``flytekit.constants.CopyFileDetection``)."""

    LOADED_MODULES = 1
    ALL = 2
    NO_COPY = 3


@dataclasses.dataclass
class ImageSpec:
    """An image described by its base, packages and commands (flytekit's ``ImageSpec``, same fields, same order).

    The fields' order matters: the tag is a hash of the spec's printed fields, as flytekit computes it.
    ``name`` and ``registry`` are lower-cased; a registry that is not a registry name, or a list field
    that is not a list of strings, is a :class:`~taskloom.extend.ValidationError` naming the field.
    """

    name: str = "flytekit"
    python_version: str | None = None
    builder: str | None = None
    source_root: str | None = None
    env: dict[str, str] | None = None
    registry: str | None = None
    packages: list[str] | None = None
    conda_packages: list[str] | None = None
    conda_channels: list[str] | None = None
    requirements: str | None = None
    apt_packages: list[str] | None = None
    cuda: str | None = None
    cudnn: str | None = None
    base_image: str | ImageSpec | None = None
    platform: str | None = None
    pip_index: str | None = None
    pip_extra_index_url: list[str] | None = None
    pip_secret_mounts: list[tuple[str, str]] | None = None
    pip_extra_args: str | None = None
    registry_config: str | None = None
    entrypoint: list[str] | None = None
    commands: list[str] | None = None
    tag_format: str | None = None
    source_copy_mode: CopyFileDetection | None = None
    copy: list[str] | None = None
    python_exec: str | None = None
    runtime_packages: list[str] | None = None
    builder_options: dict[str, Any] | None = None
    builder_config: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.name = self.name.lower()
        if self.registry:
            self.registry = self.registry.lower()
            if not _REGISTRY.match(self.registry):
                raise ValidationError(
                    f"ImageSpec {self.name!r}: registry {self.registry!r} is not a registry name "
                    f"(expected 'localhost:30000', 'ghcr.io/username' or 'docker.io/username')"
                )
        if self.platform is None:
            # flytekit's default; it picks linux/arm64 only to push to a local registry from an ARM machine.
            self.platform = "linux/amd64"
        if self.source_root is not None:
            self.source_copy_mode = self.source_copy_mode or CopyFileDetection.LOADED_MODULES
        for field in _STRING_LISTS:
            value = getattr(self, field)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValidationError(f"ImageSpec {self.name!r}: {field} expects a list of str or None, got {value!r}")

    @property
    def id(self) -> str:
        """A hash of the spec's set fields: which spec an image was built from (flytekit's ``id``)."""
        fields = dataclasses.asdict(
            self, dict_factory=lambda items: {k: v for (k, v) in items if v is not None and k not in _NOT_IN_ID}
        )
        # flytekit hashes the dict's printed form: the same text gives the same id across both SDKs.
        digest = hashlib.md5(str(fields).encode("utf-8")).digest()  # an identifier, not a security measure
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def tag(self) -> str:
        """The image's tag: :attr:`id` of the spec with its base named and its requirements hashed (flytekit's).

        A spec copying sources (``source_root`` or ``copy``) is refused: flytekit hashes those files with
        its own file walk, which is not reproduced here, and a tag that differs from flytekit's would name
        another image.
        """
        spec = copy.deepcopy(self)
        if isinstance(spec.base_image, ImageSpec):
            spec = dataclasses.replace(spec, base_image=spec.base_image.image_name())
        if (self.source_copy_mode is not None and self.source_copy_mode is not CopyFileDetection.NO_COPY) or self.copy:
            raise ValidationError(
                f"ImageSpec {self.name!r}: source_root and copy (source files copied into the image) are not "
                f"supported: their tag would differ from flytekit's"
            )
        if spec.requirements:
            requirements = hashlib.sha1(pathlib.Path(spec.requirements).read_bytes().strip()).hexdigest()
            spec = dataclasses.replace(spec, requirements=requirements)
        spec = dataclasses.replace(spec, registry_config=None)  # where the credentials are changes no image
        tag = spec.id.replace("-", "_")
        if self.tag_format:
            return self.tag_format.format(spec_hash=tag)
        return tag

    def image_name(self) -> str:
        """The full image name, ``[registry/]name:tag``, as pyflyte writes it into templates."""
        name = f"{self.name}:{self.tag}"
        return f"{self.registry}/{name}" if self.registry else name

    def is_container(self) -> bool:
        """Whether this code runs in an image built from this spec (flytekit's rule).

        Locally (no task execution in a container) always True, so that imports guarded by it run;
        inside a task's container, True only when the image was built from this spec (its
        ``_F_IMG_ID`` is this spec's :attr:`id`).
        """
        state = FlyteContextManager.current_context().execution_state
        if state is not None and state.mode is not None and state.mode != ExecutionState.Mode.LOCAL_WORKFLOW_EXECUTION:
            return os.environ.get(IMAGE_ID_ENV) == self.id
        return True

    def with_commands(self, commands: str | list[str]) -> ImageSpec:
        """A copy with ``commands`` added (flytekit's builder method)."""
        return self._extended("commands", commands)

    def with_packages(self, packages: str | list[str]) -> ImageSpec:
        """A copy with Python ``packages`` added."""
        return self._extended("packages", packages)

    def with_apt_packages(self, apt_packages: str | list[str]) -> ImageSpec:
        """A copy with Debian ``apt_packages`` added."""
        return self._extended("apt_packages", apt_packages)

    def _extended(self, field: str, values: str | list[str]) -> ImageSpec:
        added = [values] if isinstance(values, str) else list(values)
        changes: dict[str, Any] = {field: [*(getattr(self, field) or []), *added]}
        return dataclasses.replace(self, **changes)
