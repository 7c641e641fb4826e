"""Hypothesis strategies that build random instances of every contract in :mod:`taskloom.models`.

Needs the ``taskloom-kernel[testing]`` extra (hypothesis). Use :func:`strategy_for` to get the
strategy of a contract class, or the named strategies (:data:`literals`, :data:`literal_types`,
:data:`nodes`...) directly::

    from hypothesis import given
    from taskloom.testing.strategies import literals

    @given(literals)
    def test_something(literal): ...

Recursive contracts are built with ``st.recursive`` and a small ``max_leaves`` so that examples stay
small and tests fast. Generated values are what the converter must round-trip exactly: floats may be
infinite but never NaN (NaN is unequal to itself), datetimes are UTC, durations and integers stay
within the ranges of their flyteidl fields (``int32``, ``uint32``...), ratios are short decimals (a
32-bit float in flyteidl), and ``google.protobuf.Struct`` fields hold finite JSON data.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, TypeVar

import attrs
from hypothesis import strategies as st

from taskloom.models import (
    dynamic_job,
    identifier,
    interface,
    launch_plan,
    security,
    task,
    types,
    workflow,
)
from taskloom.models import (
    literals as lit,
)

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------

texts = st.text(max_size=8)
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
uint32s = st.integers(min_value=0, max_value=2**32 - 1)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
non_negative_int32s = st.integers(min_value=0, max_value=2**31 - 1)
# Ratios as people write them: flyteidl holds ArrayNode.min_success_ratio as a 32-bit float, which
# keeps a decimal of up to 6 significant digits but not every 64-bit float.
ratios = st.integers(min_value=0, max_value=10_000).map(lambda n: n / 10_000)
floats = st.floats(allow_nan=False)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
datetimes = st.datetimes(timezones=st.just(dt.UTC))
# google.protobuf.Duration spans +-10,000 years.
timedeltas = st.timedeltas(min_value=-dt.timedelta(days=3_652_500), max_value=dt.timedelta(days=3_652_500))
byte_strings = st.binary(max_size=16)
string_maps = st.dictionaries(names, texts, max_size=3)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | finite_floats | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=6,
)
#: The JSON-able dicts that stand for ``google.protobuf.Struct``.
structs = st.dictionaries(texts, json_values, max_size=3)


def _enum(cls: type[enum.Enum]) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(cls))


def _tuples(strategy: st.SearchStrategy[T], max_size: int = 3) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(strategy, max_size=max_size).map(tuple)


def _maps(strategy: st.SearchStrategy[T], max_size: int = 3) -> st.SearchStrategy[dict[str, T]]:
    return st.dictionaries(names, strategy, max_size=max_size)


def _one_of_fields(cls: type[T], fields: dict[str, st.SearchStrategy[Any]], **common: Any) -> st.SearchStrategy[T]:
    """Instances of ``cls`` with exactly one of ``fields`` set (a oneof), plus ``common`` fields."""
    return st.one_of(*(st.builds(cls, **{name: strategy}, **common) for name, strategy in fields.items()))


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


# ---------------------------------------------------------------------------------------------
# identifier.py
# ---------------------------------------------------------------------------------------------

identifiers = st.builds(
    identifier.Identifier,
    resource_type=_enum(identifier.ResourceType),
    project=names,
    domain=names,
    name=names,
    version=names,
    org=texts,
)
workflow_execution_identifiers = st.builds(
    identifier.WorkflowExecutionIdentifier, project=names, domain=names, name=names, org=texts
)
node_execution_identifiers = st.builds(
    identifier.NodeExecutionIdentifier, node_id=names, execution_id=workflow_execution_identifiers
)
task_execution_identifiers = st.builds(
    identifier.TaskExecutionIdentifier,
    task_id=identifiers,
    node_execution_id=node_execution_identifiers,
    retry_attempt=uint32s,
)
signal_identifiers = st.builds(
    identifier.SignalIdentifier, signal_id=names, execution_id=workflow_execution_identifiers
)

# ---------------------------------------------------------------------------------------------
# types.py
# ---------------------------------------------------------------------------------------------

schema_columns = st.builds(types.SchemaColumn, name=names, type=_enum(types.SchemaColumnType))
schema_types = st.builds(types.SchemaType, columns=_tuples(schema_columns))
blob_types = st.builds(types.BlobType, format=texts, dimensionality=_enum(types.BlobDimensionality))
enum_types = st.builds(types.EnumType, values=_tuples(names))
type_annotations = st.builds(types.TypeAnnotation, annotations=structs)


def _structured_dataset_types(columns: st.SearchStrategy[types.LiteralType]) -> st.SearchStrategy[Any]:
    return st.builds(
        types.StructuredDatasetType,
        columns=_tuples(st.builds(types.DatasetColumn, name=names, literal_type=columns), max_size=2),
        format=texts,
        external_schema_type=texts,
        external_schema_bytes=byte_strings,
    )


def _literal_types_of(
    kinds: dict[str, st.SearchStrategy[Any]], children: st.SearchStrategy[types.LiteralType] | None
) -> st.SearchStrategy[types.LiteralType]:
    structure = (
        st.builds(types.TypeStructure, tag=texts, dataclass_type=_maps(children, max_size=2))
        if children is not None
        else st.builds(types.TypeStructure, tag=texts)
    )
    return _one_of_fields(
        types.LiteralType,
        kinds,
        metadata=_optional(structs),
        annotation=_optional(type_annotations),
        structure=_optional(structure),
    )


_simple_literal_types = _literal_types_of(
    {
        "simple": _enum(types.SimpleType),
        "schema": schema_types,
        "blob": blob_types,
        "enum_type": enum_types,
        "structured_dataset_type": st.builds(types.StructuredDatasetType, format=texts),
    },
    None,
)

literal_types: st.SearchStrategy[types.LiteralType] = st.recursive(
    _simple_literal_types,
    lambda children: _literal_types_of(
        {
            "collection_type": children,
            "map_value_type": children,
            "union_type": st.builds(types.UnionType, variants=_tuples(children)),
            "structured_dataset_type": _structured_dataset_types(children),
        },
        children,
    ),
    max_leaves=4,
)

dataset_columns = st.builds(types.DatasetColumn, name=names, literal_type=literal_types)
structured_dataset_types = _structured_dataset_types(literal_types)
union_types = st.builds(types.UnionType, variants=_tuples(literal_types))
type_structures = st.builds(types.TypeStructure, tag=texts, dataclass_type=_maps(literal_types, max_size=2))
promise_attributes = _one_of_fields(types.PromiseAttribute, {"string_value": texts, "int_value": int32s})
output_references = st.builds(types.OutputReference, node_id=names, var=names, attr_path=_tuples(promise_attributes))
errors = st.builds(types.Error, failed_node_id=names, message=texts)

# ---------------------------------------------------------------------------------------------
# literals.py
# ---------------------------------------------------------------------------------------------

primitives = _one_of_fields(
    lit.Primitive,
    {
        "integer": int64s,
        "float_value": floats,
        "string_value": texts,
        "boolean": st.booleans(),
        "datetime": datetimes,
        "duration": timedeltas,
    },
)
voids = st.builds(lit.Void)
blob_metadata = st.builds(lit.BlobMetadata, type=blob_types)
blobs = st.builds(lit.Blob, metadata=blob_metadata, uri=texts)
binaries = st.builds(lit.Binary, value=byte_strings, tag=texts)
schemas = st.builds(lit.Schema, uri=texts, type=schema_types)
structured_dataset_metadata = st.builds(
    lit.StructuredDatasetMetadata, structured_dataset_type=_optional(structured_dataset_types)
)
structured_datasets = st.builds(lit.StructuredDataset, uri=texts, metadata=_optional(structured_dataset_metadata))
literal_offloaded_metadata = st.builds(
    lit.LiteralOffloadedMetadata, uri=texts, size_bytes=uint32s, inferred_type=_optional(literal_types)
)

_scalar_kinds: dict[str, st.SearchStrategy[Any]] = {
    "primitive": primitives,
    "blob": blobs,
    "binary": binaries,
    "schema": schemas,
    "none_type": voids,
    "error": errors,
    "generic": structs,
    "structured_dataset": structured_datasets,
}
_simple_scalars = _one_of_fields(lit.Scalar, _scalar_kinds)


def _literals_of(kinds: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[lit.Literal]:
    return _one_of_fields(lit.Literal, kinds, hash=texts, metadata=string_maps)


literals: st.SearchStrategy[lit.Literal] = st.recursive(
    _literals_of({"scalar": _simple_scalars, "offloaded_metadata": literal_offloaded_metadata}),
    lambda children: _literals_of(
        {
            "collection": st.builds(lit.LiteralCollection, literals=_tuples(children)),
            "map": st.builds(lit.LiteralMap, literals=_maps(children)),
            "scalar": st.builds(lit.Scalar, union=st.builds(lit.Union, value=children, type=literal_types)),
        }
    ),
    max_leaves=4,
)

unions = st.builds(lit.Union, value=literals, type=literal_types)
scalars = _one_of_fields(lit.Scalar, {**_scalar_kinds, "union": unions})
literal_collections = st.builds(lit.LiteralCollection, literals=_tuples(literals))
literal_maps = st.builds(lit.LiteralMap, literals=_maps(literals))
union_infos = st.builds(lit.UnionInfo, targetType=literal_types)


def _binding_data_of(kinds: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[lit.BindingData]:
    return _one_of_fields(lit.BindingData, kinds, union=_optional(union_infos))


binding_data: st.SearchStrategy[lit.BindingData] = st.recursive(
    _binding_data_of(
        {"scalar": _simple_scalars, "promise": output_references, "offloaded_metadata": literal_offloaded_metadata}
    ),
    lambda children: _binding_data_of(
        {
            "collection": st.builds(lit.BindingDataCollection, bindings=_tuples(children)),
            "map": st.builds(lit.BindingDataMap, bindings=_maps(children)),
        }
    ),
    max_leaves=4,
)
binding_data_collections = st.builds(lit.BindingDataCollection, bindings=_tuples(binding_data))
binding_data_maps = st.builds(lit.BindingDataMap, bindings=_maps(binding_data))
bindings = st.builds(lit.Binding, var=names, binding=binding_data)
key_value_pairs = st.builds(lit.KeyValuePair, key=names, value=texts)
retry_strategies = st.builds(lit.RetryStrategy, retries=uint32s)

# ---------------------------------------------------------------------------------------------
# interface.py
# ---------------------------------------------------------------------------------------------

variables = st.builds(interface.Variable, type=literal_types, description=texts)
variable_maps = st.builds(interface.VariableMap, variables=_maps(variables))
typed_interfaces = st.builds(interface.TypedInterface, inputs=variable_maps, outputs=variable_maps)
parameters = st.one_of(
    st.builds(interface.Parameter, var=variables),
    st.builds(interface.Parameter, var=variables, default=literals),
    st.builds(interface.Parameter, var=variables, required=st.booleans()),
)
parameter_maps = st.builds(interface.ParameterMap, parameters=_maps(parameters))

# ---------------------------------------------------------------------------------------------
# security.py
# ---------------------------------------------------------------------------------------------

secrets = st.builds(
    security.Secret,
    group=names,
    key=texts,
    group_version=texts,
    mount_requirement=_enum(security.MountType),
    env_var=texts,
)
oauth2_clients = st.builds(security.OAuth2Client, client_id=names, client_secret=secrets)
identities = st.builds(
    security.Identity,
    iam_role=texts,
    k8s_service_account=texts,
    oauth2_client=_optional(oauth2_clients),
    execution_identity=texts,
)
oauth2_token_requests = st.builds(
    security.OAuth2TokenRequest,
    name=names,
    type=_enum(security.OAuth2TokenType),
    client=_optional(oauth2_clients),
    idp_discovery_endpoint=texts,
    token_endpoint=texts,
)
security_contexts = st.builds(
    security.SecurityContext,
    run_as=_optional(identities),
    secrets=_tuples(secrets),
    tokens=_tuples(oauth2_token_requests),
)

# ---------------------------------------------------------------------------------------------
# task.py
# ---------------------------------------------------------------------------------------------

resource_entries = st.builds(task.ResourceEntry, name=_enum(task.ResourceName), value=texts)
resources = st.builds(task.Resources, requests=_tuples(resource_entries), limits=_tuples(resource_entries))
gpu_accelerators = st.one_of(
    st.builds(task.GPUAccelerator, device=texts),
    st.builds(task.GPUAccelerator, device=texts, unpartitioned=st.booleans()),
    st.builds(task.GPUAccelerator, device=texts, partition_size=texts),
)
shared_memories = st.builds(task.SharedMemory, mount_path=texts, mount_name=texts, size_limit=texts)
extended_resources = st.builds(
    task.ExtendedResources, gpu_accelerator=_optional(gpu_accelerators), shared_memory=_optional(shared_memories)
)
runtime_metadata = st.builds(task.RuntimeMetadata, type=_enum(task.RuntimeType), version=texts, flavor=texts)
k8s_object_metadata = st.builds(task.K8sObjectMetadata, labels=string_maps, annotations=string_maps)
task_metadata = st.builds(
    task.TaskMetadata,
    discoverable=st.booleans(),
    runtime=_optional(runtime_metadata),
    timeout=_optional(timedeltas),
    retries=retry_strategies,
    discovery_version=texts,
    deprecated_error_message=texts,
    interruptible=_optional(st.booleans()),
    cache_serializable=st.booleans(),
    tags=string_maps,
    pod_template_name=texts,
    cache_ignore_input_vars=_tuples(names),
    is_eager=st.booleans(),
    generates_deck=_optional(st.booleans()),
    metadata=_optional(k8s_object_metadata),
)
container_ports = st.builds(task.ContainerPort, container_port=uint32s, name=texts)
io_strategies = st.builds(task.IOStrategy, download_mode=_enum(task.DownloadMode), upload_mode=_enum(task.UploadMode))
data_loading_configs = st.builds(
    task.DataLoadingConfig,
    enabled=st.booleans(),
    input_path=texts,
    output_path=texts,
    format=_enum(task.LiteralMapFormat),
    io_strategy=_optional(io_strategies),
)
containers = st.builds(
    task.Container,
    image=texts,
    command=_tuples(texts),
    args=_tuples(texts),
    resources=_optional(resources),
    env=_tuples(key_value_pairs),
    config=_tuples(key_value_pairs),
    ports=_tuples(container_ports),
    data_config=_optional(data_loading_configs),
    architecture=_enum(task.Architecture),
)
k8s_pods = st.builds(
    task.K8sPod,
    metadata=_optional(k8s_object_metadata),
    pod_spec=structs,
    data_config=_optional(data_loading_configs),
    primary_container_name=texts,
)
sqls = st.builds(task.Sql, statement=texts, dialect=_enum(task.Dialect))
_task_template_fields: dict[str, st.SearchStrategy[Any]] = {
    "id": identifiers,
    "type": names,
    "metadata": task_metadata,
    "interface": typed_interfaces,
    "custom": _optional(structs),
    "task_type_version": non_negative_int32s,
    "security_context": _optional(security_contexts),
    "extended_resources": _optional(extended_resources),
    "config": string_maps,
}
task_templates = st.one_of(
    st.builds(task.TaskTemplate, **_task_template_fields),
    st.builds(task.TaskTemplate, container=containers, **_task_template_fields),
    st.builds(task.TaskTemplate, k8s_pod=k8s_pods, **_task_template_fields),
    st.builds(task.TaskTemplate, sql=sqls, **_task_template_fields),
)

# ---------------------------------------------------------------------------------------------
# workflow.py
# ---------------------------------------------------------------------------------------------

operands = _one_of_fields(workflow.Operand, {"primitive": primitives, "var": names, "scalar": _simple_scalars})
comparison_expressions = st.builds(
    workflow.ComparisonExpression,
    operator=_enum(workflow.ComparisonOperator),
    left_value=operands,
    right_value=operands,
)
boolean_expressions: st.SearchStrategy[workflow.BooleanExpression] = st.recursive(
    st.builds(workflow.BooleanExpression, comparison=comparison_expressions),
    lambda children: st.builds(
        workflow.BooleanExpression,
        conjunction=st.builds(
            workflow.ConjunctionExpression,
            operator=_enum(workflow.LogicalOperator),
            left_expression=children,
            right_expression=children,
        ),
    ),
    max_leaves=3,
)
conjunction_expressions = st.builds(
    workflow.ConjunctionExpression,
    operator=_enum(workflow.LogicalOperator),
    left_expression=boolean_expressions,
    right_expression=boolean_expressions,
)
task_node_overrides = st.builds(
    workflow.TaskNodeOverrides,
    resources=_optional(resources),
    extended_resources=_optional(extended_resources),
    container_image=texts,
    pod_template=_optional(k8s_pods),
)
task_nodes = st.builds(workflow.TaskNode, reference_id=identifiers, overrides=_optional(task_node_overrides))
workflow_nodes = _one_of_fields(workflow.WorkflowNode, {"launchplan_ref": identifiers, "sub_workflow_ref": identifiers})
approve_conditions = st.builds(workflow.ApproveCondition, signal_id=names)
signal_conditions = st.builds(workflow.SignalCondition, signal_id=names, type=literal_types, output_variable_name=texts)
sleep_conditions = st.builds(workflow.SleepCondition, duration=timedeltas)
gate_nodes = _one_of_fields(
    workflow.GateNode, {"approve": approve_conditions, "signal": signal_conditions, "sleep": sleep_conditions}
)
node_metadata = st.builds(
    workflow.NodeMetadata,
    name=texts,
    timeout=_optional(timedeltas),
    retries=retry_strategies,
    interruptible=_optional(st.booleans()),
    cacheable=_optional(st.booleans()),
    cache_version=_optional(texts),
    cache_serializable=_optional(st.booleans()),
    config=string_maps,
)
aliases = st.builds(workflow.Alias, var=names, alias=names)


def _nodes_of(targets: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[workflow.Node]:
    common = {
        "id": names,
        "metadata": _optional(node_metadata),
        "inputs": _tuples(bindings, max_size=2),
        "upstream_node_ids": _tuples(names),
        "output_aliases": _tuples(aliases, max_size=2),
    }
    return st.one_of(
        st.builds(workflow.Node, **common),
        *(st.builds(workflow.Node, **{name: strategy}, **common) for name, strategy in targets.items()),
    )


def _array_nodes(children: st.SearchStrategy[workflow.Node]) -> st.SearchStrategy[workflow.ArrayNode]:
    common = {
        "node": children,
        "parallelism": _optional(uint32s),
        "execution_mode": _enum(workflow.ExecutionMode),
        "is_original_sub_node_interface": _optional(st.booleans()),
        "data_mode": _enum(workflow.DataMode),
        "bound_inputs": _tuples(names),
        "run_all_sub_nodes": st.booleans(),
    }
    return st.one_of(
        st.builds(workflow.ArrayNode, **common),
        st.builds(workflow.ArrayNode, min_successes=uint32s, **common),
        st.builds(workflow.ArrayNode, min_success_ratio=ratios, **common),
    )


def _if_else_blocks(children: st.SearchStrategy[workflow.Node]) -> st.SearchStrategy[workflow.IfElseBlock]:
    if_blocks = st.builds(workflow.IfBlock, condition=boolean_expressions, then_node=children)
    common = {"case": if_blocks, "other": _tuples(if_blocks, max_size=2)}
    return st.one_of(
        st.builds(workflow.IfElseBlock, else_node=children, **common),
        st.builds(workflow.IfElseBlock, error=errors, **common),
    )


nodes: st.SearchStrategy[workflow.Node] = st.recursive(
    _nodes_of({"task_node": task_nodes, "workflow_node": workflow_nodes, "gate_node": gate_nodes}),
    lambda children: _nodes_of(
        {
            "branch_node": st.builds(workflow.BranchNode, if_else=_if_else_blocks(children)),
            "array_node": _array_nodes(children),
        }
    ),
    max_leaves=3,
)
if_blocks = st.builds(workflow.IfBlock, condition=boolean_expressions, then_node=nodes)
if_else_blocks = _if_else_blocks(nodes)
branch_nodes = st.builds(workflow.BranchNode, if_else=if_else_blocks)
array_nodes = _array_nodes(nodes)
workflow_metadata = st.builds(workflow.WorkflowMetadata, on_failure=_enum(workflow.OnFailurePolicy), tags=string_maps)
workflow_metadata_defaults = st.builds(workflow.WorkflowMetadataDefaults, interruptible=st.booleans())
workflow_templates = st.builds(
    workflow.WorkflowTemplate,
    id=identifiers,
    metadata=workflow_metadata,
    interface=typed_interfaces,
    nodes=_tuples(nodes, max_size=2),
    outputs=_tuples(bindings, max_size=2),
    failure_node=_optional(nodes),
    metadata_defaults=workflow_metadata_defaults,
)
launch_plan_templates = st.builds(
    workflow.LaunchPlanTemplate, id=identifiers, interface=typed_interfaces, fixed_inputs=literal_maps
)

# ---------------------------------------------------------------------------------------------
# launch_plan.py
# ---------------------------------------------------------------------------------------------

fixed_rates = st.builds(launch_plan.FixedRate, value=uint32s, unit=_enum(launch_plan.FixedRateUnit))
cron_schedules = st.builds(launch_plan.CronSchedule, schedule=texts, offset=texts)
schedules = _one_of_fields(
    launch_plan.Schedule,
    {"cron_expression": texts, "rate": fixed_rates, "cron_schedule": cron_schedules},
    kickoff_time_input_arg=texts,
)
_recipients = {"recipients_email": _tuples(texts), "template": texts}
email_notifications = st.builds(launch_plan.EmailNotification, **_recipients)
pager_duty_notifications = st.builds(launch_plan.PagerDutyNotification, **_recipients)
slack_notifications = st.builds(launch_plan.SlackNotification, **_recipients)
notifications = _one_of_fields(
    launch_plan.Notification,
    {"email": email_notifications, "pager_duty": pager_duty_notifications, "slack": slack_notifications},
    phases=_tuples(_enum(launch_plan.WorkflowExecutionPhase)),
)
launch_plan_metadata = st.builds(
    launch_plan.LaunchPlanMetadata, schedule=_optional(schedules), notifications=_tuples(notifications, max_size=2)
)
labels = st.builds(launch_plan.Labels, values=string_maps)
annotation_maps = st.builds(launch_plan.Annotations, values=string_maps)
raw_output_data_configs = st.builds(launch_plan.RawOutputDataConfig, output_location_prefix=texts)
envs = st.builds(launch_plan.Envs, values=_tuples(key_value_pairs))
launch_plan_specs = st.builds(
    launch_plan.LaunchPlanSpec,
    workflow_id=identifiers,
    entity_metadata=launch_plan_metadata,
    default_inputs=parameter_maps,
    fixed_inputs=literal_maps,
    role=texts,
    labels=labels,
    annotations=annotation_maps,
    security_context=_optional(security_contexts),
    raw_output_data_config=raw_output_data_configs,
    max_parallelism=non_negative_int32s,
    interruptible=_optional(st.booleans()),
    overwrite_cache=st.booleans(),
    envs=envs,
)
launch_plans = st.builds(launch_plan.LaunchPlan, id=identifiers, spec=launch_plan_specs)

# ---------------------------------------------------------------------------------------------
# dynamic_job.py
# ---------------------------------------------------------------------------------------------

dynamic_job_specs = st.builds(
    dynamic_job.DynamicJobSpec,
    nodes=_tuples(nodes, max_size=2),
    min_successes=uint32s,
    outputs=_tuples(bindings, max_size=2),
    tasks=_tuples(task_templates, max_size=2),
    subworkflows=_tuples(workflow_templates, max_size=1),
)

# ---------------------------------------------------------------------------------------------
# Lookup by class
# ---------------------------------------------------------------------------------------------

_BY_CLASS: dict[type, st.SearchStrategy[Any]] = {
    identifier.Identifier: identifiers,
    identifier.WorkflowExecutionIdentifier: workflow_execution_identifiers,
    identifier.NodeExecutionIdentifier: node_execution_identifiers,
    identifier.TaskExecutionIdentifier: task_execution_identifiers,
    identifier.SignalIdentifier: signal_identifiers,
    types.SchemaColumn: schema_columns,
    types.SchemaType: schema_types,
    types.DatasetColumn: dataset_columns,
    types.StructuredDatasetType: structured_dataset_types,
    types.BlobType: blob_types,
    types.EnumType: enum_types,
    types.UnionType: union_types,
    types.TypeStructure: type_structures,
    types.TypeAnnotation: type_annotations,
    types.LiteralType: literal_types,
    types.PromiseAttribute: promise_attributes,
    types.OutputReference: output_references,
    types.Error: errors,
    lit.Primitive: primitives,
    lit.Void: voids,
    lit.BlobMetadata: blob_metadata,
    lit.Blob: blobs,
    lit.Binary: binaries,
    lit.Schema: schemas,
    lit.Union: unions,
    lit.StructuredDatasetMetadata: structured_dataset_metadata,
    lit.StructuredDataset: structured_datasets,
    lit.Scalar: scalars,
    lit.LiteralCollection: literal_collections,
    lit.LiteralMap: literal_maps,
    lit.LiteralOffloadedMetadata: literal_offloaded_metadata,
    lit.Literal: literals,
    lit.BindingDataCollection: binding_data_collections,
    lit.BindingDataMap: binding_data_maps,
    lit.UnionInfo: union_infos,
    lit.BindingData: binding_data,
    lit.Binding: bindings,
    lit.KeyValuePair: key_value_pairs,
    lit.RetryStrategy: retry_strategies,
    interface.Variable: variables,
    interface.VariableMap: variable_maps,
    interface.TypedInterface: typed_interfaces,
    interface.Parameter: parameters,
    interface.ParameterMap: parameter_maps,
    security.Secret: secrets,
    security.OAuth2Client: oauth2_clients,
    security.Identity: identities,
    security.OAuth2TokenRequest: oauth2_token_requests,
    security.SecurityContext: security_contexts,
    task.ResourceEntry: resource_entries,
    task.Resources: resources,
    task.GPUAccelerator: gpu_accelerators,
    task.SharedMemory: shared_memories,
    task.ExtendedResources: extended_resources,
    task.RuntimeMetadata: runtime_metadata,
    task.K8sObjectMetadata: k8s_object_metadata,
    task.TaskMetadata: task_metadata,
    task.ContainerPort: container_ports,
    task.IOStrategy: io_strategies,
    task.DataLoadingConfig: data_loading_configs,
    task.Container: containers,
    task.K8sPod: k8s_pods,
    task.Sql: sqls,
    task.TaskTemplate: task_templates,
    workflow.Operand: operands,
    workflow.ComparisonExpression: comparison_expressions,
    workflow.ConjunctionExpression: conjunction_expressions,
    workflow.BooleanExpression: boolean_expressions,
    workflow.IfBlock: if_blocks,
    workflow.IfElseBlock: if_else_blocks,
    workflow.BranchNode: branch_nodes,
    workflow.TaskNodeOverrides: task_node_overrides,
    workflow.TaskNode: task_nodes,
    workflow.WorkflowNode: workflow_nodes,
    workflow.ApproveCondition: approve_conditions,
    workflow.SignalCondition: signal_conditions,
    workflow.SleepCondition: sleep_conditions,
    workflow.GateNode: gate_nodes,
    workflow.ArrayNode: array_nodes,
    workflow.NodeMetadata: node_metadata,
    workflow.Alias: aliases,
    workflow.Node: nodes,
    workflow.WorkflowMetadata: workflow_metadata,
    workflow.WorkflowMetadataDefaults: workflow_metadata_defaults,
    workflow.WorkflowTemplate: workflow_templates,
    workflow.LaunchPlanTemplate: launch_plan_templates,
    launch_plan.FixedRate: fixed_rates,
    launch_plan.CronSchedule: cron_schedules,
    launch_plan.Schedule: schedules,
    launch_plan.EmailNotification: email_notifications,
    launch_plan.PagerDutyNotification: pager_duty_notifications,
    launch_plan.SlackNotification: slack_notifications,
    launch_plan.Notification: notifications,
    launch_plan.LaunchPlanMetadata: launch_plan_metadata,
    launch_plan.Labels: labels,
    launch_plan.Annotations: annotation_maps,
    launch_plan.RawOutputDataConfig: raw_output_data_configs,
    launch_plan.Envs: envs,
    launch_plan.LaunchPlanSpec: launch_plan_specs,
    launch_plan.LaunchPlan: launch_plans,
    dynamic_job.DynamicJobSpec: dynamic_job_specs,
}

#: The modules of :mod:`taskloom.models` that hold contracts.
CONTRACT_MODULES = (identifier, types, lit, interface, security, task, workflow, launch_plan, dynamic_job)


def contract_classes() -> list[type]:
    """Every contract class: each attrs class defined in a module of :data:`CONTRACT_MODULES`."""
    return [
        value
        for module in CONTRACT_MODULES
        for value in vars(module).values()
        if attrs.has(value) and value.__module__ == module.__name__
    ]


def strategy_for(cls: type[T]) -> st.SearchStrategy[T]:
    """Return the strategy that builds random instances of the contract class ``cls``.

    Raises KeyError naming the class when no strategy is registered for it.
    """
    try:
        return _BY_CLASS[cls]
    except KeyError:
        raise KeyError(f"no hypothesis strategy for contract {cls.__qualname__}") from None
