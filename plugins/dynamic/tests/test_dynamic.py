"""@dynamic: a body run with real input values builds a graph, which the executor then runs."""

from __future__ import annotations

import threading
import typing

import pytest

import taskloom
from taskloom import LaunchPlan, SerializationSettings, conditional, reference_task, task, workflow
from taskloom.core.workflow import CompiledWorkflow
from taskloom.exceptions.user import TypeTransformerFailedError, ValidationError
from taskloom.models.identifier import ResourceType
from taskloom_dynamic import DynamicTask, ExecutionBehavior, dynamic

SETTINGS = SerializationSettings(project="project", domain="development", version="v1")


class Summary(typing.NamedTuple):
    count: int
    total: int


@task
def square(x: int) -> int:
    return x * x


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def is_even(x: int) -> bool:
    return x % 2 == 0


@task
def negate(x: int) -> int:
    return -x


@dynamic
def squares(n: int) -> list[int]:
    return [square(x=i) for i in range(n)]


@workflow
def sum_of_squares(n: int) -> int:
    return total(xs=squares(n=n))


@workflow
def add_ten(x: int) -> int:
    return add(a=x, b=10)


@workflow
def add_ten_twice(x: int) -> int:
    return add_ten(x=add_ten(x=x))


add_ten_plan = LaunchPlan.get_or_create(add_ten, name="add_ten_plan")


# --- running -----------------------------------------------------------------------------------


def test_called_directly_a_dynamic_task_returns_plain_values():
    assert squares(n=4) == [0, 1, 4, 9]
    assert squares(3) == [0, 1, 4]


def test_a_loop_over_an_input_value_fans_out_one_node_per_value():
    graph = squares.compile_workflow({"n": 5})
    assert isinstance(graph, CompiledWorkflow)
    assert [node.entity for node in graph.nodes] == [square] * 5
    assert [node.bindings for node in graph.nodes] == [{"x": i} for i in range(5)]


def test_inside_a_workflow_a_dynamic_task_is_an_ordinary_node():
    assert [node.entity for node in sum_of_squares.nodes] == [squares, total]
    assert sum_of_squares(n=4) == 14


def test_outputs_of_one_call_feed_the_next_inside_the_graph():
    @dynamic
    def chain(n: int) -> int:
        value = 0
        for i in range(n):
            value = add(a=value, b=i)
        return value

    assert chain(n=5) == 0 + 1 + 2 + 3 + 4


def test_the_nodes_of_a_fan_out_run_concurrently():
    barrier = threading.Barrier(3, timeout=10)

    @task
    def meet(x: int) -> int:
        barrier.wait()  # breaks (failing the test) unless the three nodes run at once
        return x

    @dynamic
    def meet_all(n: int) -> list[int]:
        return [meet(x=i) for i in range(n)]

    assert meet_all(n=3) == [0, 1, 2]


def test_outputs_are_shaped_as_the_function_declares():
    @dynamic
    def pair(n: int) -> tuple[int, list[int]]:
        values = [square(x=i) for i in range(n)]
        return total(xs=values), values

    @dynamic
    def summary(n: int) -> Summary:
        return Summary(count=n, total=total(xs=[square(x=i) for i in range(n)]))

    assert pair(n=3) == (5, [0, 1, 4])
    result = summary(n=3)
    assert result == (3, 5) and type(result).__name__ == "Summary" and result.total == 5


def test_a_body_without_calls_returns_its_constants():
    @dynamic
    def constant(n: int) -> list[int]:
        return list(range(n))

    assert constant.compile_workflow({"n": 3}).nodes == []
    assert constant(n=3) == [0, 1, 2]


def test_a_dynamic_task_in_the_graph_of_another_builds_its_own_graph_when_it_runs():
    @dynamic
    def nested(n: int) -> list[int]:
        return [total(xs=squares(n=i)) for i in range(n)]

    assert [node.entity for node in nested.compile_workflow({"n": 3}).nodes] == [squares, total] * 3
    assert nested(n=4) == [0, 0, 1, 5]


def test_a_dynamic_task_calls_subworkflows_and_launch_plans():
    @dynamic
    def through_workflows(n: int) -> list[int]:
        return [add_ten_twice(x=i) for i in range(n)] + [add_ten_plan(x=n)]

    assert through_workflows(n=2) == [20, 21, 12]


def test_a_conditional_in_the_body_branches_on_a_task_output():
    @dynamic
    def signs(n: int) -> list[int]:
        return [
            conditional(f"sign_{i}").if_(is_even(x=i).is_true()).then(square(x=i)).else_().then(negate(x=i))
            for i in range(n)
        ]

    assert signs(n=4) == [0, -1, 4, -3]


def test_a_dynamic_task_in_a_workflow_receives_the_outputs_of_earlier_nodes():
    @workflow
    def grow(x: int) -> list[int]:
        return squares(n=add(a=x, b=1))

    assert grow(x=2) == [0, 1, 4]


# --- errors --------------------------------------------------------------------------------------


def test_a_wrong_typed_binding_in_the_body_names_the_dynamic_task_and_the_input():
    @dynamic
    def mistyped(n: int) -> list[int]:
        return [square(x=str(i)) for i in range(n)]

    with pytest.raises(TypeTransformerFailedError, match=r"dynamic task '.*mistyped': task '.*square': input 'x'"):
        mistyped(n=2)


def test_an_output_that_does_not_fit_names_the_dynamic_task():
    @dynamic
    def wrong_output(n: int) -> int:
        return [square(x=i) for i in range(n)]

    with pytest.raises(TypeTransformerFailedError, match=r"^dynamic task '.*wrong_output': output 'o0' expects int"):
        wrong_output(n=2)


def test_a_failing_node_raises_its_task_own_exception_type():
    @task
    def refuse(x: int) -> int:
        raise LookupError(f"no value for {x}")

    @dynamic
    def refusing(n: int) -> list[int]:
        return [refuse(x=i) for i in range(n)]

    @workflow
    def wf(n: int) -> list[int]:
        return refusing(n=n)

    with pytest.raises(LookupError, match="no value for 0"):
        refusing(n=1)
    with pytest.raises(LookupError, match="no value for 0"):
        wf(n=1)


def test_an_error_raised_by_the_body_keeps_its_type():
    @dynamic
    def picky(n: int) -> list[int]:
        if n < 0:
            raise ValueError("n must not be negative")
        return [square(x=i) for i in range(n)]

    with pytest.raises(ValueError, match="n must not be negative"):
        picky(n=-1)


def test_inputs_of_a_direct_call_are_type_checked_naming_the_dynamic_task():
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*squares': input 'n'"):
        squares(n="three")


def test_an_async_body_is_refused_when_decorated():
    with pytest.raises(ValidationError, match="async def"):

        @dynamic
        async def not_dynamic(n: int) -> int:
            return n


def test_a_task_config_is_refused_when_decorated():
    with pytest.raises(ValidationError, match="task_config"):

        @dynamic(task_config=object())
        def configured(n: int) -> int:
            return n


# --- what the decorator builds -----------------------------------------------------------------


def test_dynamic_takes_the_keyword_arguments_of_task():
    @dynamic(retries=2, timeout=30, environment={"A": "1"}, name="custom.fan_out", cache=True, cache_version="7")
    def configured(n: int) -> list[int]:
        return [square(x=i) for i in range(n)]

    assert isinstance(configured, DynamicTask)
    assert configured.name == "custom.fan_out"
    assert configured.metadata.retries == 2 and configured.metadata.timeout.total_seconds() == 30
    assert configured.environment == {"A": "1"} and configured.cache.version == "7"


def test_node_dependency_hints_are_kept_for_the_packager():
    @dynamic(node_dependency_hints=[square, add_ten])
    def hinted(n: int) -> list[int]:
        return [square(x=i) for i in range(n)]

    assert hinted.node_dependency_hints == (square, add_ten)
    assert squares.node_dependency_hints is None
    assert hinted(n=2) == [0, 1]


def test_a_dynamic_task_is_a_python_task_told_apart_by_its_execution_mode():
    assert squares.task_type == "python-task"
    assert squares.execution_mode is ExecutionBehavior.DYNAMIC is DynamicTask.ExecutionBehavior.DYNAMIC
    template = squares.to_task_template(SETTINGS)
    assert template.type == "python-task" and not template.metadata.is_eager


def test_taskloom_dynamic_is_this_plugins_decorator():
    assert taskloom.dynamic is dynamic


# --- the DynamicJobSpec ------------------------------------------------------------------------


def test_the_job_spec_of_a_fan_out_loop_has_a_node_per_value_and_each_task_once():
    spec = squares.to_dynamic_job_spec(SETTINGS, {"n": 3})
    assert [node.id for node in spec.nodes] == ["n0", "n1", "n2"]
    assert spec.min_successes == 3
    assert [node.task_node.reference_id.name for node in spec.nodes] == [square.name] * 3
    assert spec.tasks == (square.to_task_template(SETTINGS),)
    assert spec.subworkflows == ()
    (output,) = spec.outputs
    assert output.var == "o0"
    assert [item.promise.node_id for item in output.binding.collection.bindings] == ["n0", "n1", "n2"]


def test_the_job_spec_binds_the_input_values_as_constants():
    spec = squares.to_dynamic_job_spec(SETTINGS, {"n": 2})
    assert [node.inputs[0].binding.scalar.primitive.integer for node in spec.nodes] == [0, 1]


def test_the_job_spec_holds_subworkflows_and_their_tasks_recursively():
    @dynamic
    def through_workflows(n: int) -> list[int]:
        return [add_ten_twice(x=i) for i in range(n)]

    spec = through_workflows.to_dynamic_job_spec(SETTINGS, {"n": 2})
    assert [node.workflow_node.sub_workflow_ref.name for node in spec.nodes] == [add_ten_twice.name] * 2
    assert [template.id.name for template in spec.subworkflows] == [add_ten_twice.name, add_ten.name]
    assert [template.id.name for template in spec.tasks] == [add.name]


def test_the_job_spec_refers_to_launch_plans_without_their_templates():
    @dynamic
    def through_plan(n: int) -> int:
        return add_ten_plan(x=n)

    spec = through_plan.to_dynamic_job_spec(SETTINGS, {"n": 1})
    (node,) = spec.nodes
    assert node.workflow_node.launchplan_ref.resource_type is ResourceType.LAUNCH_PLAN
    assert spec.tasks == () and spec.subworkflows == ()


def test_the_job_spec_refuses_a_reference_task_whose_template_it_cannot_ship():
    @reference_task(project="shared", domain="production", name="shared.square", version="v1")
    def registered_square(x: int) -> int: ...

    @dynamic
    def through_reference(n: int) -> list[int]:
        return [registered_square(x=i) for i in range(n)]

    with pytest.raises(ValidationError, match=r"reference task 'shared.square' has no template of its own"):
        through_reference.to_dynamic_job_spec(SETTINGS, {"n": 2})


def test_the_job_spec_holds_the_tasks_of_branches():
    @dynamic
    def branching(n: int) -> int:
        return conditional("sign").if_(is_even(x=n).is_true()).then(square(x=n)).else_().then(negate(x=n))

    spec = branching.to_dynamic_job_spec(SETTINGS, {"n": 1})
    assert [node.id for node in spec.nodes] == ["n0", "n3"] and spec.nodes[1].branch_node is not None
    assert sorted(template.id.name for template in spec.tasks) == sorted([is_even.name, square.name, negate.name])


def test_a_nested_dynamic_task_appears_in_the_job_spec_as_its_own_task():
    @dynamic
    def nested(n: int) -> list[int]:
        return [total(xs=squares(n=i)) for i in range(n)]

    spec = nested.to_dynamic_job_spec(SETTINGS, {"n": 2})
    assert [template.id.name for template in spec.tasks] == [squares.name, total.name]
    assert len(spec.nodes) == 4


def test_the_job_spec_inputs_are_checked_and_defaults_filled():
    @dynamic
    def with_default(n: int = 2) -> list[int]:
        return [square(x=i) for i in range(n)]

    assert len(with_default.to_dynamic_job_spec(SETTINGS, {}).nodes) == 2
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*with_default': input 'n'"):
        with_default.to_dynamic_job_spec(SETTINGS, {"n": "two"})


def test_the_package_is_a_plain_module_exporting_the_decorators_not_their_modules():
    import types

    import taskloom_dynamic
    import taskloom_dynamic.dynamic_workflow_task
    import taskloom_dynamic.eager_workflow

    assert type(taskloom_dynamic) is types.ModuleType  # no module class swapped in to guard the names
    assert callable(taskloom_dynamic.dynamic) and taskloom_dynamic.dynamic is dynamic
    assert taskloom_dynamic.eager.__name__ == "eager" and callable(taskloom_dynamic.eager)
    assert taskloom_dynamic.dynamic_workflow_task.dynamic is dynamic
