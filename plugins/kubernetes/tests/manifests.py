"""Kubernetes' official schema for the tests: every error of a manifest, not only the first one."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

#: The newest Kubernetes version whose schema kubernetes-validate bundles.
VERSION = kubernetes_validate.latest_version()


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    """Every way ``manifest`` breaks the strict schema of :data:`VERSION` (unknown fields are errors too), as
    ``path: message`` lines; empty when it is valid. kubernetes_validate.validate stops at the first error: its
    schema, with a validator that lists them all."""
    directory = f"kubernetes-json-schema/v{VERSION}-local-strict"
    group = manifest["apiVersion"].replace("/", "-")
    schema = schema_contents(f"{directory}/{manifest['kind'].lower()}-{group}.json", VERSION)
    definitions = schema_contents(f"{directory}/_definitions.json", VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda error: list(map(str, error.absolute_path)))
    ]


def assert_valid(manifest: dict[str, Any]) -> None:
    errors = schema_errors(manifest)
    assert not errors, f"{manifest['metadata'].get('name')} breaks the Kubernetes {VERSION} schema:\n" + "\n".join(
        errors
    )


#: A cluster's PodTemplate (its `template`): defaults for every container and the primary one, a sidecar, a
#: toleration and a service account.
BASE = {
    "metadata": {"labels": {"tier": "gpu", "team": "base"}},
    "spec": {
        "containers": [
            {"name": "default", "env": [{"name": "FROM_BASE", "value": "1"}, {"name": "MODE", "value": "base"}]},
            {"name": "primary", "resources": {"limits": {"memory": "8Gi"}}},
            {"name": "log-shipper", "image": "fluent-bit:3"},
        ],
        "tolerations": [{"key": "gpu", "operator": "Exists"}],
        "serviceAccountName": "base-account",
    },
}
