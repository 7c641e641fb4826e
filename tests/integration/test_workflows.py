"""`@workflow`: compiling bodies into nodes, checking bindings, templates, and dispatch to an executor."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from taskloom import SerializationSettings, WorkflowFailurePolicy, task, workflow
from taskloom.core.promise import Promise
from taskloom.exceptions.system import PluginError
from taskloom.exceptions.user import TypeTransformerFailedError, UserTypeError, ValidationError
from taskloom.hookspecs import hookimpl
from taskloom.models.converter import from_json, to_json
from taskloom.models.workflow import OnFailurePolicy, WorkflowTemplate

SETTINGS = SerializationSettings(project="flows", domain="development", version="v1")


@dataclasses.dataclass
class Stats:
    total: int
    values: list[int]


class Split(typing.NamedTuple):
    head: int
    tail: list[int]


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def stats(xs: list[int]) -> Stats:
    return Stats(sum(xs), xs)


@task
def split(xs: list[int]) -> Split:
    return Split(xs[0], xs[1:])


@task
def lookup(table: dict[str, int]) -> dict[str, int]:
    return table


@task
def maybe(x: typing.Optional[int]) -> int:
    return x or 0


@task
def side_effect(x: int) -> None:
    return None


@task
def name_of(x: int) -> str:
    return str(x)


@workflow
def inner(x: int) -> int:
    return add(a=x, b=1)


@workflow
def pipeline(x: int, y: int = 3) -> tuple[int, int]:
    s = add(a=x, b=y)
    t = total(xs=[s, 4, x])
    u = inner(x=t)
    return u, t


def test_each_call_becomes_a_node_with_its_bindings_and_upstream_nodes():
    nodes = pipeline.nodes
    assert [node.id for node in nodes] == ["n0", "n1", "n2"]
    assert [node.entity for node in nodes] == [add, total, inner]
    first, second, third = nodes
    assert first.bindings["a"].node_id == "start-node" and first.bindings["a"].var == "x"
    assert [type(item) for item in second.bindings["xs"]] == [Promise, int, Promise]
    assert [node.id for node in second.upstream_nodes] == ["n0"]
    assert [node.id for node in third.upstream_nodes] == ["n1"]
    outputs = pipeline.output_bindings
    assert (outputs["o0"].node_id, outputs["o1"].node_id) == ("n2", "n1")


def test_the_workflow_template_mirrors_the_graph_and_round_trips_through_json():
    template = pipeline.to_workflow_template(SETTINGS)
    assert template.id.name == f"{__name__}.pipeline" and template.id.version == "v1"
    by_id = {node.id: node for node in template.nodes}
    assert by_id["n0"].task_node.reference_id.name == f"{__name__}.add"
    assert by_id["n2"].workflow_node.sub_workflow_ref.name == f"{__name__}.inner"
    assert by_id["n1"].upstream_node_ids == ("n0",)
    xs = by_id["n1"].inputs[0].binding.collection.bindings
    assert xs[0].promise.node_id == "n0" and xs[1].scalar.primitive.integer == 4 and xs[2].promise.var == "x"
    assert [output.binding.promise.node_id for output in template.outputs] == ["n2", "n1"]
    assert template.metadata.on_failure is OnFailurePolicy.FAIL_IMMEDIATELY
    assert set(template.interface.inputs.variables) == {"x", "y"}
    assert from_json(to_json(template), WorkflowTemplate) == template


def test_attribute_and_item_access_on_outputs_are_typed_promises():
    @workflow
    def picks(xs: list[int]) -> tuple[int, int, int]:
        result = stats(xs=xs)
        parts = split(xs=xs)
        table = lookup(table={"a": 1})
        return add(a=result.total, b=result.values[0]), parts.head, table["a"]

    first_add = picks.nodes[3]
    assert first_add.bindings["a"].attr_path == ("total",) and first_add.bindings["a"].python_type is int
    assert first_add.bindings["b"].attr_path == ("values", 0)
    template = picks.to_workflow_template(SETTINGS)
    path = template.nodes[3].inputs[1].binding.promise.attr_path
    assert [(step.string_value, step.int_value) for step in path] == [("values", None), (None, 0)]
    assert picks.output_bindings["o2"].attr_path == ("a",)


def test_a_named_tuple_output_gives_named_promises():
    @workflow
    def heads(xs: list[int]) -> int:
        parts = split(xs=xs)
        return parts.head

    assert heads.output_bindings["o0"].var == "head"


def test_a_field_that_does_not_exist_is_an_error():
    with pytest.raises(ValidationError, match=r"of type Stats has no field 'mean'"):

        @workflow
        def wrong(xs: list[int]) -> int:
            return stats(xs=xs).mean


def test_a_promise_of_the_wrong_type_names_the_task_and_the_input():
    with pytest.raises(
        TypeTransformerFailedError, match=r"task '.*add': input 'b' expects int, got Promise\('o0' of n0\) of type str"
    ):

        @workflow
        def mismatched(x: int) -> int:
            return add(a=x, b=name_of(x=x))


def test_a_constant_of_the_wrong_type_names_the_task_and_the_input():
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*add': input 'b' expects int, got str 'two'"):

        @workflow
        def constant(x: int) -> int:
            return add(a=x, b="two")


def test_a_missing_input_in_a_workflow_body_is_named():
    with pytest.raises(TypeTransformerFailedError, match=r"input 'b' \(int\) is missing"):

        @workflow
        def missing(x: int) -> int:
            return add(a=x)


def test_an_optional_input_accepts_a_promise_of_its_variant():
    @workflow
    def optional(x: int) -> int:
        return maybe(x=add(a=x, b=1))

    assert len(optional.nodes) == 2


def test_using_a_promise_as_a_bool_tells_to_use_conditional():
    with pytest.raises(UserTypeError, match="use taskloom.conditional") as caught:

        @workflow
        def branching(x: int) -> int:
            if add(a=x, b=1):
                return x
            return x

    assert any("while compiling workflow" in note for note in caught.value.__notes__)


def test_iterating_a_promise_is_an_error():
    with pytest.raises(UserTypeError, match="cannot be iterated"):

        @workflow
        def looping(xs: list[int]) -> int:
            return sum(item for item in stats(xs=xs).values)


def test_explicit_ordering_with_rshift_and_cycles():
    @workflow
    def ordered(x: int) -> int:
        first = side_effect(x=x)
        second = add(a=x, b=1)
        first >> second
        return second

    assert [node.id for node in ordered.nodes[1].upstream_nodes] == ["n0"]
    assert ordered.to_workflow_template(SETTINGS).nodes[1].upstream_node_ids == ("n0",)

    with pytest.raises(ValidationError, match="nodes run in a cycle"):

        @workflow
        def cyclic(x: int) -> int:
            first = add(a=x, b=1)
            second = add(a=first, b=1)
            second >> first
            return second


def test_a_call_without_outputs_returns_a_void_promise_that_cannot_be_bound():
    with pytest.raises(TypeTransformerFailedError, match="got the result of a call without outputs"):

        @workflow
        def void(x: int) -> int:
            return add(a=x, b=side_effect(x=x))


def test_with_overrides_names_the_node_and_rejects_unknown_settings():
    @workflow
    def named(x: int) -> int:
        return add(a=x, b=1).with_overrides(node_name="Add One", retries=2)

    node = named.nodes[0]
    assert node.id == "add-one" and node.overrides["retries"] == 2
    assert named.output_bindings["o0"].node_id == "add-one"
    # As flytekit: node_name names the node's id; the metadata keeps the task's name unless name= is given.
    assert named.to_workflow_template(SETTINGS).nodes[0].metadata.name == "add"

    @workflow
    def renamed(x: int) -> int:
        return add(a=x, b=1).with_overrides(name="Adder")

    assert renamed.to_workflow_template(SETTINGS).nodes[0].metadata.name == "Adder"

    with pytest.raises(ValidationError, match="with_overrides does not know"):

        @workflow
        def unknown(x: int) -> int:
            return add(a=x, b=1).with_overrides(colour="red")


def test_duplicate_node_names_are_an_error():
    with pytest.raises(ValidationError, match=r"node names must be unique, \['same'\]"):

        @workflow
        def duplicate(x: int) -> int:
            add(a=x, b=1).with_overrides(node_name="same")
            return add(a=x, b=2).with_overrides(node_name="same")


def test_outputs_must_match_the_declared_outputs():
    with pytest.raises(TypeTransformerFailedError, match=r"declares 2 outputs \['o0', 'o1'\]"):

        @workflow
        def too_few(x: int) -> tuple[int, int]:
            return add(a=x, b=1)

    with pytest.raises(TypeTransformerFailedError, match=r"output 'o0' expects int, got Promise"):

        @workflow
        def wrong_type(x: int) -> int:
            return name_of(x=x)


def test_a_workflow_without_outputs_and_the_failure_policy():
    @workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    def fire_and_forget(x: int) -> None:
        side_effect(x=x)

    template = fire_and_forget.to_workflow_template(SETTINGS)
    assert template.outputs == () and len(template.nodes) == 1
    assert template.metadata.on_failure is OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE


def test_a_workflow_says_whether_it_is_interruptible_and_its_template_makes_that_every_nodes_default():
    @workflow(interruptible=True)
    def on_spot(x: int) -> None:
        side_effect(x=x)

    @workflow
    def on_demand(x: int) -> None:
        side_effect(x=x)

    assert on_spot.interruptible is True and on_demand.interruptible is False
    assert on_spot.to_workflow_template(SETTINGS).metadata_defaults.interruptible is True


def test_calling_a_workflow_without_an_executor_names_the_distribution_to_install(taskloom_plugins, monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    taskloom_plugins.disable("local")
    with pytest.raises(
        PluginError, match="no installed taskloom plugin provides the executor 'local'; install taskloom-local"
    ):
        pipeline(x=1)


class Recorder:
    """An executor plugin for the test: it records what it is asked to run and answers a fixed value."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def taskloom_executor(self, name):
        return self if name == "recording" else None

    def execute(self, entity, inputs):
        self.calls.append((entity, inputs))
        return (7, 8)


def test_a_workflow_call_goes_to_the_named_executor_with_checked_inputs_and_defaults(taskloom_plugins, monkeypatch):
    recorder = Recorder()
    taskloom_plugins.register(recorder, name="recorder")
    monkeypatch.setenv("TASKLOOM_EXECUTOR", "recording")
    assert pipeline(1) == (7, 8)
    assert recorder.calls == [(pipeline, {"x": 1, "y": 3})]
    with pytest.raises(TypeTransformerFailedError, match=r"workflow '.*pipeline': input 'x' expects int, got str 'a'"):
        pipeline(x="a")
    assert len(recorder.calls) == 1


def test_node_overrides_are_carried_into_the_template():
    import datetime as dt

    from taskloom import Resources

    @workflow
    def tuned(x: int) -> int:
        return add(a=x, b=1).with_overrides(
            retries=3,
            timeout=60,
            interruptible=True,
            cache=True,
            cache_version="5",
            requests=Resources(cpu="2"),
            limits=Resources(mem="4Gi"),
            container_image="registry.local/fast:2",
            accelerator="nvidia-l4",
        )

    node = tuned.to_workflow_template(SETTINGS).nodes[0]
    metadata = node.metadata
    assert metadata.retries.retries == 3 and metadata.timeout == dt.timedelta(seconds=60)
    assert metadata.interruptible is True and metadata.cacheable is True and metadata.cache_version == "5"
    overrides = node.task_node.overrides
    assert overrides.container_image == "registry.local/fast:2"
    assert overrides.resources.requests[0].value == "2" and overrides.resources.limits[0].value == "4Gi"
    assert overrides.extended_resources.gpu_accelerator.device == "nvidia-l4"
    assert from_json(to_json(node), type(node)) == node


def test_invalid_override_values_are_errors_naming_the_node():
    with pytest.raises(
        ValidationError, match=r"node n0: with_overrides: TaskMetadata: retries expects a non-negative int"
    ):

        @workflow
        def bad(x: int) -> int:
            return add(a=x, b=1).with_overrides(retries=-1)


def test_an_imperative_workflow_is_built_step_by_step_and_runs(monkeypatch):
    from taskloom import Workflow, kwtypes

    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    builder = Workflow(name="imperative.sum")
    x = builder.add_workflow_input("x", int)
    builder.add_workflow_input("y", int, default=5)
    first = builder.add_entity(add, a=x, b=builder.inputs["y"])
    second = builder.add_task(total, xs=[first.outputs["o0"], 1])
    builder.add_workflow_output("result", second.outputs["o0"])
    assert builder.python_interface.inputs == kwtypes(x=int, y=int)
    assert builder.python_interface.outputs == {"result": int}
    assert builder(x=1) == 7
    template = builder.to_workflow_template(SETTINGS)
    assert [node.id for node in template.nodes] == ["n0", "n1"] and template.outputs[0].var == "result"


def test_an_imperative_workflow_checks_each_step():
    from taskloom import Workflow

    builder = Workflow(name="imperative.bad")
    x = builder.add_workflow_input("x", int)
    with pytest.raises(TypeTransformerFailedError, match="input 'xs' expects list"):
        builder.add_entity(total, xs=x)
    with pytest.raises(ValidationError, match="input 'x' is already declared"):
        builder.add_workflow_input("x", int)
    with pytest.raises(ValidationError, match="needs python_type for a constant"):
        builder.add_workflow_output("out", 3)
