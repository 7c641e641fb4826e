"""Settings that turn entities into serialisable templates: :class:`SerializationSettings`."""

from __future__ import annotations

import dataclasses

#: The image of a task that names none and whose settings give no default.
DEFAULT_IMAGE = "ghcr.io/taskloom/taskloom:py3.11-latest"


@dataclasses.dataclass(frozen=True)
class SerializationSettings:
    """Where and as what entities are registered: project, domain, version, default image, environment.

    Used when a task or workflow becomes a template (``to_task_template(settings)``); running locally
    needs none. ``default_image`` is the image of tasks that name no ``container_image``; ``env`` is
    added to every container's environment (a task's own ``environment`` wins on a clash).
    """

    project: str = ""
    domain: str = ""
    version: str = ""
    default_image: str = DEFAULT_IMAGE
    env: dict[str, str] | None = None
    fast_serialization_settings: FastSerializationSettings | None = None


@dataclasses.dataclass(frozen=True)
class FastSerializationSettings:
    """Fast registration: the code travels as a tarball next to the package, not inside the image.

    When ``enabled``, a task's container first fetches ``distribution_location`` (a URI, filled
    in at registration when empty) and unpacks it into ``destination_dir`` before running the task.
    """

    enabled: bool = False
    destination_dir: str | None = None
    distribution_location: str | None = None
