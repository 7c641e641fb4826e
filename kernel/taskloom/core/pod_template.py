"""A Kubernetes pod for a task to run in: :class:`PodTemplate` (flytekit's ``flytekit.PodTemplate``).

``@task(pod_template=PodTemplate(pod_spec=V1PodSpec(...), primary_container_name="main"))`` runs the
task as the pod's primary container; the other containers (sidecars, init containers) and pod-level
settings (node selectors, volumes, tolerations) come from ``pod_spec``. The kernel never imports the
``kubernetes`` package: a pod spec is a plain dict in Kubernetes' JSON form, or any object that can
become one (a ``kubernetes.client`` model, or anything with ``to_dict()``), converted when the task
is packaged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from taskloom.exceptions.user import ValidationError

#: The primary container's name when the template does not give one (flytekit's default).
PRIMARY_CONTAINER_DEFAULT_NAME = "primary"


@dataclasses.dataclass
class PodTemplate:
    """A pod for a task: its spec, which container runs the task, and the pod's labels and annotations.

    ``pod_spec`` is a Kubernetes ``V1PodSpec`` or its JSON form as a dict (None: a pod with no
    containers but the task's). ``primary_container_name`` names the container that runs the task:
    when ``pod_spec`` has a container of that name, the task's image, command line, environment and
    resources fill what it leaves out; otherwise one is added. ``labels`` and ``annotations`` go on
    the pod. An empty ``primary_container_name`` is a :class:`~taskloom.exceptions.user.ValidationError`.
    """

    pod_spec: Any = None
    primary_container_name: str = PRIMARY_CONTAINER_DEFAULT_NAME
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.pod_spec is None:
            # flytekit builds an empty V1PodSpec here; its JSON form serves without the kubernetes package.
            self.pod_spec = {"containers": []}
        elif not isinstance(self.pod_spec, dict) and not callable(getattr(self.pod_spec, "to_dict", None)):
            raise ValidationError(
                f"PodTemplate: pod_spec expects a V1PodSpec or a dict, got {type(self.pod_spec).__name__}"
            )
        if not self.primary_container_name:
            raise ValidationError("PodTemplate: a primary container name cannot be empty")

    def pod_spec_dict(self) -> dict[str, Any]:
        """The pod spec in Kubernetes' JSON form (``nodeSelector``, not ``node_selector``), a fresh copy."""
        value = _json_form(self.pod_spec)
        if not isinstance(value, dict):
            raise ValidationError(f"PodTemplate: pod_spec must give a mapping, got {type(value).__name__}")
        return value


def as_pod_template(entity: str, value: Any) -> PodTemplate | None:
    """``value`` as a :class:`PodTemplate`: a PodTemplate as it is, a pod spec (a dict, or an object with
    ``to_dict()``) as the spec of a template with the default primary container; None stays None.

    Anything else is a :class:`~taskloom.exceptions.user.ValidationError` naming ``entity``.
    """
    if value is None or isinstance(value, PodTemplate):
        return value
    if isinstance(value, dict) or callable(getattr(value, "to_dict", None)):
        return PodTemplate(pod_spec=value)
    raise ValidationError(
        f"{entity}: pod_template expects a dict or an object with to_dict() (a PodTemplate, a V1PodSpec), "
        f"got {type(value).__name__}"
    )


def _json_form(value: Any) -> Any:
    # What kubernetes' ApiClient.sanitize_for_serialization does, by duck typing so that the kernel never
    # imports kubernetes: its models list their attributes in `openapi_types` and the JSON keys in
    # `attribute_map` (their to_dict() keeps Python's snake_case names, which Kubernetes ignores).
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {key: _json_form(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_form(item) for item in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    attribute_map = getattr(value, "attribute_map", None)
    attributes = getattr(value, "openapi_types", None)
    if isinstance(attribute_map, dict) and isinstance(attributes, dict):
        return {
            attribute_map[attribute]: _json_form(getattr(value, attribute))
            for attribute in attributes
            if getattr(value, attribute, None) is not None
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_form(dataclasses.asdict(value))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _json_form(to_dict())
    raise ValidationError(f"PodTemplate: pod_spec holds a {type(value).__name__}, which has no JSON form")
