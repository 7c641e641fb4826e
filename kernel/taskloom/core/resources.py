"""Compute resources a task asks for: :class:`Resources`, as in flytekit.

``@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))`` or, with one object,
``@task(resources=Resources(cpu=("1", "2"), mem="2Gi"))``: a pair is (request, limit), a single value
is the request (and the limit only when given as a pair). Values follow Kubernetes' units
(``"500m"``, ``"2Gi"``); numbers are written as they are (``0.5`` CPU, ``1024`` bytes).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from taskloom.exceptions.user import ValidationError

if TYPE_CHECKING:
    from taskloom.models import task as task_models

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

# The field of Resources, the Python types one value may have, and the flyteidl resource name (the
# contracts are imported only when a template is made, to keep `@task` light).
_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "cpu": ((str, int, float), "CPU"),
    "mem": ((str, int), "MEMORY"),
    "gpu": ((str, int), "GPU"),
    "ephemeral_storage": ((str, int), "EPHEMERAL_STORAGE"),
}


@dataclasses.dataclass(frozen=True)
class Resources:
    """CPU, memory, GPU and ephemeral storage for a task (flytekit's ``Resources``).

    Each value is a single request, or a ``(request, limit)`` pair (a list or tuple of two). A value of
    the wrong type, or a pair of another length, is a :class:`~taskloom.exceptions.user.ValidationError`
    naming the field.
    """

    cpu: str | int | float | tuple[Any, Any] | list[Any] | None = None
    mem: str | int | tuple[Any, Any] | list[Any] | None = None
    gpu: str | int | tuple[Any, Any] | list[Any] | None = None
    ephemeral_storage: str | int | None = None

    def __post_init__(self) -> None:
        for name, (accepted, _) in _FIELDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            items = value if isinstance(value, (tuple, list)) else (value,)
            if isinstance(value, (tuple, list)) and (len(value) != 2 or name == "ephemeral_storage"):
                raise ValidationError(f"Resources: {name}={value!r} must be one value or a (request, limit) pair")
            for item in items:
                if isinstance(item, bool) or not isinstance(item, accepted):
                    kinds = " or ".join(kind.__name__ for kind in accepted)
                    raise ValidationError(f"Resources: {name} expects {kinds}, got {type(item).__name__} {item!r}")

    @property
    def is_pair(self) -> bool:
        """Whether any value is a ``(request, limit)`` pair."""
        return any(isinstance(getattr(self, name), (tuple, list)) for name in _FIELDS)

    def entries(self) -> tuple[task_models.ResourceEntry, ...]:
        """The flyteidl resource entries of single values (a pair is an error: split it first)."""
        from taskloom.models import task as task_models

        result = []
        for name, (_, resource_name) in _FIELDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, (tuple, list)):
                raise ValidationError(f"Resources: {name}={value!r} is a pair; pass requests and limits apart")
            result.append(task_models.ResourceEntry(name=task_models.ResourceName[resource_name], value=str(value)))
        return tuple(result)


@dataclasses.dataclass(frozen=True)
class ResourceSpec:
    """Requests and limits as two :class:`Resources` of single values (flytekit's ``ResourceSpec``)."""

    requests: Resources
    limits: Resources

    @classmethod
    def from_multiple_resource(cls, resources: Resources) -> ResourceSpec:
        """Split ``resources`` whose values may be ``(request, limit)`` pairs into requests and limits."""
        requests: dict[str, Any] = {}
        limits: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(resources, name)
            if isinstance(value, (tuple, list)):
                requests[name], limits[name] = value
            elif value is not None:
                requests[name] = value
        return cls(requests=Resources(**requests), limits=Resources(**limits))


def resolve_resources(
    requests: Resources | None = None,
    limits: Resources | None = None,
    resources: Resources | None = None,
    *,
    entity: str = "task",
) -> ResourceSpec | None:
    """Combine ``@task``'s ``requests``/``limits`` and ``resources`` arguments into one spec, or None.

    ``resources`` may not be combined with the other two (a :class:`ValidationError` naming ``entity``).
    """
    if resources is not None:
        if requests is not None or limits is not None:
            raise ValidationError(f"{entity}: give either resources= or requests=/limits=, not both")
        return ResourceSpec.from_multiple_resource(resources)
    if requests is None and limits is None:
        return None
    for label, value in (("requests", requests), ("limits", limits)):
        if value is not None and value.is_pair:
            raise ValidationError(f"{entity}: {label}= takes single values; use resources= for (request, limit) pairs")
    return ResourceSpec(requests=requests or Resources(), limits=limits or Resources())


def convert_resources_to_resource_model(
    requests: Resources | None = None, limits: Resources | None = None
) -> task_models.Resources:
    """The flyteidl-shaped :class:`~taskloom.models.task.Resources` of requests and limits (flytekit's name)."""
    from taskloom.models import task as task_models

    return task_models.Resources(
        requests=requests.entries() if requests is not None else (),
        limits=limits.entries() if limits is not None else (),
    )
