"""`@task`: options carried into the template, calls outside a workflow, errors naming the task."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import typing

import pytest

from taskloom import (
    Cache,
    PythonFunctionTask,
    PythonInstanceTask,
    Resources,
    Secret,
    SerializationSettings,
    TaskMetadata,
    task,
    workflow,
)
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError, ValidationError
from taskloom.hookspecs import hookimpl
from taskloom.models import task as task_models
from taskloom.models.converter import from_json, to_json
from taskloom.models.types import LiteralType, SimpleType

SETTINGS = SerializationSettings(project="flows", domain="development", version="v1", default_image="python:3.11")


@task
def add(a: int, b: int = 2) -> int:
    """Add two numbers."""
    return a + b


class Split(typing.NamedTuple):
    head: int
    tail: list[int]


@task
def split(rows: list[int]) -> Split:
    return Split(rows[0], rows[1:])


@task
def pair(x: int) -> tuple[int, str]:
    return x, str(x)


@task
def nothing(x: int) -> None:
    return None


def test_a_task_called_outside_a_workflow_runs_its_function_with_positional_keyword_and_default_arguments():
    assert add(1) == 3
    assert add(1, 5) == 6
    assert add(b=10, a=1) == 11


def test_named_tuple_and_tuple_outputs_come_back_as_returned():
    assert split([1, 2, 3]) == Split(1, [2, 3])
    assert pair(4) == (4, "4")
    assert nothing(1) is None


def test_the_interface_comes_from_the_signature():
    assert add.python_interface.inputs == {"a": int, "b": int}
    assert add.python_interface.default_inputs_as_kwargs == {"b": 2}
    assert list(split.interface.outputs.variables) == ["head", "tail"]
    assert add.interface.inputs.variables["a"].type == LiteralType(simple=SimpleType.INTEGER)
    assert add.name == f"{__name__}.add" and add.task_type == "python-task"
    assert add.docs == "Add two numbers."


def test_a_wrong_typed_input_names_the_task_the_input_expected_and_got():
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*add': input 'a' expects int, got str 'x'"):
        add("x")


def test_a_missing_input_names_the_task_and_the_input():
    @task
    def needs(rows: list[int]) -> int:
        return len(rows)

    with pytest.raises(TypeTransformerFailedError, match=r"task '.*needs': input 'rows' \(list\[int\]\) is missing"):
        needs()


def test_unexpected_and_duplicated_inputs_are_errors():
    with pytest.raises(TypeTransformerFailedError, match="got an unexpected input 'c'"):
        add(1, c=3)
    with pytest.raises(TypeTransformerFailedError, match="input 'a' given twice"):
        add(1, a=2)
    with pytest.raises(TypeTransformerFailedError, match="takes 2 inputs"):
        add(1, 2, 3)


def test_a_wrong_return_type_names_the_output():
    @task
    def liar(x: int) -> int:
        return str(x)

    with pytest.raises(TypeTransformerFailedError, match=r"task '.*liar': output 'o0' expects int, got str '1'"):
        liar(1)


def test_a_wrong_number_of_outputs_is_an_error():
    @task
    def short(x: int) -> tuple[int, int]:
        return (x,)

    with pytest.raises(TypeTransformerFailedError, match=r"declares 2 outputs \[.o0., .o1.\], got tuple \(1,\)"):
        short(1)


def test_returning_a_value_from_a_task_without_outputs_is_an_error():
    @task
    def chatty(x: int) -> None:
        return x

    with pytest.raises(TypeTransformerFailedError, match="declares no outputs, got int 1"):
        chatty(1)


def test_a_failing_task_raises_its_own_exception_with_the_task_named():
    class Boom(RuntimeError):
        pass

    @task
    def explode(x: int) -> int:
        raise Boom(f"bad {x}")

    with pytest.raises(Boom, match="bad 3") as caught:
        explode(3)
    assert any("explode" in note for note in caught.value.__notes__)


class Opaque:
    pass


def test_an_unsupported_annotation_fails_at_decoration():
    with pytest.raises(UnsupportedTypeError, match=r"input 'thing' has type .*Opaque"):

        @task
        def use(thing: Opaque) -> int:
            return 1


def test_async_tasks_run_to_completion_from_sync_code_and_are_awaitable_in_a_loop():
    @task
    async def slow_double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    assert slow_double(2) == 4

    async def main():
        return await slow_double(5)

    assert asyncio.run(main()) == 10


def test_every_option_is_carried_into_the_task_template():
    @task(
        cache=True,
        cache_version="7",
        cache_serialize=True,
        cache_ignore_input_vars=("seed",),
        retries=3,
        timeout=dt.timedelta(minutes=5),
        interruptible=True,
        deprecated="use train_v2",
        requests=Resources(cpu="1", mem="1Gi"),
        limits=Resources(cpu="2", mem="2Gi"),
        accelerator="nvidia-tesla-t4",
        secret_requests=[Secret(group="db", key="password")],
        container_image="registry.local/train:1",
        environment={"MODE": "fast"},
        enable_deck=True,
        labels={"team": "ml"},
    )
    def train(seed: int, rows: list[int]) -> float:
        return 0.5

    template = train.to_task_template(SETTINGS)
    assert template.id.name == f"{__name__}.train" and template.id.version == "v1" and template.id.project == "flows"
    metadata = template.metadata
    assert (metadata.discoverable, metadata.discovery_version, metadata.cache_serializable) == (True, "7", True)
    assert metadata.cache_ignore_input_vars == ("seed",)
    assert metadata.retries.retries == 3 and metadata.timeout == dt.timedelta(minutes=5)
    assert metadata.interruptible is True and metadata.generates_deck is True
    assert metadata.deprecated_error_message == "use train_v2" and metadata.metadata.labels == {"team": "ml"}
    container = template.container
    assert container.image == "registry.local/train:1"
    assert [(pair.key, pair.value) for pair in container.env] == [("MODE", "fast")]
    assert [(entry.name, entry.value) for entry in container.resources.limits] == [
        (task_models.ResourceName.CPU, "2"),
        (task_models.ResourceName.MEMORY, "2Gi"),
    ]
    assert template.extended_resources.gpu_accelerator.device == "nvidia-tesla-t4"
    assert template.security_context.secrets[0].group == "db"
    assert set(template.interface.inputs.variables) == {"seed", "rows"}
    assert from_json(to_json(template), task_models.TaskTemplate) == template


def test_cache_object_and_resources_pairs():
    @task(cache=Cache(version="2", serialize=True, ignored_inputs="seed"), resources=Resources(cpu=("1", "2")))
    def fit(seed: int) -> int:
        return seed

    template = fit.to_task_template(SETTINGS)
    assert template.metadata.discovery_version == "2" and template.metadata.cache_ignore_input_vars == ("seed",)
    assert fit.cache == Cache(version="2", serialize=True, ignored_inputs=("seed",))
    assert template.container.resources.requests[0].value == "1" and template.container.resources.limits[0].value == "2"


def test_the_default_image_and_settings_environment_apply():
    template = add.to_task_template(SerializationSettings(default_image="img:1", env={"A": "1"}))
    assert template.container.image == "img:1"
    assert [(pair.key, pair.value) for pair in template.container.env] == [("A", "1")]
    assert template.metadata.retries.retries == 0 and template.metadata.discoverable is False


class FakeV1PodSpec:
    """Stands in for kubernetes.client.V1PodSpec: the kernel only needs to_dict()."""

    def to_dict(self):
        return {
            "containers": [{"name": "primary", "env": [{"name": "MODE", "value": "from-pod"}]}],
            "node_selector": {"gpu": "yes"},
        }


@pytest.mark.parametrize("pod_template", [FakeV1PodSpec(), FakeV1PodSpec().to_dict()], ids=["to_dict", "dict"])
def test_a_pod_template_becomes_a_k8s_pod_whose_primary_container_gets_image_env_and_resources(pod_template):
    @task(pod_template=pod_template, requests=Resources(mem="1Gi"), environment={"MODE": "task", "EXTRA": "1"})
    def in_pod(x: int) -> int:
        return x

    template = in_pod.to_task_template(SETTINGS)
    assert template.container is None
    pod = template.k8s_pod
    assert pod.primary_container_name == "primary" and pod.pod_spec["node_selector"] == {"gpu": "yes"}
    primary = pod.pod_spec["containers"][0]
    assert primary["image"] == "python:3.11"
    assert primary["env"] == [{"name": "MODE", "value": "from-pod"}, {"name": "EXTRA", "value": "1"}]
    assert primary["resources"] == {"requests": {"memory": "1Gi"}}


def test_a_pod_template_of_another_kind_is_an_error():
    with pytest.raises(ValidationError, match="pod_template expects a dict or an object with to_dict"):

        @task(pod_template="not a pod")
        def bad(x: int) -> int:
            return x


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cache_serialize": True}, "cache_serialize needs cache=True"),
        ({"retries": -2}, "retries expects a non-negative int"),
        ({"enable_deck": True, "disable_deck": False}, "enable_deck or disable_deck, not both"),
        ({"secret_requests": ["db/password"]}, "secret_requests expects Secret objects"),
        ({"resources": Resources(cpu="1"), "limits": Resources(cpu="1")}, "either resources= or requests=/limits="),
    ],
)
def test_contradictory_options_fail_at_decoration(arguments, message):
    with pytest.raises(ValidationError, match=message):

        @task(**arguments)
        def f(x: int) -> int:
            return x


@dataclasses.dataclass
class Query:
    """A task type's configuration, as a plugin would define it."""

    dialect: str


class QueryTask(PythonFunctionTask[Query]):
    def __init__(self, task_config, task_function, **kwargs):
        super().__init__(task_config, task_function, task_type="query", **kwargs)

    def get_custom(self, settings):
        return {"dialect": self.task_config.dialect}


class QueryPlugin:
    @hookimpl
    def taskloom_task_class(self, task_config):
        return QueryTask if isinstance(task_config, Query) else None


def test_a_task_config_selects_its_task_class_through_the_hook(taskloom_plugins):
    taskloom_plugins.register(QueryPlugin(), name="query")

    @task(task_config=Query(dialect="sqlite"))
    def count(table: str) -> int:
        return 3

    assert isinstance(count, QueryTask) and count(table="t") == 3
    template = count.to_task_template(SETTINGS)
    assert template.type == "query" and template.custom == {"dialect": "sqlite"}


def test_a_task_config_nobody_handles_is_an_error_naming_its_type(taskloom_plugins):
    with pytest.raises(
        ValidationError, match=r"no installed plugin provides a task type for task_config of type .*Query"
    ):

        @task(task_config=Query(dialect="x"))
        def count(table: str) -> int:
            return 3


class Dialect(PythonInstanceTask[Query]):
    """Answers with the dialect of its configuration."""

    def execute(self, **kwargs):
        return self.task_config.dialect


def test_with_overrides_task_config_changes_that_node_only():
    dialect = Dialect("dialect", Query("sqlite"), outputs={"o0": str})

    @workflow
    def both() -> tuple[str, str]:
        return dialect().with_overrides(task_config=Query("duckdb")), dialect()

    assert both() == ("duckdb", "sqlite")
    assert dialect.task_config == Query("sqlite") and dialect() == "sqlite"


def test_with_overrides_task_config_of_another_type_is_an_error():
    dialect = Dialect("dialect", Query("sqlite"), outputs={"o0": str})
    with pytest.raises(ValidationError, match=r"expects a Query as task 'dialect' has, got dict"):

        @workflow
        def wrong() -> str:
            return dialect().with_overrides(task_config={"dialect": "x"})


class Echo(PythonInstanceTask[None]):
    def execute(self, **kwargs):
        return kwargs["text"].upper()


def test_an_instance_task_runs_its_execute_with_a_declared_interface():
    echo = Echo(
        name="echo", task_config=None, inputs={"text": str}, outputs={"o0": str}, metadata=TaskMetadata(retries=1)
    )
    assert echo(text="hi") == "HI"
    assert echo.to_task_template(SETTINGS).metadata.retries.retries == 1
    with pytest.raises(TypeTransformerFailedError, match="task 'echo': input 'text' expects str, got int 1"):
        echo(text=1)


def test_task_builds_the_class_it_is_given_and_plain_tasks_run_in_default_mode():
    class Custom(PythonFunctionTask):
        pass

    def body(x: int) -> int:
        return x

    built = task(body, task_class=Custom, retries=2)
    assert type(built) is Custom and built.metadata.retries == 2
    assert built.execution_mode is PythonFunctionTask.ExecutionBehavior.DEFAULT


def test_a_prepared_task_runs_like_run_with_the_same_context_and_errors():
    import datetime as dt

    from taskloom import current_context
    from taskloom.core.context_manager import new_execution_id

    seen = []

    @task
    def half(x: int) -> int:
        seen.append((current_context().execution_id.name, current_context().attempt))
        if x < 0:
            raise KeyError("negative")
        return x // 2 if x != 7 else "seven"

    execution = new_execution_id()
    call = half.prepared(execution_id=execution, execution_date=dt.datetime.now(dt.UTC), attempt=1)
    assert call({"x": 4}, None) == {"o0": 2}
    assert seen == [(execution.name, 1)]
    with pytest.raises(KeyError) as raised:
        call({"x": -1}, None)
    assert any("half" in note for note in raised.value.__notes__)
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*half': output 'o0'"):
        call({"x": 7}, None)

    @task
    async def later(x: int) -> int:
        return x + 1

    assert later.prepared(execution_id=execution, execution_date=None)({"x": 1}, None) == {"o0": 2}
