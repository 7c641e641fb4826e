"""Entities registered elsewhere: ``reference_task``, ``reference_workflow``, ``reference_launch_plan``.

A reference is declared with the signature of the registered entity and its identifier::

    @reference_task(project="flytesnacks", domain="development", name="core.join", version="v3")
    def join(parts: list[str]) -> str: ...

In a workflow it makes a node that points at that identifier (a task node, a subworkflow node or a
launch plan node), and packaging ships no template for it. Called locally, it runs the function's
body when the user wrote one (a stand-in for tests and local runs); a body of only ``...``,
``pass`` or a docstring is no implementation, and calling it raises
:class:`ReferenceNotRunnableError` naming the identifier. (flytekit raises for every local call.)

To the local executors every reference is a task: its body is a function, whatever kind of entity
it stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskloom.core.interface import Interface
from taskloom.core.python_function_task import PythonFunctionTask
from taskloom.exceptions.user import UserException, ValidationError

if TYPE_CHECKING:
    from taskloom.core.node import Node
    from taskloom.models.workflow import Node as NodeModel
    from taskloom.translator import Translator

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").


class ReferenceNotRunnableError(UserException, NotImplementedError):
    """A reference entity without a local implementation was called outside a Flyte cluster.

    A ``NotImplementedError``, as the error flytekit raises, so that ``except NotImplementedError:``
    code ports.
    """


def _stub() -> None:
    """A docstring."""


def _empty() -> None:
    pass


def has_body(function: Callable[..., Any]) -> bool:
    """Whether ``function`` does something: its code is not that of ``...``, ``pass`` or a lone docstring."""
    code = getattr(function, "__code__", None)
    if code is None:
        return True
    return code.co_code not in (_stub.__code__.co_code, _empty.__code__.co_code)


class ReferenceEntity(PythonFunctionTask[None]):
    """A registered task, workflow or launch plan, known by identifier and signature.

    The signature comes from ``function`` (what the decorators pass), or, as flytekit's constructors
    take it, from ``inputs`` and ``outputs``, dicts of names to Python types; such a reference has no
    local implementation.
    """

    #: What packagers and compilers look at: the node points at :attr:`reference`, nothing is shipped.
    is_reference = True

    def __init__(
        self,
        kind: str,
        project: str,
        domain: str,
        name: str,
        version: str,
        function: Callable[..., Any] | dict[str, Any],
        outputs: dict[str, Any] | None = None,
    ) -> None:
        interface = None
        if isinstance(function, dict):
            # flytekit's form: ReferenceTask(project, domain, name, version, inputs, outputs).
            interface = Interface(function, outputs or {})
            interface.check_types(entity=f"reference {kind} {name!r}")
            function = _stub
        elif outputs is not None:
            raise ValidationError(
                f"reference {kind} {name!r}: outputs are given with inputs as dicts, not with a function"
            )
        super().__init__(None, function, task_type="python-task", name=name)
        if interface is not None:
            self._interface = interface
            self._docs = None
        self._kind = kind
        self._coordinates = (project, domain, name, version)
        self._implemented = has_body(function)

    @property
    def kind(self) -> str:
        """``"task"``, ``"workflow"`` or ``"launch plan"``."""
        return self._kind

    @property
    def reference(self) -> Any:
        """The :class:`~taskloom.models.identifier.Identifier` the reference points at."""
        from taskloom.models.identifier import Identifier, ResourceType

        resource_type = {
            "task": ResourceType.TASK,
            "workflow": ResourceType.WORKFLOW,
            "launch plan": ResourceType.LAUNCH_PLAN,
        }[self._kind]
        project, domain, name, version = self._coordinates
        return Identifier(resource_type=resource_type, project=project, domain=domain, name=name, version=version)

    def execute(self, **kwargs: Any) -> Any:
        if not self._implemented:
            project, domain, name, version = self._coordinates
            raise ReferenceNotRunnableError(
                f"reference {self._kind} {name!r} (project {project!r}, domain {domain!r}, version {version!r}) "
                "is registered on a Flyte cluster and has no local implementation: give the decorated function "
                "a body to run it locally, or run the workflow on the cluster"
            )
        return self._task_function(**kwargs)

    def node_model(self, node: Node, translator: Translator) -> NodeModel:
        """A node pointing at the registered identifier: a task node for a task, a workflow node for a
        workflow or launch plan; nothing is shipped (the node's protocol, see :mod:`taskloom.translator`).
        """
        # The contracts: imported only when templates are made.
        from taskloom.models.workflow import TaskNode, WorkflowNode

        reference = translator.refer(self)
        metadata = translator.node_metadata(node, self.name)
        if self._kind == "launch plan":
            return translator.build_node(node, metadata, workflow_node=WorkflowNode(launchplan_ref=reference))
        if self._kind == "workflow":
            return translator.build_node(node, metadata, workflow_node=WorkflowNode(sub_workflow_ref=reference))
        overrides = translator.task_node_overrides(node)
        return translator.build_node(node, metadata, task_node=TaskNode(reference_id=reference, overrides=overrides))

    def __repr__(self) -> str:
        project, domain, name, version = self._coordinates
        return f"Reference{self._kind.title().replace(' ', '')}({project}/{domain}/{name}@{version})"


class ReferenceTask(ReferenceEntity):
    """A task registered elsewhere (flytekit's ``ReferenceTask``)."""

    def __init__(
        self,
        project: str,
        domain: str,
        name: str,
        version: str,
        function: Callable[..., Any] | dict[str, Any],
        outputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__("task", project, domain, name, version, function, outputs)


class ReferenceWorkflow(ReferenceEntity):
    """A workflow registered elsewhere (flytekit's ``ReferenceWorkflow``)."""

    def __init__(
        self,
        project: str,
        domain: str,
        name: str,
        version: str,
        function: Callable[..., Any] | dict[str, Any],
        outputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__("workflow", project, domain, name, version, function, outputs)


class ReferenceLaunchPlan(ReferenceEntity):
    """A launch plan registered elsewhere (flytekit's ``ReferenceLaunchPlan``)."""

    def __init__(
        self,
        project: str,
        domain: str,
        name: str,
        version: str,
        function: Callable[..., Any] | dict[str, Any],
        outputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__("launch plan", project, domain, name, version, function, outputs)


def reference_task(project: str, domain: str, name: str, version: str) -> Callable[[Callable[..., Any]], ReferenceTask]:
    """Declare the task registered as ``project/domain/name@version`` with the decorated signature."""
    return lambda function: ReferenceTask(project, domain, name, version, function)


def reference_workflow(
    project: str, domain: str, name: str, version: str
) -> Callable[[Callable[..., Any]], ReferenceWorkflow]:
    """Declare the workflow registered as ``project/domain/name@version`` with the decorated signature."""
    return lambda function: ReferenceWorkflow(project, domain, name, version, function)


def reference_launch_plan(
    project: str, domain: str, name: str, version: str
) -> Callable[[Callable[..., Any]], ReferenceLaunchPlan]:
    """Declare the launch plan registered as ``project/domain/name@version`` with the decorated signature."""
    return lambda function: ReferenceLaunchPlan(project, domain, name, version, function)


def get_reference_entity(
    resource_type: Any,
    project: str,
    domain: str,
    name: str,
    version: str,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
) -> ReferenceEntity:
    """A reference to the entity registered as ``project/domain/name@version`` (flytekit's function).

    ``resource_type`` says which kind: :class:`~taskloom.models.identifier.ResourceType` ``TASK``,
    ``WORKFLOW`` or ``LAUNCH_PLAN``, or its number (1, 2, 3), as flytekit's ``ResourceType`` constants
    are; ``inputs`` and ``outputs`` map names to Python types (``kwtypes(a=str)``). Gives a
    :class:`ReferenceTask`, :class:`ReferenceWorkflow` or :class:`ReferenceLaunchPlan`; another
    resource type is a :class:`~taskloom.exceptions.user.ValidationError`.
    """
    number = getattr(resource_type, "value", resource_type)
    kind = _REFERENCE_KINDS.get(number) if isinstance(number, int) and not isinstance(number, bool) else None
    if kind is None:
        raise ValidationError(
            f"reference {name!r}: resource_type expects TASK (1), WORKFLOW (2) or LAUNCH_PLAN (3), got {resource_type!r}"
        )
    return kind(project, domain, name, version, dict(inputs), dict(outputs))


#: flyteidl's ResourceType numbers (what flytekit's constants are) and the reference each names.
_REFERENCE_KINDS: dict[int, Callable[..., ReferenceEntity]] = {
    1: ReferenceTask,
    2: ReferenceWorkflow,
    3: ReferenceLaunchPlan,
}
