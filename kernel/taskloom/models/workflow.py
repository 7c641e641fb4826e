"""Workflow templates, their nodes and the conditions of branch nodes.

Mirrors flyteidl ``core/workflow.proto`` and ``core/condition.proto``. :class:`Node`,
:class:`BranchNode`, :class:`IfElseBlock`, :class:`IfBlock` and :class:`ArrayNode` are mutually
recursive, as are :class:`BooleanExpression` and :class:`ConjunctionExpression`.
flyteidl's ``WorkflowMetadata.quality_of_service`` is left out: taskloom has no QoS tiers.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from taskloom.models._fields import as_tuple
from taskloom.models._oneof import oneof
from taskloom.models.identifier import Identifier
from taskloom.models.interface import TypedInterface
from taskloom.models.literals import Binding, LiteralMap, Primitive, RetryStrategy, Scalar
from taskloom.models.task import ExtendedResources, K8sPod, Resources
from taskloom.models.types import Error, LiteralType

# ---------------------------------------------------------------------------------------------
# Conditions (flyteidl core/condition.proto)
# ---------------------------------------------------------------------------------------------


class ComparisonOperator(enum.Enum):
    """A binary comparison (flyteidl ``core.ComparisonExpression.Operator``)."""

    EQ = 0
    NEQ = 1
    GT = 2
    GTE = 3
    LT = 4
    LTE = 5


@attrs.frozen
@oneof("val", "primitive", "var", "scalar")
class Operand:
    """One side of a comparison: a constant or an input variable of the branch node (flyteidl ``core.Operand``).

    flyteidl prefers ``scalar`` over ``primitive`` for constants; both are kept.
    """

    primitive: Primitive | None = None
    var: str | None = None
    scalar: Scalar | None = None


@attrs.frozen
class ComparisonExpression:
    """``left_value <operator> right_value`` (flyteidl ``core.ComparisonExpression``)."""

    Operator = ComparisonOperator

    operator: ComparisonOperator
    left_value: Operand
    right_value: Operand


class LogicalOperator(enum.Enum):
    """How two boolean expressions combine (flyteidl ``core.ConjunctionExpression.LogicalOperator``)."""

    AND = 0
    OR = 1


@attrs.frozen
class ConjunctionExpression:
    """``left_expression AND|OR right_expression`` (flyteidl ``core.ConjunctionExpression``)."""

    LogicalOperator = LogicalOperator

    operator: LogicalOperator
    left_expression: BooleanExpression
    right_expression: BooleanExpression


@attrs.frozen
@oneof("expr", "conjunction", "comparison")
class BooleanExpression:
    """A condition: a comparison or a conjunction of conditions (flyteidl ``core.BooleanExpression``)."""

    conjunction: ConjunctionExpression | None = None
    comparison: ComparisonExpression | None = None


# ---------------------------------------------------------------------------------------------
# Branch nodes
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class IfBlock:
    """A condition and the node run when it holds (flyteidl ``core.IfBlock``)."""

    condition: BooleanExpression
    then_node: Node


@attrs.frozen
@oneof("default", "else_node", "error")
class IfElseBlock:
    """``if case: ... elif other...: ... else: else_node``, or fail with ``error`` (flyteidl ``core.IfElseBlock``)."""

    case: IfBlock
    other: tuple[IfBlock, ...] = attrs.field(default=(), converter=as_tuple)
    else_node: Node | None = None
    error: Error | None = None


@attrs.frozen
class BranchNode:
    """A node that runs one of several nodes depending on conditions (flyteidl ``core.BranchNode``)."""

    if_else: IfElseBlock


# ---------------------------------------------------------------------------------------------
# Task, workflow and gate nodes
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class TaskNodeOverrides:
    """Per-node overrides of a task's resources, image and pod template (flyteidl ``core.TaskNodeOverrides``)."""

    resources: Resources | None = None
    extended_resources: ExtendedResources | None = None
    container_image: str = ""
    pod_template: K8sPod | None = None


@attrs.frozen
class TaskNode:
    """A node that runs a task (flyteidl ``core.TaskNode``)."""

    reference_id: Identifier
    overrides: TaskNodeOverrides | None = None


@attrs.frozen
@oneof("reference", "launchplan_ref", "sub_workflow_ref")
class WorkflowNode:
    """A node that runs a launch plan or an inlined sub-workflow (flyteidl ``core.WorkflowNode``)."""

    launchplan_ref: Identifier | None = None
    sub_workflow_ref: Identifier | None = None


@attrs.frozen
class ApproveCondition:
    """Wait until a person approves (flyteidl ``core.ApproveCondition``)."""

    signal_id: str


@attrs.frozen
class SignalCondition:
    """Wait for a typed value sent to the execution (flyteidl ``core.SignalCondition``)."""

    signal_id: str
    type: LiteralType
    output_variable_name: str = ""


@attrs.frozen
class SleepCondition:
    """Wait for a fixed duration (flyteidl ``core.SleepCondition``)."""

    duration: dt.timedelta


@attrs.frozen
@oneof("condition", "approve", "signal", "sleep")
class GateNode:
    """A node that waits for an approval, a signal or a duration (flyteidl ``core.GateNode``)."""

    approve: ApproveCondition | None = None
    signal: SignalCondition | None = None
    sleep: SleepCondition | None = None


# ---------------------------------------------------------------------------------------------
# Array nodes
# ---------------------------------------------------------------------------------------------


class ExecutionMode(enum.Enum):
    """How much state an array node keeps per sub-node (flyteidl ``core.ArrayNode.ExecutionMode``)."""

    MINIMAL_STATE = 0
    FULL_STATE = 1


class DataMode(enum.Enum):
    """How an array node hands inputs to its sub-nodes (flyteidl ``core.ArrayNode.DataMode``)."""

    SINGLE_INPUT_FILE = 0
    INDIVIDUAL_INPUT_FILES = 1


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@attrs.frozen
@oneof("success_criteria", "min_successes", "min_success_ratio", required=False)
class ArrayNode:
    """A node that runs ``node`` once per element of its list inputs (flyteidl ``core.ArrayNode``).

    ``parallelism`` None means the platform default, 0 means unbounded. ``bound_inputs`` names the
    inputs passed whole to every sub-node instead of element by element.
    """

    ExecutionMode = ExecutionMode
    DataMode = DataMode

    node: Node
    parallelism: int | None = None
    min_successes: int | None = None
    min_success_ratio: float | None = attrs.field(default=None, converter=_optional_float)
    execution_mode: ExecutionMode = ExecutionMode.MINIMAL_STATE
    is_original_sub_node_interface: bool | None = None
    data_mode: DataMode = DataMode.SINGLE_INPUT_FILE
    bound_inputs: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    run_all_sub_nodes: bool = False


# ---------------------------------------------------------------------------------------------
# Nodes and workflows
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class NodeMetadata:
    """How a node is run: display name, timeout, retries, caching (flyteidl ``core.NodeMetadata``).

    ``interruptible``, ``cacheable``, ``cache_version`` and ``cache_serializable`` are None when the
    node does not override its task (flyteidl tracks their presence).
    """

    name: str = ""
    timeout: dt.timedelta | None = None
    retries: RetryStrategy = attrs.field(factory=RetryStrategy)
    interruptible: bool | None = None
    cacheable: bool | None = None
    cache_version: str | None = None
    cache_serializable: bool | None = None
    config: dict[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class Alias:
    """Another name for an output of a node (flyteidl ``core.Alias``)."""

    var: str
    alias: str


@attrs.frozen
@oneof("target", "task_node", "workflow_node", "branch_node", "gate_node", "array_node", required=False)
class Node:
    """A step of a workflow: its inputs, its upstream nodes and what it runs (flyteidl ``core.Node``).

    The target is None only for the start and end nodes of a compiled workflow.
    """

    id: str
    metadata: NodeMetadata | None = None
    inputs: tuple[Binding, ...] = attrs.field(default=(), converter=as_tuple)
    upstream_node_ids: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    output_aliases: tuple[Alias, ...] = attrs.field(default=(), converter=as_tuple)
    task_node: TaskNode | None = None
    workflow_node: WorkflowNode | None = None
    branch_node: BranchNode | None = None
    gate_node: GateNode | None = None
    array_node: ArrayNode | None = None


class OnFailurePolicy(enum.Enum):
    """What a workflow does when a node fails (flyteidl ``core.WorkflowMetadata.OnFailurePolicy``)."""

    FAIL_IMMEDIATELY = 0
    FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = 1


@attrs.frozen
class WorkflowMetadata:
    """Workflow-wide settings: failure policy and tags (flyteidl ``core.WorkflowMetadata``)."""

    OnFailurePolicy = OnFailurePolicy

    on_failure: OnFailurePolicy = OnFailurePolicy.FAIL_IMMEDIATELY
    tags: dict[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class WorkflowMetadataDefaults:
    """Defaults that every node of a workflow inherits (flyteidl ``core.WorkflowMetadataDefaults``)."""

    interruptible: bool = False


@attrs.frozen
class WorkflowTemplate:
    """A workflow: its interface, nodes, output bindings and failure handler (flyteidl ``core.WorkflowTemplate``)."""

    id: Identifier
    metadata: WorkflowMetadata = attrs.field(factory=WorkflowMetadata)
    interface: TypedInterface = attrs.field(factory=TypedInterface)
    nodes: tuple[Node, ...] = attrs.field(default=(), converter=as_tuple)
    outputs: tuple[Binding, ...] = attrs.field(default=(), converter=as_tuple)
    failure_node: Node | None = None
    metadata_defaults: WorkflowMetadataDefaults = attrs.field(factory=WorkflowMetadataDefaults)


@attrs.frozen
class LaunchPlanTemplate:
    """The compiled view of a launch plan: its interface and fixed inputs (flyteidl ``core.LaunchPlanTemplate``)."""

    id: Identifier
    interface: TypedInterface = attrs.field(factory=TypedInterface)
    fixed_inputs: LiteralMap = attrs.field(factory=LiteralMap)
