"""The Pod that runs one attempt of a task: :func:`build_pod`, from the task's template, as FlytePropeller builds it.

Everything is Kubernetes' JSON form (plain dicts, ``nodeSelector`` not ``node_selector``): the manifest is what
the API server receives, what the tests validate against the official schema, and what ``--keep-pods`` leaves
to read with ``kubectl get pod -o yaml``. What comes from where:

* the spec: the template's pod (``@task(pod_template=...)``, the task's container already merged into the primary
  container by the translator) or a pod of the task's container alone;
* the primary container: the template's image (``--image`` is the default image of tasks that name none), its
  ``loom-execute`` command line with the placeholders filled, its environment and the execution's
  (``FLYTE_INTERNAL_*``, ``FLYTE_ATTEMPT_NUMBER``), requests and limits (``cpu``, ``memory``, ``nvidia.com/gpu``,
  ``ephemeral-storage``; a resource with a request and no limit gets the request as its limit, as FlytePropeller
  does, which Kubernetes requires of GPUs);
* the accelerator: a required node affinity on ``k8s.amazonaws.com/accelerator`` (and
  ``k8s.amazonaws.com/gpu-partition-size``), FlytePropeller's default labels; shared memory: a memory-backed
  ``emptyDir`` mounted where asked;
* secrets: an environment variable ``_FSEC_GROUP_KEY`` from the Kubernetes secret ``group`` (mount type ENV_VAR,
  or ANY), or a file ``/etc/flyte/secrets/group/key`` (FILE), where flytekit's and taskloom's secrets manager
  read them;
* interruptible tasks: the tolerations and node selector of the configuration (:class:`PodOptions`);
* the service account of the task's security context, labels and annotations of the template and the options,
  the image pull policy of the options, ``restartPolicy: Never`` (a retry is a new Pod, counted by the executor),
  and ``activeDeadlineSeconds`` from the task's timeout.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from typing import Any

#: FlytePropeller's default node labels for a GPU's model and partition (its ``gpu-device-node-label`` and
#: ``gpu-partition-size-node-label`` settings).
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
PARTITION_LABEL = "k8s.amazonaws.com/gpu-partition-size"
#: Where file secrets are mounted (FlytePropeller's directory; the container is told with FLYTE_SECRETS_DEFAULT_DIR).
SECRETS_DIRECTORY = "/etc/flyte/secrets"
SECRETS_ENV_PREFIX = "_FSEC_"
#: The labels every Pod of the executor carries: what it is, which execution and which task it runs.
MANAGED_BY = "app.kubernetes.io/managed-by"
EXECUTION_LABEL = "taskloom.io/execution"
TASK_LABEL = "taskloom.io/task"
ATTEMPT_LABEL = "taskloom.io/attempt"
TASK_ANNOTATION = "taskloom.io/task-name"

_RESOURCE_NAMES = {
    "CPU": "cpu",
    "MEMORY": "memory",
    "GPU": "nvidia.com/gpu",
    "EPHEMERAL_STORAGE": "ephemeral-storage",
    "STORAGE": "storage",
}
_DEFAULT_PRIMARY = "primary"


@dataclasses.dataclass(frozen=True)
class PodOptions:
    """What the Pods of one executor share, from ``loom run``'s options or the Python API.

    ``interruptible_tolerations`` and ``interruptible_node_selector`` go on the Pods of interruptible tasks (spot
    or preemptible nodes), as FlytePropeller's ``interruptible-tolerations`` and ``interruptible-node-selector``.
    ``labels`` and ``annotations`` go on every Pod; ``image_pull_policy`` on every primary container
    (``Always``, ``IfNotPresent``, ``Never``; empty: Kubernetes' default); ``service_account`` is the default of
    tasks whose security context names none.
    """

    namespace: str = "default"
    image_pull_policy: str = ""
    service_account: str = ""
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    interruptible_tolerations: tuple[dict[str, Any], ...] = ()
    interruptible_node_selector: dict[str, str] = dataclasses.field(default_factory=dict)


def pod_name(execution: str, task_name: str, node: str, attempt: int, token: str = "") -> str:
    """A Pod name for an attempt: readable (the task's last dotted part), unique per execution, node, attempt and
    ``token`` (a resumed execution runs a node's attempt again), and a DNS label (63 characters at most,
    lower-case alphanumerics and ``-``), as a Pod's hostname must be."""
    digest = hashlib.sha256(f"{execution}\0{node}".encode()).hexdigest()[:10]
    stem = _dns_label(task_name.rsplit(".", 1)[-1])[:30].strip("-") or "task"
    suffix = f"-{_dns_label(token)[:8]}" if token else ""
    return f"{stem}-{digest}-{attempt}{suffix}"


def label_value(text: str) -> str:
    """``text`` as a label value: at most 63 characters of alphanumerics, ``-``, ``_``, ``.``, alphanumeric at both
    ends (a longer text keeps its end, where a task's name is most specific)."""
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", text)[-63:]
    return value.strip("-_.")


def build_pod(
    template: Any,
    *,
    name: str,
    args: list[str],
    env: dict[str, str],
    options: PodOptions,
    execution: str,
    attempt: int,
    timeout_seconds: int | None = None,
) -> dict[str, Any]:
    """The Pod manifest (a dict in Kubernetes' JSON form) that runs ``template`` once.

    ``args`` is the primary container's command line with the placeholders filled; ``env`` the execution's
    variables, added to the template's (the template's own win on a clash, as flytekit's ``environment`` does);
    ``timeout_seconds`` becomes ``activeDeadlineSeconds``. See the module's docs for the rest.
    """
    k8s_pod = template.k8s_pod
    if k8s_pod is not None:
        spec = copy.deepcopy(k8s_pod.pod_spec)
        primary_name = k8s_pod.primary_container_name or template.config.get("primary_container_name") or "primary"
        primary = next(item for item in spec["containers"] if item.get("name") == primary_name)
        pod_metadata = k8s_pod.metadata
    else:
        container = template.container
        primary = {"name": _DEFAULT_PRIMARY, "image": container.image}
        environment = [{"name": pair.key, "value": pair.value} for pair in container.env]
        if environment:
            primary["env"] = environment
        resources = _resources(container.resources)
        if resources:
            primary["resources"] = resources
        spec = {"containers": [primary]}
        pod_metadata = None
    primary["args"] = list(args)
    command = template_command(template)
    if command:
        primary["command"] = list(command)
    _fill_limits(primary)
    present = {item.get("name") for item in primary.get("env", [])}
    primary["env"] = primary.get("env", []) + [
        {"name": key, "value": value} for key, value in env.items() if key not in present
    ]
    if options.image_pull_policy:
        primary["imagePullPolicy"] = options.image_pull_policy
    _add_secrets(spec, primary, template.security_context)
    _add_extended_resources(spec, primary, template.extended_resources)
    spec["restartPolicy"] = "Never"
    if timeout_seconds is not None:
        spec["activeDeadlineSeconds"] = max(1, int(timeout_seconds))
    run_as = template.security_context.run_as if template.security_context is not None else None
    account = (run_as.k8s_service_account if run_as is not None else "") or options.service_account
    if account and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = account
    if template.metadata.interruptible:
        if options.interruptible_tolerations:
            spec["tolerations"] = [*spec.get("tolerations", []), *map(dict, options.interruptible_tolerations)]
        if options.interruptible_node_selector:
            spec["nodeSelector"] = {**spec.get("nodeSelector", {}), **options.interruptible_node_selector}

    labels: dict[str, str] = {**options.labels}
    annotations: dict[str, str] = {**options.annotations}
    for metadata in (template.metadata.metadata, pod_metadata):
        if metadata is not None:
            labels.update(metadata.labels)
            annotations.update(metadata.annotations)
    labels.update(
        {
            MANAGED_BY: "taskloom",
            EXECUTION_LABEL: label_value(execution),
            TASK_LABEL: label_value(template.id.name),
            ATTEMPT_LABEL: str(attempt),
        }
    )
    annotations[TASK_ANNOTATION] = template.id.name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": options.namespace, "labels": labels, "annotations": annotations},
        "spec": spec,
    }


def template_command(template: Any) -> tuple[str, ...]:
    """The template's container command (empty for flytekit-style templates, whose command line is all args)."""
    container = template.container
    return tuple(container.command) if container is not None else ()


def primary_container(pod: dict[str, Any], template: Any) -> dict[str, Any]:
    """The container of ``pod`` that runs the task."""
    k8s_pod = template.k8s_pod
    wanted = (k8s_pod.primary_container_name if k8s_pod is not None else "") or _DEFAULT_PRIMARY
    return next(item for item in pod["spec"]["containers"] if item.get("name") == wanted)


def _resources(resources: Any) -> dict[str, dict[str, str]]:
    if resources is None:
        return {}
    result: dict[str, dict[str, str]] = {}
    for kind, entries in (("requests", resources.requests), ("limits", resources.limits)):
        if entries:
            result[kind] = {
                _RESOURCE_NAMES.get(entry.name.name, entry.name.name.lower()): entry.value for entry in entries
            }
    return result


def _fill_limits(container: dict[str, Any]) -> None:
    # FlytePropeller gives a resource requested without a limit its request as the limit (guaranteed QoS), which
    # Kubernetes requires of extended resources such as nvidia.com/gpu (their request must equal their limit).
    resources = container.get("resources")
    if not resources or not resources.get("requests"):
        return
    limits = resources.setdefault("limits", {})
    for resource, amount in resources["requests"].items():
        limits.setdefault(resource, amount)


def _secret_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _add_secrets(spec: dict[str, Any], primary: dict[str, Any], security_context: Any) -> None:
    secrets = security_context.secrets if security_context is not None else ()
    if not secrets:
        return
    files: dict[str, list[dict[str, str]]] = {}
    for secret in secrets:
        mount = secret.mount_requirement.name
        if mount == "FILE":
            if not secret.key:
                files.setdefault(secret.group, [])
            else:
                files.setdefault(secret.group, []).append({"key": secret.key, "path": secret.key.lower()})
            continue
        variable = secret.env_var or f"{SECRETS_ENV_PREFIX}{_secret_part(secret.group)}_{_secret_part(secret.key)}"
        selector = {"name": secret.group, "key": secret.key or secret.group}
        primary.setdefault("env", []).append({"name": variable.upper(), "valueFrom": {"secretKeyRef": selector}})
    if not files:
        return
    mounts = primary.setdefault("volumeMounts", [])
    volumes = spec.setdefault("volumes", [])
    for index, (group, items) in enumerate(sorted(files.items())):
        volume = f"taskloom-secret-{index}"
        source: dict[str, Any] = {"secretName": group}
        if items:
            source["items"] = items
        volumes.append({"name": volume, "secret": source})
        mounts.append({"name": volume, "mountPath": f"{SECRETS_DIRECTORY}/{group.lower()}", "readOnly": True})
    primary["env"].append({"name": "FLYTE_SECRETS_DEFAULT_DIR", "value": SECRETS_DIRECTORY})


def _add_extended_resources(spec: dict[str, Any], primary: dict[str, Any], extended: Any) -> None:
    if extended is None:
        return
    accelerator = extended.gpu_accelerator
    if accelerator is not None and accelerator.device:
        expressions = [{"key": ACCELERATOR_LABEL, "operator": "In", "values": [accelerator.device]}]
        if accelerator.partition_size:
            expressions.append({"key": PARTITION_LABEL, "operator": "In", "values": [accelerator.partition_size]})
        elif accelerator.unpartitioned:
            expressions.append({"key": PARTITION_LABEL, "operator": "DoesNotExist"})
        affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        required = affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {"nodeSelectorTerms": []})
        terms = required.setdefault("nodeSelectorTerms", [])
        if terms:  # every term of the pod template's must also ask for the accelerator
            for term in terms:
                term.setdefault("matchExpressions", []).extend(copy.deepcopy(expressions))
        else:
            terms.append({"matchExpressions": expressions})
    memory = extended.shared_memory
    if memory is not None:
        volume: dict[str, Any] = {"medium": "Memory"}
        if memory.size_limit:
            volume["sizeLimit"] = memory.size_limit
        spec.setdefault("volumes", []).append({"name": memory.mount_name, "emptyDir": volume})
        primary.setdefault("volumeMounts", []).append({"name": memory.mount_name, "mountPath": memory.mount_path})


def _dns_label(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower())


#: The container names of a cluster's PodTemplate that FlytePropeller reads as defaults rather than containers:
#: ``default`` for every container of the Pod, ``primary`` for the task's.
DEFAULT_CONTAINER = "default"
PRIMARY_CONTAINER = "primary"


def with_base_template(pod: dict[str, Any], base: dict[str, Any], primary_name: str) -> dict[str, Any]:
    """``pod`` over the cluster's PodTemplate ``base`` (its ``template``: metadata and spec), as FlytePropeller
    applies ``pod_template_name``: the task's Pod wins wherever it sets a value; the base's containers named
    ``default`` and ``primary`` give defaults to every container and to the primary one, and are not added;
    lists of named items (env, volumes, ports) merge by name, other lists are replaced. A new dict."""
    spec = copy.deepcopy(base.get("spec") or {})
    base_containers = {item.get("name"): item for item in spec.pop("containers", []) or []}
    default = base_containers.pop(DEFAULT_CONTAINER, {})
    primary_default = _merge(default, base_containers.pop(PRIMARY_CONTAINER, {}))
    merged = copy.deepcopy(pod)
    own = merged["spec"]
    containers = []
    for container in own.get("containers", []):
        defaults = primary_default if container.get("name") == primary_name else default
        containers.append(_merge({key: value for key, value in defaults.items() if key != "name"}, container))
    own_rest = {key: value for key, value in own.items() if key != "containers"}
    merged["spec"] = {**_merge(spec, own_rest), "containers": list(base_containers.values()) + containers}
    metadata = base.get("metadata") or {}
    for key in ("labels", "annotations"):
        if metadata.get(key):
            merged["metadata"][key] = {**metadata[key], **merged["metadata"].get(key, {})}
    return merged


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        result = copy.deepcopy(base)
        for key, value in override.items():
            result[key] = _merge(result.get(key), value) if key in result else copy.deepcopy(value)
        return result
    named = isinstance(base, list) and isinstance(override, list)
    if named and all(isinstance(item, dict) and "name" in item for item in [*base, *override]):
        by_name = {item["name"]: copy.deepcopy(item) for item in base}
        for item in override:
            by_name[item["name"]] = _merge(by_name.get(item["name"], {}), item)
        return list(by_name.values())
    return copy.deepcopy(override)
