"""taskloom-container's hook implementations, and nothing else (the entry point ``container = "taskloom_container.hooks"``).

``ContainerTask`` and ``ImageSpec`` reach users through the ``taskloom.names`` entry point; a
``ContainerTask``'s template is its own (``ContainerTask.get_container``). The hooks add ``loom build`` and
name the image of a task whose ``container_image`` is an ``ImageSpec``, so that the kernel sees only a string,
and offer podman and docker as container runtimes (``taskloom_container_runtime``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import hookimpl

if TYPE_CHECKING:
    from taskloom.extend import SerializationSettings

#: The plugin API this plugin was written for: 1.3 adds ``PythonTask.get_container``, ``ResourceSpec``,
#: ``resolve_resources``, the hooks ``taskloom_container_image`` and ``taskloom_container_runtime``. A kernel
#: offering another major version, or an older minor one, reports the plugin by name (``loom plugins``) and
#: does not load it.
TASKLOOM_API = "1.3"


@hookimpl
def taskloom_cli_commands() -> list[Any]:
    # click and the build module are imported only when loom lists or runs its commands.
    from taskloom_container.build import build_command

    return [build_command]


@hookimpl
def taskloom_container_image(image: Any, settings: SerializationSettings) -> str | None:
    # A firstresult hook: answer only for this plugin's ImageSpec. The module is small and imports nothing heavy.
    from taskloom_container.image_spec import ImageSpec

    return image.image_name() if isinstance(image, ImageSpec) else None


@hookimpl
def taskloom_container_runtime(name: str | None) -> Any:
    # podman or docker through their command lines; the runtime module imports nothing heavy.
    from taskloom_container.runtime import available_runtime

    return available_runtime(name)
