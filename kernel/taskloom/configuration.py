"""Settings that turn entities into serialisable templates: :class:`SerializationSettings`."""

from __future__ import annotations

import dataclasses
import re

from taskloom.exceptions.user import ValidationError

#: The image of a task that names none and whose settings give no default.
DEFAULT_IMAGE = "ghcr.io/taskloom/taskloom:py3.11-latest"


@dataclasses.dataclass(frozen=True)
class SerializationSettings:
    """Where and as what entities are registered: project, domain, version, default image, environment.

    Used when a task or workflow becomes a template (``to_task_template(settings)``); running locally
    needs none. ``default_image`` is the image of tasks that name no ``container_image``; ``env`` is
    added to every container's environment (a task's own ``environment`` wins on a clash).
    ``images`` names other images (``{"trainer": "ghcr.io/acme/trainer:3"}``) that a task's
    ``container_image`` refers to as ``{{.image.trainer.fqn}}:{{.image.trainer.version}}`` or
    ``{{.image.trainer}}``, as in flytekit (``default`` names ``default_image``; see
    :func:`resolve_image`). ``fast_serialization_settings`` turns on fast registration.
    """

    project: str = ""
    domain: str = ""
    version: str = ""
    default_image: str = DEFAULT_IMAGE
    env: dict[str, str] | None = None
    fast_serialization_settings: FastSerializationSettings | None = None
    images: dict[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class FastSerializationSettings:
    """Fast registration: the code travels as a tarball next to the package, not inside the image.

    When ``enabled``, a task's container first fetches ``distribution_location`` (a URI, filled
    in at registration when empty) and unpacks it into ``destination_dir`` before running the task.
    """

    enabled: bool = False
    destination_dir: str | None = None
    distribution_location: str | None = None


# ``{{.image.NAME}}``, ``{{.image.NAME.fqn}}``, ``{{.image.NAME.version}}`` (flytekit's placeholders).
_IMAGE_PLACEHOLDER = re.compile(r"\{\{\s*\.images?\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?\s*\}\}")


def split_image(image: str) -> tuple[str, str]:
    """``("registry:5000/team/app", "3.1")`` for ``registry:5000/team/app:3.1``; a digest
    (``app@sha256:...``) is the version after ``@``; no tag gives ``"latest"``."""
    if "@" in image:
        name, _, digest = image.partition("@")
        return name, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = image.rpartition(":")
        return name, tag
    return image, "latest"


def resolve_image(image: str | None, settings: SerializationSettings, *, entity: str = "") -> str:
    """The image a task runs in: ``image`` with its placeholders replaced from ``settings``, or the
    settings' default image when ``image`` is empty.

    Raises :class:`~taskloom.exceptions.user.ValidationError` naming ``entity`` and the image for
    an unknown image name or attribute.
    """
    if not image:
        return settings.default_image
    if "{{" not in image:
        return image
    images = {"default": settings.default_image, **(settings.images or {})}

    def replace(match: re.Match[str]) -> str:
        name, attribute = match.group(1), match.group(2)
        full = images.get(name)
        prefix = f"{entity}: " if entity else ""
        if full is None:
            raise ValidationError(
                f"{prefix}container image {image!r} names the image {name!r}, which the settings do not define "
                f"(known: {', '.join(sorted(images))}; give it with --image {name}=IMAGE)"
            )
        if attribute is None:
            return full
        fqn, version = split_image(full)
        if attribute == "fqn":
            return fqn
        if attribute == "version":
            return version
        raise ValidationError(f"{prefix}container image {image!r}: only .fqn and .version can follow an image name")

    resolved = _IMAGE_PLACEHOLDER.sub(replace, image)
    # A digest joins its name with "@", not ":" (``{{.image.x.fqn}}:{{.image.x.version}}``).
    return re.sub(r":(sha256:[0-9a-f]+)$", r"@\1", resolved)
