"""The Pod built from a task's template (issue 26, point 2), each manifest validated against Kubernetes' official
schema (point 4a): the newest version kubernetes-validate bundles, strict, every error reported."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from plugins.kubernetes.tests.manifests import BASE, assert_valid, schema_errors
from taskloom import PodTemplate, Resources, Secret, task
from taskloom.extend import SerializationSettings

from taskloom_kubernetes.pod import PodOptions, build_pod, label_value, pod_name, primary_container, with_base_template

SETTINGS = SerializationSettings(project="p", domain="d", version="v", default_image="registry/flows:1")
ENV = {"FLYTE_INTERNAL_EXECUTION_ID": "e1", "FLYTE_ATTEMPT_NUMBER": "0"}


def pod_of(entity: Any, options: PodOptions | None = None, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    template = entity.to_task_template(SETTINGS)
    arguments: dict[str, Any] = {
        "name": pod_name("e1", entity.name, "n0", 0),
        "args": ["loom-execute", "--inputs", "s3://b/in.pb"],
        "env": ENV,
        "options": options or PodOptions(namespace="flows"),
        "execution": "e1",
        "attempt": 0,
    }
    arguments.update(overrides)
    pod = build_pod(template, **arguments)
    assert_valid(pod)
    return pod, primary_container(pod, template)


@task(
    requests=Resources(cpu="500m", mem="1Gi", gpu="1", ephemeral_storage="2Gi"),
    limits=Resources(cpu="2", mem="2Gi"),
    environment={"MODE": "fast"},
    timeout=dt.timedelta(minutes=5),
)
def heavy(x: int) -> int:
    return x


def test_requests_and_limits_with_a_gpu_get_kubernetes_names_and_a_limit_for_every_request() -> None:
    pod, primary = pod_of(heavy, timeout_seconds=300)
    assert primary["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "1", "ephemeral-storage": "2Gi"},
        "limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1", "ephemeral-storage": "2Gi"},
    }
    assert primary["image"] == "registry/flows:1"
    assert primary["args"] == ["loom-execute", "--inputs", "s3://b/in.pb"]
    assert {"name": "MODE", "value": "fast"} in primary["env"]
    assert {"name": "FLYTE_INTERNAL_EXECUTION_ID", "value": "e1"} in primary["env"]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["activeDeadlineSeconds"] == 300
    assert pod["metadata"]["namespace"] == "flows"


@task(accelerator="nvidia-tesla-a100", requests=Resources(gpu="1"))
def on_a100(x: int) -> int:
    return x


def test_an_accelerator_is_a_required_node_affinity_on_flytes_label() -> None:
    pod, _ = pod_of(on_a100)
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {
            "matchExpressions": [
                {"key": "k8s.amazonaws.com/accelerator", "operator": "In", "values": ["nvidia-tesla-a100"]}
            ]
        }
    ]


SIDECAR_SPEC = {
    "containers": [
        {"name": "main", "env": [{"name": "MODE", "value": "from-template"}], "resources": {"limits": {"cpu": "4"}}},
        {"name": "proxy", "image": "envoy:1", "ports": [{"containerPort": 9901}]},
    ],
    "nodeSelector": {"pool": "batch"},
    "tolerations": [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}],
    "volumes": [{"name": "scratch", "emptyDir": {}}],
}


@task(
    pod_template=PodTemplate(
        pod_spec=SIDECAR_SPEC, primary_container_name="main", labels={"team": "data"}, annotations={"owner": "ana"}
    ),
    environment={"MODE": "from-task", "EXTRA": "1"},
    requests=Resources(cpu="1"),
)
def with_sidecar(x: int) -> int:
    return x


def test_a_pod_template_is_merged_with_the_primary_container_its_own_values_winning() -> None:
    pod, primary = pod_of(with_sidecar)
    assert [container["name"] for container in pod["spec"]["containers"]] == ["main", "proxy"]
    assert primary["image"] == "registry/flows:1"
    env = {item["name"]: item.get("value") for item in primary["env"]}
    assert env["MODE"] == "from-template" and env["EXTRA"] == "1"
    assert primary["resources"] == {"limits": {"cpu": "4"}, "requests": {"cpu": "1"}}
    assert pod["spec"]["nodeSelector"] == {"pool": "batch"}
    assert pod["spec"]["volumes"] == [{"name": "scratch", "emptyDir": {}}]
    assert pod["metadata"]["labels"]["team"] == "data"
    assert pod["metadata"]["annotations"]["owner"] == "ana"


@task(
    secret_requests=[
        Secret(group="db", key="password", mount_requirement=Secret.MountType.ENV_VAR),
        Secret(group="tls", key="cert.pem", mount_requirement=Secret.MountType.FILE),
    ]
)
def with_secrets(x: int) -> int:
    return x


def test_secrets_become_variables_and_files_where_the_secrets_manager_reads_them() -> None:
    pod, primary = pod_of(with_secrets)
    env = {item["name"]: item for item in primary["env"]}
    assert env["_FSEC_DB_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    assert env["FLYTE_SECRETS_DEFAULT_DIR"]["value"] == "/etc/flyte/secrets"
    (volume,) = pod["spec"]["volumes"]
    assert volume["secret"] == {"secretName": "tls", "items": [{"key": "cert.pem", "path": "cert.pem"}]}
    assert primary["volumeMounts"] == [
        {"name": volume["name"], "mountPath": "/etc/flyte/secrets/tls", "readOnly": True}
    ]


@task(interruptible=True)
def spot(x: int) -> int:
    return x


@task
def steady(x: int) -> int:
    return x


SPOT = PodOptions(
    namespace="flows",
    interruptible_tolerations=({"key": "spot", "operator": "Equal", "value": "yes", "effect": "NoSchedule"},),
    interruptible_node_selector={"lifecycle": "spot"},
    labels={"cost-center": "42"},
    annotations={"note": "nightly"},
    image_pull_policy="IfNotPresent",
    service_account="flows-runner",
)


def test_interruptible_tasks_get_the_configured_tolerations_and_node_selector_and_others_do_not() -> None:
    pod, _ = pod_of(spot, SPOT)
    assert pod["spec"]["tolerations"] == [{"key": "spot", "operator": "Equal", "value": "yes", "effect": "NoSchedule"}]
    assert pod["spec"]["nodeSelector"] == {"lifecycle": "spot"}
    other, _ = pod_of(steady, SPOT)
    assert "tolerations" not in other["spec"] and "nodeSelector" not in other["spec"]


def test_options_give_labels_annotations_service_account_and_pull_policy() -> None:
    pod, primary = pod_of(steady, SPOT)
    assert pod["metadata"]["labels"]["cost-center"] == "42"
    assert pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "taskloom"
    assert pod["metadata"]["labels"]["taskloom.io/task"].endswith("steady")
    assert pod["metadata"]["annotations"]["note"] == "nightly"
    assert pod["spec"]["serviceAccountName"] == "flows-runner"
    assert primary["imagePullPolicy"] == "IfNotPresent"


@pytest.mark.parametrize(
    ("execution", "task_name"),
    [("e1", "a.b.c"), ("x" * 300, "Some_Module.Task_With_CAPS_" + "y" * 200), ("run:2026/12", "m.__weird__")],
)
def test_pod_names_and_label_values_are_what_kubernetes_accepts(execution: str, task_name: str) -> None:
    name = pod_name(execution, task_name, "node", 3)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"l": label_value(execution), "t": label_value(task_name)}},
        "spec": {"containers": [{"name": "primary", "image": "i"}]},
    }
    assert_valid(pod)

    assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
    for value in pod["metadata"]["labels"].values():
        assert len(value) <= 63 and re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", value)


def test_the_schema_check_reports_every_error_of_a_broken_manifest() -> None:
    pod, _ = pod_of(steady)
    pod["spec"]["containers"][0]["resourcez"] = {}
    pod["spec"]["restartPolicy"] = 3
    errors = schema_errors(pod)
    assert len(errors) == 2, errors


@task(pod_template_name="gpu-base", environment={"MODE": "task"}, requests=Resources(cpu="1"))
def on_base(x: int) -> int:
    return x


def test_a_clusters_pod_template_is_the_base_the_tasks_pod_wins_over() -> None:
    pod, _ = pod_of(on_base)
    merged = with_base_template(pod, BASE, "primary")
    assert_valid(merged)
    names = [container["name"] for container in merged["spec"]["containers"]]
    assert names == ["log-shipper", "primary"]  # `default` and `primary` are defaults, not containers
    primary = merged["spec"]["containers"][1]
    env = {item["name"]: item.get("value") for item in primary["env"]}
    assert env["FROM_BASE"] == "1" and env["MODE"] == "task"
    assert primary["resources"] == {"requests": {"cpu": "1"}, "limits": {"cpu": "1", "memory": "8Gi"}}
    assert merged["spec"]["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert merged["spec"]["serviceAccountName"] == "base-account"
    assert merged["spec"]["restartPolicy"] == "Never"
    assert merged["metadata"]["labels"]["tier"] == "gpu"
    assert merged["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "taskloom"
