"""The flyteidl codec: every contract through protobuf bytes and back, Python values through
literals and protobuf bytes, the field mapping pinned on real templates, and the errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import subprocess
import sys
import typing

import attrs
import pytest
from flyteidl.admin import common_pb2, launch_plan_pb2, schedule_pb2
from flyteidl.core import (
    condition_pb2,
    dynamic_job_pb2,
    execution_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    security_pb2,
    tasks_pb2,
    types_pb2,
    workflow_closure_pb2,
    workflow_pb2,
)
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

import taskloom
from taskloom import (
    Annotations,
    CronSchedule,
    Email,
    FixedRate,
    Labels,
    LaunchPlan,
    PagerDuty,
    Resources,
    Secret,
    SerializationSettings,
    Slack,
    WorkflowExecutionPhase,
    approve,
    conditional,
    sleep,
    task,
    wait_for_input,
    workflow,
)
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.system import StorageError
from taskloom.models import identifier, interface, types
from taskloom.models import launch_plan as lp_models
from taskloom.models import literals as lit
from taskloom.models import task as task_models
from taskloom.models import workflow as wf_models
from taskloom.models.dynamic_job import DynamicJobSpec
from taskloom.models.security import MountType
from taskloom.testing import strategies
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile
from taskloom_flyte.codec import (
    MESSAGES,
    CodecError,
    from_proto,
    literal_map_from_bytes,
    literal_map_to_bytes,
    to_proto,
    workflow_closure_from_proto,
    workflow_closure_to_proto,
)

# Hypothesis validates the kernel's nested recursive strategies by building their (large) reprs.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SETTINGS = SerializationSettings(project="flows", domain="development", version="v1", default_image="python:3.11")


def through_bytes(contract: typing.Any) -> typing.Any:
    """Encode a contract, serialise the message, parse it into a fresh message and decode it."""
    message = to_proto(contract)
    assert type(message) is MESSAGES[type(contract)]
    return from_proto(type(message).FromString(message.SerializeToString()))


def public_name(name: str) -> typing.Any:
    """A name a plugin adds to ``taskloom`` (``map_task``, ``dynamic``); the test is skipped without it."""
    try:
        return getattr(taskloom, name)
    except ImportError as error:
        pytest.skip(str(error))


# =============================================================================================
# (a) Random contracts -> protobuf -> bytes -> protobuf -> contracts
# =============================================================================================


def test_every_contract_class_has_a_flyteidl_message():
    assert set(MESSAGES) == set(strategies.contract_classes())


@pytest.mark.parametrize("contract_class", strategies.contract_classes(), ids=lambda cls: cls.__name__)
def test_every_contract_round_trips_through_protobuf_bytes(contract_class):
    # Fewer examples, as each of the ~90 classes runs its own; no database, as the inner function's
    # key is the same for every class and one class's saved examples would be replayed for the next.
    @settings(max_examples=12, database=None)
    @given(strategies.strategy_for(contract_class))
    def round_trips(contract):
        assert through_bytes(contract) == contract

    round_trips()


@given(st.one_of(strategies.literals, strategies.literal_types, strategies.binding_data))
def test_literals_literal_types_and_bindings_round_trip(contract):
    assert through_bytes(contract) == contract


@given(st.one_of(strategies.task_templates, strategies.workflow_templates, strategies.launch_plan_specs))
def test_templates_and_launch_plan_specs_round_trip(contract):
    assert through_bytes(contract) == contract


@settings(max_examples=20)  # a dynamic job spec holds whole workflows and tasks: fewer, larger examples
@given(strategies.dynamic_job_specs)
def test_dynamic_job_specs_round_trip(spec):
    assert through_bytes(spec) == spec


@given(strategies.literal_maps)
def test_literal_maps_round_trip_through_their_bytes(literal_map):
    assert literal_map_from_bytes(literal_map_to_bytes(literal_map)) == literal_map


@settings(max_examples=20)  # a closure holds a workflow and its tasks: fewer, larger examples
@given(strategies.workflow_templates, st.lists(strategies.task_templates, max_size=2).map(tuple))
def test_workflow_closures_round_trip(workflow_template, tasks):
    closure = workflow_closure_to_proto(workflow_template, tasks)
    parsed = workflow_closure_pb2.WorkflowClosure.FromString(closure.SerializeToString())
    assert workflow_closure_from_proto(parsed) == (workflow_template, tasks)


# =============================================================================================
# (b) Python values -> literal -> protobuf bytes -> literal -> Python values
# =============================================================================================


class Color(str, enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Reading:
    sensor: str
    value: float
    tags: list[str]
    limits: dict[str, int]
    note: str | None = None


class Pair(typing.NamedTuple):
    left: int
    right: str


UTC = dt.UTC
texts = st.text(max_size=10)
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(allow_nan=False)  # infinities included
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
# Away from year 1 and 9999, where shifting an aware datetime to UTC overflows Python's datetime.
aware_datetimes = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=offsets)
timedeltas = st.timedeltas(min_value=-dt.timedelta(days=3_652_500), max_value=dt.timedelta(days=3_652_500))
json_values = st.recursive(
    st.none() | st.booleans() | int64s | floats | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
paths = st.lists(st.text("abcxyz_-0123456789", min_size=1, max_size=6), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)
readings = st.builds(
    Reading,
    sensor=texts,
    value=floats,
    tags=st.lists(texts, max_size=3),
    limits=st.dictionaries(texts, int64s, max_size=3),
    note=st.none() | texts,
)

PYTHON_VALUES = [
    pytest.param(int, int64s, id="int"),
    pytest.param(float, floats, id="float"),
    pytest.param(str, st.text(), id="str"),
    pytest.param(bool, st.booleans(), id="bool"),
    pytest.param(bytes, st.binary(max_size=32), id="bytes"),
    pytest.param(dt.datetime, aware_datetimes, id="datetime"),
    pytest.param(dt.date, st.dates(), id="date"),
    pytest.param(dt.timedelta, timedeltas, id="timedelta"),
    pytest.param(type(None), st.none(), id="None"),
    pytest.param(list[int], st.lists(int64s, max_size=4), id="list[int]"),
    pytest.param(list[list[str]], st.lists(st.lists(texts, max_size=3), max_size=3), id="list[list[str]]"),
    pytest.param(dict[str, float], st.dictionaries(texts, floats, max_size=4), id="dict[str,float]"),
    pytest.param(dict, st.dictionaries(texts, json_values, max_size=4), id="dict"),
    pytest.param(int | None, st.none() | int64s, id="Optional[int]"),
    pytest.param(int | str | None, st.none() | int64s | texts, id="int|str|None"),
    pytest.param(Color, st.sampled_from(Color), id="enum"),
    pytest.param(Reading, readings, id="dataclass"),
    pytest.param(list[Reading], st.lists(readings, max_size=2), id="list[dataclass]"),
    pytest.param(Pair, st.builds(Pair, int64s, texts), id="NamedTuple"),
    pytest.param(tuple[int, str], st.tuples(int64s, texts), id="tuple[int,str]"),
    pytest.param(tuple[float, ...], st.lists(floats, max_size=4).map(tuple), id="tuple[float,...]"),
    pytest.param(FlyteFile, paths.map(FlyteFile), id="FlyteFile"),
    pytest.param(FlyteDirectory, paths.map(FlyteDirectory), id="FlyteDirectory"),
]


@pytest.mark.parametrize(("python_type", "values"), PYTHON_VALUES)
@settings(max_examples=25)  # run once per Python type of PYTHON_VALUES: fewer examples each
@given(data=st.data())
def test_python_values_round_trip_through_protobuf_bytes(python_type, values, data):
    value = data.draw(values)
    literal = TypeEngine.to_literal(None, value, python_type)
    back_literal = from_proto(literals_pb2.Literal.FromString(to_proto(literal).SerializeToString()))
    assert back_literal == literal
    literal_type = TypeEngine.to_literal_type(python_type)
    assert from_proto(types_pb2.LiteralType.FromString(to_proto(literal_type).SerializeToString())) == literal_type
    back = TypeEngine.to_python_value(None, back_literal, python_type)
    assert back == value
    assert type(back) is type(value)


@given(int64s, st.lists(texts, max_size=3), st.none() | readings, aware_datetimes)
def test_named_values_round_trip_through_literal_map_bytes(number, words, reading, when):
    hints = {"number": int, "words": list[str], "reading": Reading | None, "when": dt.datetime}
    values = {"number": number, "words": words, "reading": reading, "when": when}
    data = literal_map_to_bytes(TypeEngine.dict_to_literal_map(None, values, hints))
    assert TypeEngine.literal_map_to_kwargs(None, literal_map_from_bytes(data, source="inputs.pb"), hints) == values


# =============================================================================================
# The flyteidl field mapping, pinned on real templates
# =============================================================================================


def pairs(entries):
    return [(entry.name, entry.value) for entry in entries]


def test_a_task_template_maps_container_resources_metadata_custom_and_security_context():
    @task(
        cache=True,
        cache_version="7",
        cache_serialize=True,
        retries=3,
        timeout=dt.timedelta(minutes=5),
        interruptible=True,
        requests=Resources(cpu="1", mem="1Gi"),
        limits=Resources(cpu="2", mem="2Gi"),
        secret_requests=[Secret(group="db", key="password", mount_requirement=MountType.ENV_VAR)],
        container_image="registry.local/train:1",
        environment={"MODE": "fast"},
    )
    def train(seed: int, rows: list[int]) -> float:
        return 0.5

    template = train.to_task_template(SETTINGS)
    # What the packaging adds: the command line inside the container, and a task type's own config.
    args = ("pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}")
    template = attrs.evolve(
        template,
        container=attrs.evolve(template.container, args=args),
        custom={"spark_conf": {"spark.executor.cores": 2, "ratio": 0.5}, "flags": [True, None, "x"]},
    )

    message = to_proto(template)
    assert isinstance(message, tasks_pb2.TaskTemplate)
    assert message.id.resource_type == identifier_pb2.TASK
    assert (message.id.project, message.id.domain, message.id.version) == ("flows", "development", "v1")
    assert message.id.name == template.id.name and message.type == template.type
    assert message.WhichOneof("target") == "container"
    container = message.container
    assert container.image == "registry.local/train:1"
    assert list(container.args) == list(args) and list(container.command) == []
    assert [(pair.key, pair.value) for pair in container.env] == [("MODE", "fast")]
    assert pairs(container.resources.requests) == [(tasks_pb2.Resources.CPU, "1"), (tasks_pb2.Resources.MEMORY, "1Gi")]
    assert pairs(container.resources.limits) == [(tasks_pb2.Resources.CPU, "2"), (tasks_pb2.Resources.MEMORY, "2Gi")]
    metadata = message.metadata
    assert metadata.discoverable is True and metadata.discovery_version == "7" and metadata.cache_serializable
    assert metadata.retries.retries == 3
    assert (metadata.timeout.seconds, metadata.timeout.nanos) == (300, 0)
    assert metadata.WhichOneof("interruptible_value") == "interruptible" and metadata.interruptible is True
    assert json_format.MessageToDict(message.custom) == {
        "spark_conf": {"spark.executor.cores": 2.0, "ratio": 0.5},
        "flags": [True, None, "x"],
    }
    (secret,) = message.security_context.secrets
    assert (secret.group, secret.key, secret.mount_requirement) == ("db", "password", security_pb2.Secret.ENV_VAR)
    inputs = message.interface.inputs.variables
    assert inputs["seed"].type.simple == types_pb2.INTEGER
    assert inputs["rows"].type.collection_type.simple == types_pb2.INTEGER
    assert message.interface.outputs.variables["o0"].type.simple == types_pb2.FLOAT

    back = from_proto(tasks_pb2.TaskTemplate.FromString(message.SerializeToString()))
    assert back == template
    # A Struct holds doubles: integral numbers come back as int, others as float.
    assert type(back.custom["spark_conf"]["spark.executor.cores"]) is int
    assert type(back.custom["spark_conf"]["ratio"]) is float


def test_a_task_template_with_a_pod_template_maps_to_a_k8s_pod():
    pod_spec = {
        "containers": [{"name": "primary", "ports": [{"containerPort": 8080}]}],
        "nodeSelector": {"gpu": "yes"},
    }

    @task(pod_template=pod_spec, requests=Resources(mem="1Gi"))
    def in_pod(x: int) -> int:
        return x

    template = in_pod.to_task_template(SETTINGS)
    message = to_proto(template)
    assert message.WhichOneof("target") == "k8s_pod" and not message.HasField("container")
    pod = message.k8s_pod
    assert pod.primary_container_name == template.k8s_pod.primary_container_name == "primary"
    spec = json_format.MessageToDict(pod.pod_spec)
    assert spec["nodeSelector"] == {"gpu": "yes"}
    assert spec["containers"][0]["image"] == "python:3.11"
    back = from_proto(tasks_pb2.TaskTemplate.FromString(message.SerializeToString()))
    assert back == template
    assert back.k8s_pod.pod_spec["containers"][0]["ports"] == [{"containerPort": 8080}]
    assert type(back.k8s_pod.pod_spec["containers"][0]["ports"][0]["containerPort"]) is int


@task
def square(n: int) -> int:
    return n * n


@task
def double(n: int) -> int:
    return 2 * n


def test_a_workflow_template_maps_branch_array_and_gate_nodes_and_bindings():
    map_task = public_name("map_task")

    @workflow
    def pipeline(x: int, xs: list[int]) -> int:
        answer = wait_for_input("answer", timeout=dt.timedelta(minutes=5), expected_type=int)
        approved = approve(square(n=answer), "review", timeout=dt.timedelta(hours=2))
        pause = sleep(dt.timedelta(seconds=10))
        map_task(double, concurrency=3, min_success_ratio=0.75)(n=xs)
        result = (
            conditional("size")
            .if_((x >= 0) & (x < 10))
            .then(square(n=approved))
            .elif_(x > 10)
            .then(double(n=x))
            .else_()
            .fail("x must be in [0, 10) or above 10")
        )
        pause >> result
        return result

    template = pipeline.to_workflow_template(SETTINGS)
    message = to_proto(template)
    assert isinstance(message, workflow_pb2.WorkflowTemplate)
    assert message.id.resource_type == identifier_pb2.WORKFLOW and message.id.name == pipeline.name
    assert message.metadata.on_failure == workflow_pb2.WorkflowMetadata.FAIL_IMMEDIATELY
    contract_nodes = {node.id: node for node in template.nodes}
    kinds = {node.id: node.WhichOneof("target") for node in message.nodes}
    assert sorted(kinds.values()) == ["array_node", "branch_node", "gate_node", "gate_node", "gate_node", "task_node"]

    # Gate nodes: a signal with its type and output, an approval bound to what it gates, a sleep.
    answer, review, pause = (
        next(node for node in message.nodes if node.metadata.name == name)
        for name in ("answer", "review", "sleep-gate")
    )
    assert answer.gate_node.WhichOneof("condition") == "signal"
    signal = answer.gate_node.signal
    assert (signal.signal_id, signal.type.simple, signal.output_variable_name) == ("answer", types_pb2.INTEGER, "o0")
    assert answer.metadata.timeout.seconds == 300
    assert review.gate_node.approve.signal_id == "review" and review.metadata.timeout.seconds == 7200
    assert pause.gate_node.sleep.duration.seconds == 10

    # Bindings: a node's input bound to another node's output.
    gated = next(node for node in message.nodes if node.task_node.reference_id.name == square.name)
    (binding,) = gated.inputs
    assert binding.var == "n" and binding.binding.WhichOneof("value") == "promise"
    assert (binding.binding.promise.node_id, binding.binding.promise.var) == (answer.id, "o0")
    assert list(gated.upstream_node_ids) == [answer.id]
    assert list(review.upstream_node_ids) == [gated.id]

    # The array node: parallelism and success ratio in their oneofs, the sub-node runs the map task.
    (array,) = (node for node in message.nodes if kinds[node.id] == "array_node")
    contract_array = contract_nodes[array.id].array_node
    assert array.array_node.WhichOneof("parallelism_option") == "parallelism" and array.array_node.parallelism == 3
    assert array.array_node.WhichOneof("success_criteria") == "min_success_ratio"
    assert array.array_node.min_success_ratio == 0.75
    assert array.array_node.HasField("is_original_sub_node_interface")
    assert array.array_node.is_original_sub_node_interface.value is False
    sub_node = array.array_node.node
    assert sub_node.task_node.reference_id.name == contract_array.node.task_node.reference_id.name
    assert sub_node.task_node.reference_id.name.endswith("-arraynode")
    assert array.inputs[0].var == "n" and array.inputs[0].binding.promise.var == "xs"

    # The branch node: if (x >= 0 and x < 10) ... elif x > 10 ... else fail.
    (branch,) = (node for node in message.nodes if kinds[node.id] == "branch_node")
    contract_branch = contract_nodes[branch.id].branch_node.if_else
    if_else = branch.branch_node.if_else
    conjunction = if_else.case.condition.conjunction
    assert conjunction.operator == condition_pb2.ConjunctionExpression.AND
    low, high = conjunction.left_expression.comparison, conjunction.right_expression.comparison
    assert low.operator == condition_pb2.ComparisonExpression.GTE
    assert high.operator == condition_pb2.ComparisonExpression.LT
    assert low.left_value.WhichOneof("val") == "var"
    assert low.left_value.var == contract_branch.case.condition.conjunction.left_expression.comparison.left_value.var
    assert low.right_value.primitive.integer == 0 and high.right_value.primitive.integer == 10
    assert if_else.case.then_node.task_node.reference_id.name == square.name
    (elif_block,) = if_else.other
    assert elif_block.condition.comparison.operator == condition_pb2.ComparisonExpression.GT
    assert elif_block.then_node.task_node.reference_id.name == double.name
    assert if_else.WhichOneof("default") == "error"
    assert if_else.error.message == "x must be in [0, 10) or above 10"
    assert pause.id in branch.upstream_node_ids

    (output,) = message.outputs
    assert (output.var, output.binding.promise.node_id) == ("o0", branch.id)
    assert from_proto(workflow_pb2.WorkflowTemplate.FromString(message.SerializeToString())) == template


def test_a_launch_plan_spec_maps_its_cron_schedule_notifications_and_inputs():
    @workflow
    def report(value: int, factor: int, when: dt.datetime) -> int:
        return double(n=value)

    plan = LaunchPlan.create(
        "codec-scheduled",
        report,
        default_inputs={"value": 10},
        fixed_inputs={"factor": 4},
        schedule=CronSchedule("0 6 * * *", kickoff_time_input_arg="when"),
        notifications=[
            Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"]),
            Slack(phases=[WorkflowExecutionPhase.SUCCEEDED], recipients_email=["team@example.com"]),
            PagerDuty(phases=[WorkflowExecutionPhase.TIMED_OUT], recipients_email=["pd@example.com"]),
        ],
        labels=Labels(values={"team": "data"}),
        annotations=Annotations(values={"owner": "alice"}),
        raw_output_data_config="s3://bucket/outputs",
        max_parallelism=3,
        overwrite_cache=True,
    )
    spec = plan.to_launch_plan_spec(SETTINGS)
    message = to_proto(spec)
    assert isinstance(message, launch_plan_pb2.LaunchPlanSpec)
    assert message.workflow_id.resource_type == identifier_pb2.WORKFLOW and message.workflow_id.name == report.name
    schedule = message.entity_metadata.schedule
    assert schedule.WhichOneof("ScheduleExpression") == "cron_schedule"
    assert schedule.cron_schedule.schedule == "0 6 * * *" and schedule.kickoff_time_input_arg == "when"
    email, slack, pager = message.entity_metadata.notifications
    assert email.WhichOneof("type") == "email" and list(email.email.recipients_email) == ["ops@example.com"]
    assert list(email.phases) == [execution_pb2.WorkflowExecution.FAILED]
    assert slack.WhichOneof("type") == "slack" and list(slack.phases) == [execution_pb2.WorkflowExecution.SUCCEEDED]
    assert pager.WhichOneof("type") == "pager_duty" and list(pager.pager_duty.recipients_email) == ["pd@example.com"]
    assert list(pager.phases) == [execution_pb2.WorkflowExecution.TIMED_OUT]
    parameters = message.default_inputs.parameters
    assert parameters["value"].WhichOneof("behavior") == "default"
    assert parameters["value"].default.scalar.primitive.integer == 10
    assert parameters["value"].var.type.simple == types_pb2.INTEGER
    assert parameters["when"].WhichOneof("behavior") == "required" and parameters["when"].required is True
    assert "factor" not in parameters
    assert message.fixed_inputs.literals["factor"].scalar.primitive.integer == 4
    assert dict(message.labels.values) == {"team": "data"} and dict(message.annotations.values) == {"owner": "alice"}
    assert message.raw_output_data_config.output_location_prefix == "s3://bucket/outputs"
    assert message.max_parallelism == 3 and message.overwrite_cache is True
    assert not message.HasField("interruptible")
    assert from_proto(launch_plan_pb2.LaunchPlanSpec.FromString(message.SerializeToString())) == spec


def test_a_fixed_rate_schedule_maps_its_value_and_unit():
    schedule = FixedRate(dt.timedelta(hours=2)).to_model()
    message = to_proto(schedule)
    assert isinstance(message, schedule_pb2.Schedule)
    assert message.WhichOneof("ScheduleExpression") == "rate"
    assert (message.rate.value, message.rate.unit) == (2, schedule_pb2.HOUR)
    assert through_bytes(schedule) == schedule


def test_a_dynamic_job_spec_maps_its_nodes_tasks_and_output_bindings():
    dynamic = public_name("dynamic")

    @dynamic
    def squares(n: int) -> list[int]:
        return [square(n=i) for i in range(n)]

    spec = squares.to_dynamic_job_spec(SETTINGS, {"n": 3})
    assert isinstance(spec, DynamicJobSpec)
    message = to_proto(spec)
    assert isinstance(message, dynamic_job_pb2.DynamicJobSpec)
    assert message.min_successes == 3
    assert [node.id for node in message.nodes] == [node.id for node in spec.nodes]
    assert [node.task_node.reference_id.name for node in message.nodes] == [square.name] * 3
    assert [node.inputs[0].binding.scalar.primitive.integer for node in message.nodes] == [0, 1, 2]
    (template,) = message.tasks
    assert template.id.name == square.name and template.container.image == "python:3.11"
    (output,) = message.outputs
    assert output.var == "o0"
    assert [item.promise.node_id for item in output.binding.collection.bindings] == [node.id for node in spec.nodes]
    assert from_proto(dynamic_job_pb2.DynamicJobSpec.FromString(message.SerializeToString())) == spec


def test_a_workflow_closure_holds_the_workflow_and_its_tasks():
    @workflow
    def twice(n: int) -> int:
        return double(n=square(n=n))

    template = twice.to_workflow_template(SETTINGS)
    tasks = (square.to_task_template(SETTINGS), double.to_task_template(SETTINGS))
    closure = workflow_closure_to_proto(template, tasks)
    assert isinstance(closure, workflow_closure_pb2.WorkflowClosure)
    assert closure.workflow.id.name == twice.name
    assert [message.id.name for message in closure.tasks] == [square.name, double.name]
    assert workflow_closure_from_proto(closure) == (template, tasks)


# =============================================================================================
# Kinds of fields the shapes differ on
# =============================================================================================

#: flyteidl fields the kernel's contracts leave out on purpose (see the docstrings of taskloom.models).
LEFT_OUT = {
    "flyteidl.core.Variable": {"artifact_partial_id", "artifact_tag"},
    "flyteidl.core.Parameter": {"artifact_query", "artifact_id"},
    "flyteidl.core.WorkflowMetadata": {"quality_of_service"},
    "flyteidl.admin.LaunchPlanMetadata": {"launch_conditions"},
    "flyteidl.admin.LaunchPlanSpec": {
        "auth",
        "auth_role",
        "quality_of_service",
        "execution_env_assignments",
        "cluster_assignment",
        "concurrency_policy",
    },
    "flyteidl.admin.LaunchPlan": {"closure"},
}


def test_contracts_and_messages_have_the_same_fields_but_the_documented_ones():
    for contract, message in MESSAGES.items():
        descriptor = message.DESCRIPTOR
        fields = {field.name for field in descriptor.fields}
        contract_fields = {attribute.name for attribute in attrs.fields(contract)}
        assert contract_fields <= fields, f"{contract.__name__}: {sorted(contract_fields - fields)}"
        assert fields - contract_fields == LEFT_OUT.get(descriptor.full_name, set()), descriptor.full_name


def test_every_kernel_enum_has_flyteidls_names_and_numbers():
    for contract, message in MESSAGES.items():
        hints = typing.get_type_hints(contract)
        for field in message.DESCRIPTOR.fields:
            if field.enum_type is None:
                continue
            (enum_class,) = [
                arg
                for arg in (hints[field.name], *typing.get_args(hints[field.name]))
                if isinstance(arg, type) and issubclass(arg, enum.Enum)
            ]
            flyteidl = {value.name: value.number for value in field.enum_type.values}
            assert {member.name: member.value for member in enum_class} == flyteidl, field.full_name


def test_unset_and_empty_optional_fields_stay_apart():
    unset = types.LiteralType(simple=types.SimpleType.STRING)
    empty = types.LiteralType(simple=types.SimpleType.STRING, metadata={}, annotation=types.TypeAnnotation())
    assert not to_proto(unset).HasField("metadata") and to_proto(empty).HasField("metadata")
    assert (through_bytes(unset), through_bytes(empty)) == (unset, empty)
    for interruptible in (None, False, True):
        metadata = task_models.TaskMetadata(interruptible=interruptible, generates_deck=interruptible)
        message = to_proto(metadata)
        assert message.HasField("interruptible") is (interruptible is not None)
        assert message.HasField("generates_deck") is (interruptible is not None)
        assert through_bytes(metadata) == metadata
    zero = lit.Primitive(integer=0)
    assert to_proto(zero).WhichOneof("value") == "integer" and through_bytes(zero) == zero


def test_timestamps_and_durations_keep_microseconds_and_read_back_in_utc():
    when = dt.datetime(2024, 1, 31, 13, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    primitive = lit.Primitive(datetime=when)
    message = to_proto(primitive)
    assert (message.datetime.seconds, message.datetime.nanos) == (1706702400, 123456000)
    back = through_bytes(primitive)
    assert back.datetime == when and back.datetime.tzinfo == dt.UTC
    duration = lit.Primitive(duration=-dt.timedelta(seconds=1, microseconds=500000))
    assert (to_proto(duration).duration.seconds, to_proto(duration).duration.nanos) == (-1, -500000000)
    assert through_bytes(duration) == duration


def test_a_float32_ratio_reads_back_as_the_decimal_written():
    node = wf_models.Node(
        id="n0",
        task_node=wf_models.TaskNode(
            reference_id=identifier.Identifier(
                resource_type=identifier.ResourceType.TASK, project="p", domain="d", name="t", version="1"
            )
        ),
    )
    for ratio in (0.9, 0.75, 0.123456, 1.0, 0.0):
        array = wf_models.ArrayNode(node=node, min_success_ratio=ratio)
        assert through_bytes(array).min_success_ratio == ratio


def test_literal_map_bytes_are_deterministic():
    one = lit.Literal(scalar=lit.Scalar(primitive=lit.Primitive(integer=1)))
    two = lit.Literal(scalar=lit.Scalar(primitive=lit.Primitive(string_value="two")))
    forwards = lit.LiteralMap(literals={"a": one, "b": two, "c": one})
    backwards = lit.LiteralMap(literals={"c": one, "b": two, "a": one})
    assert literal_map_to_bytes(forwards) == literal_map_to_bytes(backwards)
    assert list(literal_map_from_bytes(literal_map_to_bytes(backwards)).literals) == ["a", "b", "c"]


# =============================================================================================
# Errors
# =============================================================================================


def identifier_of(name: str) -> identifier.Identifier:
    return identifier.Identifier(
        resource_type=identifier.ResourceType.TASK, project="p", domain="d", name=name, version="1"
    )


@pytest.mark.parametrize("value", [3, {"scalar": None}, "literal", lit], ids=["int", "dict", "str", "module"])
def test_to_proto_of_something_that_is_no_contract_is_a_type_error(value):
    with pytest.raises(TypeError, match=r"to_proto: expected a kernel contract .*, got "):
        to_proto(value)


def test_from_proto_of_something_that_is_no_message_is_a_type_error():
    with pytest.raises(TypeError, match=r"from_proto: expected a flyteidl protobuf message, got builtins.dict"):
        from_proto({"scalar": {}})


def test_from_proto_of_a_message_the_codec_does_not_map_names_its_type():
    with pytest.raises(TypeError, match=r"no kernel contract for the protobuf message flyteidl.core.ExecutionError"):
        from_proto(execution_pb2.ExecutionError(code="x"))
    with pytest.raises(TypeError, match=r"flyteidl.core.WorkflowClosure; use workflow_closure_from_proto"):
        from_proto(workflow_closure_pb2.WorkflowClosure())


def test_an_integer_out_of_its_flyteidl_range_names_the_contract_field_and_path():
    reference = types.OutputReference(node_id="n0", var="o0", attr_path=(types.PromiseAttribute(int_value=2**31),))
    node = wf_models.Node(
        id="n1",
        inputs=(lit.Binding(var="x", binding=lit.BindingData(promise=reference)),),
        task_node=wf_models.TaskNode(reference_id=identifier_of("t")),
    )
    template = wf_models.WorkflowTemplate(id=identifier_of("wf"), nodes=(node,))
    with pytest.raises(CodecError) as caught:
        to_proto(template)
    message = str(caught.value)
    assert message.startswith("cannot encode WorkflowTemplate as flyteidl.core.WorkflowTemplate")
    assert "at nodes[0].inputs[0].binding.promise.attr_path[0].int_value:" in message
    assert "PromiseAttribute.int_value = 2147483648" in message and "int32" in message
    assert isinstance(caught.value, ValueError)
    with pytest.raises(CodecError, match=r"RetryStrategy.retries = -1 cannot be written to the uint32 field"):
        to_proto(task_models.TaskMetadata(retries=lit.RetryStrategy(retries=-1)))


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        (
            {"n": 2**60},
            r"at custom: TaskTemplate.custom = .* the integer 1152921504606846976 is too large for a Struct",
        ),
        (
            {"when": dt.date(2024, 1, 1)},
            r"at custom: TaskTemplate.custom = .*a Struct holds JSON data only, got datetime.date",
        ),
        ({1: "one"}, r"at custom: .*a Struct's keys are strings, got the key 1"),
    ],
    ids=["huge-int", "not-json", "int-key"],
)
def test_a_struct_that_flyteidl_cannot_hold_names_the_field(custom, message):
    template = task_models.TaskTemplate(id=identifier_of("t"), type="python-task", custom=custom)
    with pytest.raises(CodecError, match=message):
        to_proto(template)


def test_a_field_of_the_wrong_type_names_the_contract_and_field():
    with pytest.raises(CodecError, match=r"at scalar.primitive: expected a Primitive .*, got builtins.int"):
        to_proto(lit.Literal(scalar=lit.Scalar(primitive=3)))
    with pytest.raises(CodecError, match=r"Identifier.resource_type = 1 .*expected a ResourceType member"):
        to_proto(identifier.Identifier(resource_type=1, project="p", domain="d", name="n", version="v"))
    with pytest.raises(CodecError, match=r"TaskMetadata.timeout = 30 .*expected a timedelta"):
        to_proto(task_models.TaskMetadata(timeout=30))


def test_a_message_that_makes_no_valid_contract_names_where():
    empty_value = literals_pb2.LiteralMap()
    empty_value.literals["a"].SetInParent()
    with pytest.raises(CodecError, match=r"at literals\['a'\]: flyteidl.core.Literal does not make a valid Literal"):
        from_proto(empty_value)
    with pytest.raises(
        CodecError, match=r"at resource_type: flyteidl.core.Identifier.resource_type: 99 is no member of ResourceType"
    ):
        from_proto(identifier_pb2.Identifier(resource_type=99))


def test_a_oneof_member_the_kernel_leaves_out_is_an_error_not_dropped():
    from flyteidl.core import artifact_id_pb2

    parameter = interface_pb2.Parameter(
        var=interface_pb2.Variable(type=types_pb2.LiteralType(simple=types_pb2.INTEGER))
    )
    parameter.artifact_id.CopyFrom(artifact_id_pb2.ArtifactID(version="1"))
    with pytest.raises(
        CodecError, match=r"flyteidl.core.Parameter.artifact_id \(oneof 'behavior'\) has no counterpart"
    ):
        from_proto(parameter)
    # Left-out fields outside a oneof are ignored.
    variable = interface_pb2.Variable(type=types_pb2.LiteralType(simple=types_pb2.INTEGER), description="d")
    variable.artifact_tag.artifact_key.name = "a"
    assert from_proto(variable) == interface.Variable(
        type=types.LiteralType(simple=types.SimpleType.INTEGER), description="d"
    )


def test_a_truncated_or_corrupt_literal_map_names_its_source():
    literal_map = TypeEngine.dict_to_literal_map(None, {"text": "hello, world"}, {"text": str})
    data = literal_map_to_bytes(literal_map)
    assert literal_map_from_bytes(data, source="s3://bucket/inputs.pb") == literal_map
    with pytest.raises(
        StorageError, match=r"'s3://bucket/inputs.pb' is not a flyteidl LiteralMap .*truncated or corrupt"
    ):
        literal_map_from_bytes(data[:-3], source="s3://bucket/inputs.pb")
    with pytest.raises(StorageError, match=r"payload is not a flyteidl LiteralMap"):
        literal_map_from_bytes(b"\xff\xff\xff")
    invalid = literals_pb2.LiteralMap()
    invalid.literals["x"].hash = "no value"
    with pytest.raises(StorageError, match=r"'outputs.pb' holds an invalid flyteidl LiteralMap: .*literals\['x'\]"):
        literal_map_from_bytes(invalid.SerializeToString(), source="outputs.pb")


# --- nesting: protobuf readers refuse messages nested more than 100 levels ----------------------


def nested_lists(depth: int) -> lit.LiteralMap:
    """``{"x": [[...[1]...]]}`` with ``depth`` lists."""
    value: typing.Any = 1
    python_type: typing.Any = int
    for _ in range(depth):
        value, python_type = [value], list[python_type]
    return TypeEngine.dict_to_literal_map(None, {"x": value}, {"x": python_type})


def test_nested_lists_are_written_as_deep_as_they_read_back_and_refused_one_level_deeper():
    # flyteidl's parser (upb and pure Python alike) reads 48 nested lists in a LiteralMap and not
    # 49: the map's entry and each list's Literal and LiteralCollection are a level each, the
    # innermost Scalar and Primitive two more, so 48 lists end at level 1 + 2 * 48 + 3 = 100.
    written = []
    for depth in range(10, 121):
        literal_map = nested_lists(depth)
        try:
            data = literal_map_to_bytes(literal_map)
        except CodecError as error:
            assert "nested too deep: level 101 of the document" in str(error)
            continue
        written.append(depth)
        assert literal_map_from_bytes(data, source="outputs.pb") == literal_map
        literals_pb2.LiteralMap().ParseFromString(data)
    assert written == list(range(10, 49))
    with pytest.raises(CodecError, match=r"nested too deep: level 101 of the document.* stop at 100 levels") as raised:
        literal_map_to_bytes(nested_lists(49))
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 400


def test_a_literal_map_nested_too_deep_to_read_says_so_when_read():
    message = literals_pb2.LiteralMap()
    literal = message.literals["x"]
    for _ in range(60):
        literal = literal.collection.literals.add()
    literal.scalar.primitive.integer = 1
    with pytest.raises(StorageError, match=r"'outputs.pb' nests messages deeper than protobuf's limit of 100 levels"):
        literal_map_from_bytes(message.SerializeToString(), source="outputs.pb")


#: One step of a nested value: a list or map literal, a JSON list or object inside a Struct.
literal_steps = st.lists(st.sampled_from(["list", "map"]), min_size=20, max_size=52)
json_steps = st.lists(st.sampled_from(["list", "object"]), max_size=40)


def nested_literal(literal_path: list[str], json_path: list[str], tagged: bool) -> lit.Literal:
    """A literal nested along ``literal_path``, then (when ``json_path``) a Struct nested along it;
    ``tagged`` puts a metadata entry (a map of strings: one more level) on the innermost literal."""
    json: typing.Any = 1
    for step in reversed(json_path):
        json = [json] if step == "list" else {"k": json}
    if json_path:
        leaf = lit.Literal(scalar=lit.Scalar(generic={"k": json}))
    else:
        leaf = lit.Literal(scalar=lit.Scalar(primitive=lit.Primitive(integer=1)))
    if tagged:
        leaf = attrs.evolve(leaf, metadata={"tag": "t"})
    for step in reversed(literal_path):
        if step == "list":
            leaf = lit.Literal(collection=lit.LiteralCollection(literals=(leaf,)))
        else:
            leaf = lit.Literal(map=lit.LiteralMap(literals={"k": leaf}))
    return leaf


# Cheap examples, and the boundary (protobuf's 100 levels) is narrow: many more than the profile's.
@settings(max_examples=300)
@given(literal_steps, json_steps, st.booleans())
def test_a_value_is_refused_when_written_exactly_when_flyteidl_could_not_read_it_back(literal_path, json_path, tagged):
    import taskloom_flyte.codec as codec

    literal_map = lit.LiteralMap(literals={"x": nested_literal(literal_path, json_path, tagged)})
    with pytest.MonkeyPatch.context() as patch:  # what the bytes would be without the check
        patch.setattr(codec, "MAX_DEPTH", 10_000)
        unchecked = literal_map_to_bytes(literal_map)
    try:
        literals_pb2.LiteralMap().ParseFromString(unchecked)
        readable = True
    except Exception:
        readable = False
    if readable:
        data = literal_map_to_bytes(literal_map)
        assert data == unchecked and literal_map_from_bytes(data) == literal_map
    else:
        with pytest.raises(CodecError, match=r"nested too deep: level 101 of the document"):
            literal_map_to_bytes(literal_map)


def test_to_proto_counts_the_levels_of_the_document_that_encloses_the_message():
    literal = nested_lists(48).literals["x"]  # its Primitive is 98 levels below the Literal
    to_proto(literal)
    to_proto(literal, depth=2)  # e.g. in a LiteralMap's entry
    with pytest.raises(CodecError, match=r"nested too deep: level 101 of the document"):
        to_proto(literal, depth=3)


def test_the_bytes_functions_refuse_other_types():
    with pytest.raises(TypeError, match="literal_map_to_bytes: expected a LiteralMap, got .*Literal"):
        literal_map_to_bytes(lit.Literal(scalar=lit.Scalar(none_type=lit.Void())))
    with pytest.raises(TypeError, match="literal_map_from_bytes: expected bytes for 'x.pb', got builtins.str"):
        literal_map_from_bytes("not bytes", source="x.pb")
    with pytest.raises(TypeError, match="workflow_closure_from_proto: expected a flyteidl WorkflowClosure"):
        workflow_closure_from_proto(workflow_pb2.WorkflowTemplate())


def test_importing_taskloom_and_the_plugin_hooks_imports_no_protobuf():
    code = (
        "import sys, taskloom, taskloom_flyte, taskloom_flyte.hooks, taskloom.models.workflow\n"
        "print([name for name in sys.modules if name.startswith(('google.protobuf', 'flyteidl'))])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_messages_of_every_flyteidl_module_are_mapped():
    modules = {message.DESCRIPTOR.file.name for message in MESSAGES.values()}
    assert modules == {
        "flyteidl/core/identifier.proto",
        "flyteidl/core/types.proto",
        "flyteidl/core/literals.proto",
        "flyteidl/core/interface.proto",
        "flyteidl/core/security.proto",
        "flyteidl/core/tasks.proto",
        "flyteidl/core/condition.proto",
        "flyteidl/core/workflow.proto",
        "flyteidl/core/dynamic_job.proto",
        "flyteidl/admin/schedule.proto",
        "flyteidl/admin/common.proto",
        "flyteidl/admin/launch_plan.proto",
    }
    assert MESSAGES[lit.Literal] is literals_pb2.Literal
    assert MESSAGES[lp_models.LaunchPlan] is launch_plan_pb2.LaunchPlan
    assert MESSAGES[lp_models.Notification] is common_pb2.Notification
