"""Typed interfaces of tasks, workflows and launch plans (flyteidl ``core/interface.proto``).

flyteidl's artifact fields (``artifact_partial_id``, ``artifact_tag``, ``artifact_query``,
``artifact_id``) are left out: taskloom has no artifact service.
"""

from __future__ import annotations

import attrs

from taskloom.models._oneof import oneof
from taskloom.models.literals import Literal
from taskloom.models.types import LiteralType


@attrs.frozen
class Variable:
    """A typed input or output variable (flyteidl ``core.Variable``)."""

    type: LiteralType
    description: str = ""


@attrs.frozen
class VariableMap:
    """Variables by name, in declaration order (flyteidl ``core.VariableMap``)."""

    variables: dict[str, Variable] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class TypedInterface:
    """The inputs and outputs of an entity (flyteidl ``core.TypedInterface``)."""

    inputs: VariableMap = attrs.field(factory=VariableMap)
    outputs: VariableMap = attrs.field(factory=VariableMap)


@attrs.frozen
@oneof("behavior", "default", "required", required=False)
class Parameter:
    """A launch-plan input: a variable with either a default value or a required flag (flyteidl ``core.Parameter``)."""

    var: Variable
    default: Literal | None = None
    required: bool | None = None


@attrs.frozen
class ParameterMap:
    """Parameters by name (flyteidl ``core.ParameterMap``)."""

    parameters: dict[str, Parameter] = attrs.field(factory=dict, hash=False)
