"""``create_node``: a call as a node object, with flytekit's name, path and behaviour.

Inside a workflow, ``create_node(t, a=1)`` adds the same node as ``t(a=1)`` but returns the
:class:`~taskloom.core.node.Node` itself, whose outputs are attributes (``node.o0``,
``node.out_name``) and which orders with ``>>`` and ``runs_before`` and takes ``with_overrides``::

    @workflow
    def wf() -> int:
        first = create_node(prepare)
        second = create_node(compute, a=3).with_overrides(retries=2)
        first >> second
        return second.o0

Inside a running task (a ``@dynamic`` body run locally, say) the entity is called at once, as
flytekit does: an entity with one output gives an object with that output as its attribute, one
with several outputs what the call returns, one with none ``None``. Anywhere else it is a
RuntimeError, as in flytekit.
"""

from __future__ import annotations

import collections
from typing import Any

from taskloom.core.compiler import current_compilation
from taskloom.core.context_manager import _current
from taskloom.core.node import _nodes_of
from taskloom.exceptions.user import ValidationError


def create_node(entity: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``entity`` (a task, workflow or launch plan) with keyword inputs and return its node
    (see the module docs).

    Positional inputs are a :class:`~taskloom.exceptions.user.ValidationError` (an AssertionError,
    as flytekit's), as is an output whose name is already a node attribute (``id``, ``outputs``...).
    """
    description = f"create_node({getattr(entity, 'name', entity)!r})"
    if args:
        raise ValidationError(f"{description}: inputs must be given by keyword, got {len(args)} positional {args!r}")
    if not callable(entity) or not hasattr(entity, "python_interface"):
        raise ValidationError(f"{description}: expected a task, workflow or launch plan, got {type(entity).__name__}")
    output_names = list(entity.python_interface.outputs)
    if current_compilation() is None:
        params = _current.get()
        if params is None or params._task_id is None:
            raise RuntimeError(
                f"{description}: create_node is for workflow bodies and running tasks, not top-level code"
            )
        results = entity(**kwargs)
        if len(output_names) == 1:  # flytekit's output tuple: the one output by name
            return collections.namedtuple(f"{_name(entity)}_outputs", output_names)(results)
        return results
    outcome = entity(**kwargs)
    (node,) = _nodes_of(outcome)
    promises = outcome if isinstance(outcome, tuple) else (outcome,)
    for name, promise in zip(output_names, promises):
        if hasattr(node, name):
            raise ValidationError(f"{description}: output {name!r} is already an attribute of the node: rename it")
        setattr(node, name, promise)
    return node


def _name(entity: Any) -> str:
    name = str(getattr(entity, "name", "entity")).rsplit(".", 1)[-1]
    return name if name.isidentifier() else "entity"
