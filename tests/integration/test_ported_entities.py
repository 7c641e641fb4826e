"""flytekit's remaining entities as ported programs write them (issue 21, point 3): ``Echo``,
``LaunchPlan.get_default_launch_plan``, ``get_reference_entity`` and ``PodTemplate``.
"""

from __future__ import annotations

import textwrap

import pytest

from taskloom import LaunchPlan, SerializationSettings, get_reference_entity, kwtypes, task, workflow
from taskloom.core.reference_entity import (
    ReferenceLaunchPlan,
    ReferenceNotRunnableError,
    ReferenceTask,
    ReferenceWorkflow,
)
from taskloom.core.task import Echo
from taskloom.exceptions.user import ValidationError
from taskloom.models.identifier import Identifier, ResourceType
from tests.kernel.distributions import run_loom

SETTINGS = SerializationSettings(project="mine", domain="development", version="v1")

# --- Echo ----------------------------------------------------------------------------------------

ECHO_PROGRAM = """
from taskloom import kwtypes, task, workflow
from taskloom.core.task import Echo

passthrough = Echo(name="passthrough", inputs=kwtypes(a=int, b=str))
single = Echo(name="single", inputs=kwtypes(x=list[int]))


@task
def add_one(a: int) -> int:
    return a + 1


@workflow
def echoed(a: int, b: str) -> tuple[int, str, list[int]]:
    x, y = passthrough(a=add_one(a=a), b=b)
    return x, y, single(x=[x, x])
"""


def test_echo_returns_its_inputs_in_a_workflow_run_locally(tmp_path):
    (tmp_path / "echo_flows.py").write_text(ECHO_PROGRAM)
    import importlib.util

    spec = importlib.util.spec_from_file_location("echo_flows", tmp_path / "echo_flows.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.echoed(a=1, b="hi") == (2, "hi", [2, 2])
    assert module.passthrough(a=3, b="x") == (3, "x")
    assert module.single(x=[1]) == [1]


def test_echo_runs_through_the_process_pool(tmp_path):
    flows = tmp_path / "echo_flows.py"
    flows.write_text(ECHO_PROGRAM)
    done = run_loom(["run", "--processes", "2", str(flows), "echoed", "--a", "4", "--b", "yes"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["o0: 5", "o1: yes", "o2: [5, 5]"]


def test_echo_outputs_mirror_its_inputs_by_position():
    echo = Echo(name="mirror", inputs=kwtypes(first=float, second=dict[str, int]))
    assert echo.python_interface.outputs == {"o0": float, "o1": dict[str, int]}
    assert echo.task_type == "echo"


def test_echo_is_packaged_as_an_echo_task_without_a_container():
    template = Echo(name="mirror", inputs=kwtypes(a=int)).to_task_template(SETTINGS)
    assert template.type == "echo"
    assert template.container is None and template.k8s_pod is None
    assert list(template.interface.outputs.variables) == ["o0"]


def test_echo_checks_its_input_types_when_declared():
    with pytest.raises(TypeError, match="mirror"):
        Echo(name="mirror", inputs=kwtypes(a=object))


# --- LaunchPlan.get_default_launch_plan ----------------------------------------------------------


@task
def square(x: int) -> int:
    return x * x


@workflow
def squared(x: int = 3) -> int:
    return square(x=x)


def test_get_default_launch_plan_is_the_plan_get_or_create_gives_once_for_all_calls():
    plan = LaunchPlan.get_default_launch_plan(object(), squared)  # flytekit passes its context; any value does
    assert plan is LaunchPlan.get_default_launch_plan(None, squared)
    assert plan is LaunchPlan.get_or_create(squared)
    assert plan.name == squared.name
    assert plan() == 9 and plan(x=4) == 16


# --- get_reference_entity ------------------------------------------------------------------------


@task
def shout(text: str) -> str:
    return text.upper()


@pytest.mark.parametrize(
    "resource_type, kind, field",
    [
        (ResourceType.TASK, ReferenceTask, "task_node"),
        (ResourceType.WORKFLOW, ReferenceWorkflow, "workflow_node"),
        (3, ReferenceLaunchPlan, "workflow_node"),  # flytekit's ResourceType constants are these numbers
    ],
)
def test_get_reference_entity_gives_the_reference_of_the_resource_type(resource_type, kind, field):
    reference = get_reference_entity(
        resource_type, "shared", "production", "core.count", "v7", inputs=kwtypes(text=str), outputs={"n": int}
    )
    assert type(reference) is kind
    assert reference.python_interface.inputs == {"text": str}
    assert reference.python_interface.outputs == {"n": int}

    @workflow
    def counts(text: str) -> int:
        return reference(text=shout(text=text))

    node = {node.id: node for node in counts.to_workflow_template(SETTINGS).nodes}["n1"]
    identifier = Identifier(
        resource_type=ResourceType(getattr(resource_type, "value", resource_type)),
        project="shared",
        domain="production",
        name="core.count",
        version="v7",
    )
    if field == "task_node":
        assert node.task_node.reference_id == identifier
    elif kind is ReferenceWorkflow:
        assert node.workflow_node.sub_workflow_ref == identifier
    else:
        assert node.workflow_node.launchplan_ref == identifier
    with pytest.raises(ReferenceNotRunnableError, match="core.count"):
        counts(text="a")


def test_flytekits_reference_constructor_with_inputs_and_outputs_is_accepted():
    reference = ReferenceTask("shared", "production", "core.pair", "v1", {"a": int, "b": str}, {"o0": str})
    assert reference.reference.name == "core.pair"
    assert reference.python_interface.inputs == {"a": int, "b": str}
    assert reference.docs is None


def test_get_reference_entity_refuses_another_resource_type():
    with pytest.raises(ValidationError, match="resource_type expects TASK"):
        get_reference_entity(ResourceType.DATASET, "p", "d", "n", "v", inputs={}, outputs={})


def test_a_ported_program_with_get_reference_entity_packages_under_loom(tmp_path):
    flows = tmp_path / "refs.py"
    flows.write_text(
        textwrap.dedent(
            """
            from taskloom import get_reference_entity, kwtypes, workflow
            from taskloom.models.core import identifier as _identifier_model

            other = get_reference_entity(
                _identifier_model.ResourceType.WORKFLOW, "project", "dev", "my.other.workflow", "abc123",
                inputs=kwtypes(a=str, b=int), outputs={},
            )

            @workflow
            def calls_other(a: str, b: int) -> None:
                other(a=a, b=b)
            """
        )
    )
    done = run_loom(["run", str(flows), "calls_other", "--a", "x", "--b", "1"])
    assert done.returncode != 0
    assert "my.other.workflow" in done.stderr and "no local implementation" in done.stderr


# --- PodTemplate ---------------------------------------------------------------------------------
# What flytekit 1.16 writes for a task with PodTemplate(pod_spec=..., primary_container_name="main",
# labels=..., annotations=...), read from its package: the primary container's name in the template's
# config (FlytePropeller looks it up there), labels and annotations on the pod, the pod spec in
# Kubernetes' JSON form with the task's image and resources in the primary container.


def test_a_pod_template_names_the_primary_container_and_labels_the_pod_as_flytekit_does():
    from taskloom import PodTemplate, Resources

    template = PodTemplate(
        pod_spec={
            "containers": [{"name": "main"}, {"name": "sidecar", "image": "envoy"}],
            "nodeSelector": {"gpu": "yes"},
        },
        primary_container_name="main",
        labels={"team": "a"},
        annotations={"note": "b"},
    )

    @task(pod_template=template, requests=Resources(mem="1Gi"))
    def in_pod(x: int) -> int:
        return x

    assert in_pod.pod_template is template
    assert in_pod(x=2) == 2  # locally the pod changes nothing
    packaged = in_pod.to_task_template(SETTINGS)
    assert packaged.container is None
    assert packaged.config == {"primary_container_name": "main"}
    pod = packaged.k8s_pod
    assert pod.metadata.labels == {"team": "a"} and pod.metadata.annotations == {"note": "b"}
    assert pod.primary_container_name == "main"
    main, sidecar = pod.pod_spec["containers"]
    assert main["name"] == "main" and main["image"] == SETTINGS.default_image
    assert main["resources"] == {"requests": {"memory": "1Gi"}}
    assert sidecar == {"name": "sidecar", "image": "envoy"}
    assert pod.pod_spec["nodeSelector"] == {"gpu": "yes"}


def test_a_pod_template_without_a_spec_adds_the_primary_container_to_an_empty_pod():
    from taskloom import PodTemplate

    @task(pod_template=PodTemplate(labels={"team": "a"}))
    def labelled(x: int) -> int:
        return x

    pod = labelled.to_task_template(SETTINGS).k8s_pod
    assert [container["name"] for container in pod.pod_spec["containers"]] == ["primary"]
    assert pod.metadata.labels == {"team": "a"} and pod.metadata.annotations == {}


def test_a_pod_template_needs_a_primary_container_name():
    from taskloom import PodTemplate

    with pytest.raises(ValidationError, match="primary container name cannot be empty"):
        PodTemplate(primary_container_name="")


def test_with_overrides_takes_a_pod_template_for_one_node():
    from taskloom import PodTemplate

    @workflow
    def overridden(x: int) -> int:
        return square(x=x).with_overrides(
            pod_template=PodTemplate(pod_spec={"containers": [{"name": "gpu"}]}, primary_container_name="gpu")
        )

    node = overridden.to_workflow_template(SETTINGS).nodes[0]
    pod = node.task_node.overrides.pod_template
    assert pod.primary_container_name == "gpu" and pod.pod_spec == {"containers": [{"name": "gpu"}]}
    assert overridden(x=3) == 9


def test_a_kubernetes_pod_spec_is_written_in_its_json_form():
    # kubernetes' models say `node_selector` in Python and `nodeSelector` in JSON; flytekit writes the latter.
    from kubernetes import client  # a test requirement (dev/install.py)

    from taskloom import PodTemplate

    spec = client.V1PodSpec(
        containers=[client.V1Container(name="main", env=[client.V1EnvVar(name="MODE", value="pod")])],
        node_selector={"gpu": "yes"},
        tolerations=[client.V1Toleration(key="k", operator="Exists")],
    )

    @task(pod_template=PodTemplate(pod_spec=spec, primary_container_name="main"))
    def in_pod(x: int) -> int:
        return x

    pod_spec = in_pod.to_task_template(SETTINGS).k8s_pod.pod_spec
    assert pod_spec["nodeSelector"] == {"gpu": "yes"}
    assert pod_spec["tolerations"] == [{"key": "k", "operator": "Exists"}]
    assert pod_spec["containers"][0]["env"][0] == {"name": "MODE", "value": "pod"}
