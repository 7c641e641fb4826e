"""The settings of the executor ``kubernetes`` and where they come from: ``loom run``'s options set these
environment variables (through :func:`taskloom.extend.run_option`), which the Python API and worker processes
read as well. Cheap to import: the hooks read it for every run.
"""

from __future__ import annotations

import json
import os
from typing import Any

#: ``--namespace``: the namespace the Pods go to (default: the kubeconfig context's, else ``default``).
#: The executor name this plugin answers for, with a pool made from these variables.
DEFAULT_NAME = "kubernetes"
NAMESPACE_ENV = "TASKLOOM_K8S_NAMESPACE"
#: ``--image``: the image of tasks that name no ``container_image``.
IMAGE_ENV = "TASKLOOM_K8S_IMAGE"
#: ``--keep-pods``: leave finished Pods in the cluster (default: deleted).
KEEP_PODS_ENV = "TASKLOOM_K8S_KEEP_PODS"
#: ``--kube-context``: the kubeconfig context (default: its current context).
KUBECONFIG_CONTEXT_ENV = "TASKLOOM_K8S_CONTEXT"
#: ``--image-pull-policy``: Always, IfNotPresent or Never (default: Kubernetes').
IMAGE_PULL_POLICY_ENV = "TASKLOOM_K8S_IMAGE_PULL_POLICY"
#: ``--service-account``: the service account of tasks whose security context names none.
SERVICE_ACCOUNT_ENV = "TASKLOOM_K8S_SERVICE_ACCOUNT"
#: Seconds a Pod may stay Pending before its attempt fails (default 300).
PENDING_TIMEOUT_ENV = "TASKLOOM_K8S_PENDING_TIMEOUT"
#: JSON: the tolerations (a list) and node selector (an object) of interruptible tasks' Pods.
INTERRUPTIBLE_TOLERATIONS_ENV = "TASKLOOM_K8S_INTERRUPTIBLE_TOLERATIONS"
INTERRUPTIBLE_NODE_SELECTOR_ENV = "TASKLOOM_K8S_INTERRUPTIBLE_NODE_SELECTOR"
#: JSON objects: labels and annotations of every Pod.
LABELS_ENV = "TASKLOOM_K8S_LABELS"
ANNOTATIONS_ENV = "TASKLOOM_K8S_ANNOTATIONS"
#: How many Pods run at once (default :data:`DEFAULT_SIZE`).
PARALLELISM_ENV = "TASKLOOM_K8S_PARALLELISM"
DEFAULT_SIZE = 16

#: Every variable that changes what the default pool is (a change makes a new one).
SETTINGS = (
    NAMESPACE_ENV,
    IMAGE_ENV,
    KEEP_PODS_ENV,
    KUBECONFIG_CONTEXT_ENV,
    IMAGE_PULL_POLICY_ENV,
    SERVICE_ACCOUNT_ENV,
    PENDING_TIMEOUT_ENV,
    INTERRUPTIBLE_TOLERATIONS_ENV,
    INTERRUPTIBLE_NODE_SELECTOR_ENV,
    LABELS_ENV,
    ANNOTATIONS_ENV,
    PARALLELISM_ENV,
    "KUBECONFIG",
)


def _json(name: str, kind: type) -> Any:
    text = os.environ.get(name, "").strip()
    if not text:
        return kind()
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"${name} expects a JSON {kind.__name__}, got {text!r}: {error}") from None
    if not isinstance(value, kind):
        raise ValueError(f"${name} expects a JSON {kind.__name__}, got {type(value).__name__} {text!r}")
    return value


def pod_options_from_environment() -> Any:
    """The :class:`~taskloom_kubernetes.pod.PodOptions` the variables above describe."""
    from taskloom_kubernetes.pod import PodOptions

    return PodOptions(
        namespace=os.environ.get(NAMESPACE_ENV) or "default",
        image_pull_policy=os.environ.get(IMAGE_PULL_POLICY_ENV, ""),
        service_account=os.environ.get(SERVICE_ACCOUNT_ENV, ""),
        labels=_json(LABELS_ENV, dict),
        annotations=_json(ANNOTATIONS_ENV, dict),
        interruptible_tolerations=tuple(_json(INTERRUPTIBLE_TOLERATIONS_ENV, list)),
        interruptible_node_selector=_json(INTERRUPTIBLE_NODE_SELECTOR_ENV, dict),
    )
