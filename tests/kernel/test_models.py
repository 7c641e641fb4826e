"""Tests of the contracts in taskloom.models and of their converter."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import subprocess
import sys
import typing

import attrs
import pytest
from cattrs.errors import BaseValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from taskloom.models import identifier, interface, launch_plan, security, task, types, workflow
from taskloom.models import literals as lit
from taskloom.models.converter import from_json, get_converter, structure, to_json, unstructure
from taskloom.testing.strategies import contract_classes, strategy_for

# Hypothesis warns once per recursive strategy that its repr (computed for its own reports) is large.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

CONTRACTS = contract_classes()


def _primitive(**kwargs: typing.Any) -> lit.Literal:
    return lit.Literal(scalar=lit.Scalar(primitive=lit.Primitive(**kwargs)))


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


def test_every_contract_class_has_a_strategy() -> None:
    assert len(CONTRACTS) > 90
    for cls in CONTRACTS:
        strategy_for(cls)


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_contract_round_trips_through_json_and_unstructured_data(cls: type, data: st.DataObject) -> None:
    value = data.draw(strategy_for(cls))
    assert type(value) is cls
    assert structure(unstructure(value), cls) == value
    text = to_json(value)
    assert from_json(text, cls) == value
    assert to_json(from_json(text, cls)) == text
    # Contracts are hashable, and equal contracts hash equal.
    assert hash(from_json(text, cls)) == hash(value)


def test_recursive_annotations_resolve() -> None:
    get_converter()
    for cls in (
        lit.Literal,
        lit.LiteralCollection,
        types.LiteralType,
        types.UnionType,
        workflow.Node,
        workflow.BranchNode,
        workflow.IfBlock,
        workflow.BooleanExpression,
    ):
        for field in attrs.fields(cls):
            assert not isinstance(field.type, str), (cls, field.name)
    hints = typing.get_type_hints(lit.LiteralCollection)
    assert hints["literals"] == tuple[lit.Literal, ...]


def test_deeply_nested_literal_round_trips() -> None:
    value = _primitive(integer=1)
    for depth in range(30):
        value = (
            lit.Literal(collection=lit.LiteralCollection([value]))
            if depth % 2
            else lit.Literal(map=lit.LiteralMap({"k": value}))
        )
    assert from_json(to_json(value), lit.Literal) == value


def test_lists_are_accepted_for_repeated_fields_and_stored_as_tuples() -> None:
    collection = lit.LiteralCollection([_primitive(integer=1)])
    assert isinstance(collection.literals, tuple)


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------


def test_literal_json_is_compact_with_defaults_left_out() -> None:
    assert to_json(_primitive(integer=3)) == '{"scalar":{"primitive":{"integer":3}}}'


def test_oneof_member_set_to_a_zero_value_is_written() -> None:
    assert unstructure(lit.Primitive(integer=0)) == {"integer": 0}
    assert unstructure(lit.Primitive(boolean=False)) == {"boolean": False}
    assert unstructure(lit.Scalar(none_type=lit.Void())) == {"none_type": {}}
    assert unstructure(lit.Scalar(generic={})) == {"generic": {}}


def test_infinite_floats_are_written_as_strings_and_json_is_strict() -> None:
    for value, encoded in ((math.inf, "Infinity"), (-math.inf, "-Infinity")):
        primitive = lit.Primitive(float_value=value)
        text = to_json(primitive)
        assert json.loads(text, parse_constant=lambda name: pytest.fail(name)) == {"float_value": encoded}
        assert from_json(text, lit.Primitive) == primitive
    assert math.isnan(from_json(to_json(lit.Primitive(float_value=math.nan)), lit.Primitive).float_value)


def test_datetime_is_written_as_utc_iso_8601_with_microseconds() -> None:
    when = dt.datetime(2024, 1, 31, 12, 0, 0, 1, tzinfo=dt.UTC)
    assert unstructure(lit.Primitive(datetime=when)) == {"datetime": "2024-01-31T12:00:00.000001Z"}


def test_datetime_in_another_zone_is_stored_as_the_same_instant_in_utc() -> None:
    zone = dt.timezone(dt.timedelta(hours=2))
    primitive = lit.Primitive(datetime=dt.datetime(2024, 1, 1, 2, tzinfo=zone))
    assert primitive.datetime == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert primitive.datetime.tzinfo is dt.UTC


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="Primitive.*timezone-aware"):
        lit.Primitive(datetime=dt.datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("duration", "encoded"),
    [
        (dt.timedelta(0), "0s"),
        (dt.timedelta(seconds=90), "90s"),
        (dt.timedelta(microseconds=1), "0.000001s"),
        (-dt.timedelta(microseconds=1), "-0.000001s"),
        (-dt.timedelta(days=1, seconds=1, microseconds=500000), "-86401.500000s"),
    ],
)
def test_duration_is_written_in_protobuf_form_exactly(duration: dt.timedelta, encoded: str) -> None:
    assert unstructure(lit.Primitive(duration=duration)) == {"duration": encoded}
    assert structure({"duration": encoded}, lit.Primitive).duration == duration


def test_duration_with_nanoseconds_is_refused() -> None:
    with pytest.raises(BaseValidationError) as raised:
        structure({"duration": "0.000000001s"}, lit.Primitive)
    assert raised.group_contains(ValueError, match="nanoseconds", depth=None)


def test_bytes_are_written_as_base64() -> None:
    assert unstructure(lit.Binary(b"\x00\xff", "msgpack")) == {"value": "AP8=", "tag": "msgpack"}


def test_enums_are_written_by_name_and_read_by_name_or_number() -> None:
    literal_type = types.LiteralType(simple=types.SimpleType.STRUCT)
    assert unstructure(literal_type) == {"simple": "STRUCT"}
    assert structure({"simple": 9}, types.LiteralType) == literal_type


def test_struct_fields_pass_through_unchanged() -> None:
    custom = {"a": [1, 2.5, None, True, {"b": "c"}]}
    template = task.TaskTemplate(
        id=identifier.Identifier(identifier.ResourceType.TASK, "p", "d", "n", "v"), type="t", custom=custom
    )
    assert unstructure(template)["custom"] == custom
    assert unstructure(template)["custom"] is not custom


def test_unknown_keys_are_ignored_when_structuring() -> None:
    assert structure({"integer": 1, "added_later": 2}, lit.Primitive) == lit.Primitive(integer=1)


def test_converter_module_attribute_is_the_shared_converter() -> None:
    from taskloom.models import converter

    assert converter.converter is get_converter()


# ---------------------------------------------------------------------------------------------
# Oneofs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (lit.Primitive, {"integer": 1, "string_value": "x"}),
        (lit.Scalar, {"none_type": lit.Void(), "generic": {}}),
        (lit.Literal, {"scalar": lit.Scalar(none_type=lit.Void()), "collection": lit.LiteralCollection()}),
        (lit.BindingData, {"scalar": lit.Scalar(none_type=lit.Void()), "promise": types.OutputReference("n", "o")}),
        (types.LiteralType, {"simple": types.SimpleType.INTEGER, "blob": types.BlobType()}),
        (types.PromiseAttribute, {"string_value": "a", "int_value": 0}),
        (
            interface.Parameter,
            {
                "var": interface.Variable(types.LiteralType(simple=types.SimpleType.INTEGER)),
                "default": _primitive(integer=1),
                "required": True,
            },
        ),
        (task.GPUAccelerator, {"device": "a100", "unpartitioned": True, "partition_size": "1g"}),
        (
            task.TaskTemplate,
            {
                "id": identifier.Identifier(identifier.ResourceType.TASK, "p", "d", "n", "v"),
                "type": "t",
                "container": task.Container("img"),
                "sql": task.Sql("select 1"),
            },
        ),
        (workflow.Operand, {"var": "x", "primitive": lit.Primitive(integer=1)}),
        (
            workflow.WorkflowNode,
            {
                "launchplan_ref": identifier.Identifier(identifier.ResourceType.LAUNCH_PLAN, "p", "d", "n", "v"),
                "sub_workflow_ref": identifier.Identifier(identifier.ResourceType.WORKFLOW, "p", "d", "n", "v"),
            },
        ),
        (
            workflow.GateNode,
            {"approve": workflow.ApproveCondition("s"), "sleep": workflow.SleepCondition(dt.timedelta(1))},
        ),
        (workflow.ArrayNode, {"node": workflow.Node("n"), "min_successes": 1, "min_success_ratio": 0.5}),
        (
            workflow.Node,
            {
                "id": "n",
                "gate_node": workflow.GateNode(approve=workflow.ApproveCondition("s")),
                "workflow_node": workflow.WorkflowNode(
                    sub_workflow_ref=identifier.Identifier(identifier.ResourceType.WORKFLOW, "p", "d", "n", "v")
                ),
            },
        ),
        (launch_plan.Schedule, {"cron_expression": "* * * * *", "rate": launch_plan.FixedRate(1)}),
        (
            launch_plan.Notification,
            {"email": launch_plan.EmailNotification(), "slack": launch_plan.SlackNotification()},
        ),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_setting_two_members_of_a_oneof_raises_naming_the_class_and_fields(cls: type, kwargs: dict) -> None:
    members = [name for name in kwargs if name in cls.__oneofs__[next(iter(cls.__oneofs__))][0]]
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: .*'{members[0]}'.*'{members[1]}'") as raised:
        cls(**kwargs)
    assert "oneof" in str(raised.value)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (lit.Primitive, {}),
        (lit.Scalar, {}),
        (lit.Literal, {"hash": "h"}),
        (lit.BindingData, {}),
        (types.LiteralType, {"metadata": {}}),
        (types.PromiseAttribute, {}),
        (workflow.Operand, {}),
        (workflow.BooleanExpression, {}),
        (
            workflow.IfElseBlock,
            {
                "case": workflow.IfBlock(
                    workflow.BooleanExpression(
                        comparison=workflow.ComparisonExpression(
                            workflow.ComparisonOperator.EQ, workflow.Operand(var="a"), workflow.Operand(var="b")
                        )
                    ),
                    workflow.Node("then"),
                )
            },
        ),
        (workflow.WorkflowNode, {}),
        (workflow.GateNode, {}),
        (launch_plan.Schedule, {"kickoff_time_input_arg": "t"}),
        (launch_plan.Notification, {}),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_required_oneof_with_no_member_set_raises(cls: type, kwargs: dict) -> None:
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: exactly one of .* must be set .*got none"):
        cls(**kwargs)


@pytest.mark.parametrize(
    "value",
    [
        task.TaskTemplate(id=identifier.Identifier(identifier.ResourceType.TASK, "p", "d", "n", "v"), type="t"),
        workflow.Node("start-node"),
        interface.Parameter(interface.Variable(types.LiteralType(simple=types.SimpleType.INTEGER))),
        task.GPUAccelerator("a100"),
        workflow.ArrayNode(workflow.Node("n")),
    ],
    ids=lambda value: type(value).__name__,
)
def test_optional_oneof_may_be_left_unset(value: object) -> None:
    assert from_json(to_json(value), type(value)) == value


def test_oneof_violation_in_data_fails_to_structure() -> None:
    with pytest.raises(BaseValidationError) as raised:
        structure({"integer": 1, "boolean": True}, lit.Primitive)
    assert raised.group_contains(ValueError, match="^Primitive: exactly one of", depth=None)


# ---------------------------------------------------------------------------------------------
# Enums (values from flyteidl 1.16's descriptors)
# ---------------------------------------------------------------------------------------------

FLYTEIDL_ENUMS: list[tuple[type[enum.Enum], dict[str, int]]] = [
    (identifier.ResourceType, {"UNSPECIFIED": 0, "TASK": 1, "WORKFLOW": 2, "LAUNCH_PLAN": 3, "DATASET": 4}),
    (
        types.SimpleType,
        {
            "NONE": 0,
            "INTEGER": 1,
            "FLOAT": 2,
            "STRING": 3,
            "BOOLEAN": 4,
            "DATETIME": 5,
            "DURATION": 6,
            "BINARY": 7,
            "ERROR": 8,
            "STRUCT": 9,
        },
    ),
    (types.SchemaColumnType, {"INTEGER": 0, "FLOAT": 1, "STRING": 2, "BOOLEAN": 3, "DATETIME": 4, "DURATION": 5}),
    (types.BlobDimensionality, {"SINGLE": 0, "MULTIPART": 1}),
    (security.MountType, {"ANY": 0, "ENV_VAR": 1, "FILE": 2}),
    (security.OAuth2TokenType, {"CLIENT_CREDENTIALS": 0}),
    (task.ResourceName, {"UNKNOWN": 0, "CPU": 1, "GPU": 2, "MEMORY": 3, "STORAGE": 4, "EPHEMERAL_STORAGE": 5}),
    (task.RuntimeType, {"OTHER": 0, "FLYTE_SDK": 1}),
    (task.Architecture, {"UNKNOWN": 0, "AMD64": 1, "ARM64": 2, "ARM_V6": 3, "ARM_V7": 4}),
    (task.DownloadMode, {"DOWNLOAD_EAGER": 0, "DOWNLOAD_STREAM": 1, "DO_NOT_DOWNLOAD": 2}),
    (task.UploadMode, {"UPLOAD_ON_EXIT": 0, "UPLOAD_EAGER": 1, "DO_NOT_UPLOAD": 2}),
    (task.LiteralMapFormat, {"JSON": 0, "YAML": 1, "PROTO": 2}),
    (task.Dialect, {"UNDEFINED": 0, "ANSI": 1, "HIVE": 2, "OTHER": 3}),
    (workflow.ComparisonOperator, {"EQ": 0, "NEQ": 1, "GT": 2, "GTE": 3, "LT": 4, "LTE": 5}),
    (workflow.LogicalOperator, {"AND": 0, "OR": 1}),
    (workflow.ExecutionMode, {"MINIMAL_STATE": 0, "FULL_STATE": 1}),
    (workflow.DataMode, {"SINGLE_INPUT_FILE": 0, "INDIVIDUAL_INPUT_FILES": 1}),
    (workflow.OnFailurePolicy, {"FAIL_IMMEDIATELY": 0, "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE": 1}),
    (launch_plan.FixedRateUnit, {"MINUTE": 0, "HOUR": 1, "DAY": 2}),
    (
        launch_plan.WorkflowExecutionPhase,
        {
            "UNDEFINED": 0,
            "QUEUED": 1,
            "RUNNING": 2,
            "SUCCEEDING": 3,
            "SUCCEEDED": 4,
            "FAILING": 5,
            "FAILED": 6,
            "ABORTED": 7,
            "TIMED_OUT": 8,
            "ABORTING": 9,
        },
    ),
]


@pytest.mark.parametrize(("cls", "expected"), FLYTEIDL_ENUMS, ids=lambda value: getattr(value, "__name__", ""))
def test_enum_names_and_values_equal_flyteidl(cls: type[enum.Enum], expected: dict[str, int]) -> None:
    assert {member.name: member.value for member in cls} == expected


def test_every_enum_in_the_models_is_checked_against_flyteidl() -> None:
    from taskloom.testing.strategies import CONTRACT_MODULES

    found = {
        value
        for module in CONTRACT_MODULES
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == module.__name__
    }
    assert found == {cls for cls, _ in FLYTEIDL_ENUMS}


def test_nested_names_mirror_flyteidl() -> None:
    assert security.Secret.MountType.FILE.value == 2
    assert task.Resources.ResourceName.MEMORY.value == 3
    assert task.Resources.ResourceEntry is task.ResourceEntry
    assert types.BlobType.BlobDimensionality.MULTIPART.value == 1
    assert types.SchemaType.SchemaColumn.SchemaColumnType.DURATION.value == 5
    assert workflow.ComparisonExpression.Operator.LTE.value == 5
    assert workflow.WorkflowMetadata.OnFailurePolicy is workflow.OnFailurePolicy


# ---------------------------------------------------------------------------------------------
# Frozen, cheap to import
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda cls: cls.__name__)
@settings(max_examples=1)  # frozenness does not depend on the value: one per class is enough
@given(data=st.data())
def test_contract_is_frozen(cls: type, data: st.DataObject) -> None:
    value = data.draw(strategy_for(cls))
    field = attrs.fields(cls)[0].name if attrs.fields(cls) else "anything"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(value, field, None)


def test_importing_literals_does_not_import_cattrs() -> None:
    code = (
        "import sys, taskloom.models.literals, taskloom.models.converter;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cattrs', 'cattr', 'hypothesis')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_flytekit_models_core_paths_name_the_same_contracts():
    # `from flytekit.models.core.types import BlobType` ports by rewriting the import.
    from taskloom.models import identifier, types
    from taskloom.models.core import identifier as core_identifier
    from taskloom.models.core import types as core_types

    assert core_types.BlobType is types.BlobType and core_types.EnumType is types.EnumType
    for name in core_identifier.__all__:
        assert getattr(core_identifier, name) is getattr(identifier, name)
