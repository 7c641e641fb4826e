"""Launch plans: a workflow with default and fixed inputs, a schedule, notifications and run options.

Names and signatures follow flytekit's ``LaunchPlan.get_or_create`` / ``LaunchPlan.create``. A launch
plan is called like its workflow (locally it runs on the executor, honouring ``max_parallelism``)
and can be a node inside another workflow. Fixed inputs cannot be overridden: trying is an error
naming the launch plan and the input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.core.compiler import create_node, current_compilation
from taskloom.core.executor import call_async, call_on_executor
from taskloom.core.interface import Interface
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import ValidationError

if TYPE_CHECKING:
    from taskloom.configuration import SerializationSettings
    from taskloom.core.node import Node
    from taskloom.core.workflow import WorkflowBase
    from taskloom.models.launch_plan import Annotations, Labels, LaunchPlanSpec, RawOutputDataConfig
    from taskloom.models.workflow import Node as NodeModel
    from taskloom.translator import Translator

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").


class LaunchPlan:
    """A named way to run ``workflow``; build it with :meth:`get_or_create` or :meth:`create`."""

    #: Launch plans by name in this process (flytekit keeps the same registry).
    CACHE: dict[str, LaunchPlan] = {}

    is_launch_plan = True

    def __init__(
        self,
        name: str,
        workflow: WorkflowBase,
        default_inputs: dict[str, Any] | None = None,
        fixed_inputs: dict[str, Any] | None = None,
        schedule: Any = None,
        notifications: list[Any] | None = None,
        labels: dict[str, str] | Any = None,
        annotations: dict[str, str] | Any = None,
        raw_output_data_config: Any = None,
        max_parallelism: int | None = None,
        security_context: Any = None,
        overwrite_cache: bool | None = None,
        auto_activate: bool = False,
    ) -> None:
        entity = f"launch plan {name!r}"
        inputs = workflow.python_interface.inputs_with_defaults
        default_inputs = dict(default_inputs or {})
        fixed_inputs = dict(fixed_inputs or {})
        for given in (default_inputs, fixed_inputs):
            unknown = sorted(set(given) - set(inputs))
            if unknown:
                raise ValidationError(
                    f"{entity}: workflow {workflow.name!r} has no input {unknown[0]!r}; it has {sorted(inputs)}"
                )
        both = sorted(set(default_inputs) & set(fixed_inputs))
        if both:
            raise ValidationError(f"{entity}: input {both[0]!r} is both a default and a fixed input")
        TypeEngine.dict_to_literal_map(
            None, {**default_inputs, **fixed_inputs}, workflow.python_interface.inputs, entity=entity
        )
        kickoff = getattr(schedule, "kickoff_time_input_arg", None)
        if kickoff:
            import datetime as dt

            if kickoff not in inputs or inputs[kickoff][0] is not dt.datetime:
                raise ValidationError(
                    f"{entity}: kickoff_time_input_arg {kickoff!r} must name a datetime input of the workflow"
                )
        if max_parallelism is not None and (
            isinstance(max_parallelism, bool) or not isinstance(max_parallelism, int) or max_parallelism < 1
        ):
            raise ValidationError(f"{entity}: max_parallelism must be a positive int, got {max_parallelism!r}")
        self._name = name
        self._workflow = workflow
        self._default_inputs = default_inputs
        self._fixed_inputs = fixed_inputs
        self._schedule = schedule
        self._notifications = list(notifications or [])
        self._labels = _values(labels)
        self._annotations = _values(annotations)
        self._raw_output_data_config = raw_output_data_config
        self._max_parallelism = max_parallelism
        self._security_context = security_context
        self._overwrite_cache = overwrite_cache
        self._auto_activate = auto_activate
        self._interface = Interface(
            {
                input_name: (python_type, default_inputs.get(input_name, default))
                for input_name, (python_type, default) in inputs.items()
                if input_name not in fixed_inputs
            },
            workflow.python_interface.outputs,
            workflow.python_interface.output_tuple_name,
        )

    # --- construction with flytekit's class methods ---------------------------------------

    @classmethod
    def create(cls, name: str, workflow: WorkflowBase, **options: Any) -> LaunchPlan:
        """Create and register the launch plan ``name``; a name already taken is an error."""
        if name in cls.CACHE:
            raise ValidationError(f"launch plan {name!r} already exists; use LaunchPlan.get_or_create")
        plan = cls(name, workflow, **options)
        cls.CACHE[name] = plan
        return plan

    @classmethod
    def get_or_create(cls, workflow: WorkflowBase, name: str | None = None, **options: Any) -> LaunchPlan:
        """Return the launch plan ``name`` (default: the workflow's own), creating it if needed.

        Without a name, no options may be given: that is the workflow's default launch plan. With a
        name already registered, the options must be the same as the first time.
        """
        if name is None:
            if any(value is not None and value != {} and value is not False for value in options.values()):
                raise ValidationError("the default launch plan of a workflow takes no options: give a name")
            name = workflow.name
        existing = cls.CACHE.get(name)
        if existing is None:
            return cls.create(name, workflow, **options)
        candidate = cls(name, workflow, **options)
        if existing._signature() != candidate._signature():
            raise ValidationError(f"launch plan {name!r} already exists with other settings")
        return existing

    @staticmethod
    def get_default_launch_plan(ctx: Any, workflow: WorkflowBase) -> LaunchPlan:
        """The workflow's default launch plan (flytekit's signature): what ``get_or_create(workflow)`` gives.

        ``ctx`` is accepted for flytekit's signature and not used (flytekit passes its internal
        context; any value does here). Repeated calls return the same object; a plan already
        registered under the workflow's name is returned as it is, as flytekit does.
        """
        existing = LaunchPlan.CACHE.get(workflow.name)
        if existing is not None:
            return existing
        return LaunchPlan.get_or_create(workflow)

    def _signature(self) -> tuple[Any, ...]:
        return (
            self._workflow.name,
            repr(sorted(self._default_inputs.items())),
            repr(sorted(self._fixed_inputs.items())),
            repr(self._schedule.to_model() if self._schedule is not None else None),
            repr([notification.to_model() for notification in self._notifications]),
            repr(sorted(self._labels.items())),
            repr(sorted(self._annotations.items())),
            self._max_parallelism,
            self._overwrite_cache,
        )

    # --- what it is ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The launch plan's name (the workflow's name for its default launch plan)."""
        return self._name

    @property
    def workflow(self) -> WorkflowBase:
        """The workflow it launches."""
        return self._workflow

    @property
    def python_interface(self) -> Interface:
        """The inputs one can give (the workflow's minus the fixed ones, with the plan's defaults)."""
        return self._interface

    @property
    def fixed_inputs(self) -> dict[str, Any]:
        """Inputs set by the plan and not overridable."""
        return dict(self._fixed_inputs)

    @property
    def default_inputs(self) -> dict[str, Any]:
        """Inputs the plan gives a default to (on top of the workflow's own defaults)."""
        return dict(self._default_inputs)

    @property
    def max_parallelism(self) -> int | None:
        """How many nodes may run at once (None: no limit of the plan's own)."""
        return self._max_parallelism

    @property
    def overwrite_cache(self) -> bool | None:
        """Whether executions recompute cached task outputs (and store the new ones)."""
        return self._overwrite_cache

    @property
    def schedule(self) -> Any:
        """The :class:`~taskloom.core.schedule.CronSchedule` or :class:`~taskloom.core.schedule.FixedRate`, or None."""
        return self._schedule

    @property
    def docs(self) -> str | None:
        """The workflow's documentation."""
        return self._workflow.docs

    @property
    def notifications(self) -> list[Any]:
        """What is sent when executions reach given phases (``Email``, ``Slack``, ``PagerDuty``)."""
        return list(self._notifications)

    @property
    def labels(self) -> Labels:
        """The labels given to executions (flytekit's ``Labels``)."""
        from taskloom.models.launch_plan import Labels  # the contracts: imported only when asked

        return Labels(values=dict(self._labels))

    @property
    def annotations(self) -> Annotations:
        """The annotations given to executions (flytekit's ``Annotations``)."""
        from taskloom.models.launch_plan import Annotations  # the contracts: imported only when asked

        return Annotations(values=dict(self._annotations))

    @property
    def raw_output_data_config(self) -> RawOutputDataConfig | None:
        """Where executions write their raw outputs, or None for the platform's default."""
        from taskloom.models.launch_plan import RawOutputDataConfig  # the contracts: imported only when asked

        raw = self._raw_output_data_config
        return RawOutputDataConfig(output_location_prefix=raw) if isinstance(raw, str) else raw

    @property
    def security_context(self) -> Any:
        """The identity and secrets executions run with, or None."""
        return self._security_context

    # --- running ---------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the workflow with the plan's inputs (on the executor); inside a workflow, add a node."""
        fixed = sorted(set(kwargs) & set(self._fixed_inputs))
        if fixed:
            raise ValidationError(
                f"launch plan {self._name!r}: input {fixed[0]!r} is fixed to {self._fixed_inputs[fixed[0]]!r} "
                "and cannot be overridden"
            )
        if current_compilation() is not None:
            return create_node(self, args, kwargs)

        return call_on_executor(self, f"launch plan {self._name!r}", args, kwargs)

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """Call the plan from async code (see :meth:`taskloom.core.workflow.WorkflowBase.aio`)."""
        return await call_async(self, args, kwargs)

    def workflow_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Every input of the workflow: ``inputs`` (as given to the plan) plus the fixed ones."""
        return {**inputs, **self._fixed_inputs}

    # --- serialisation ---------------------------------------------------------------------

    def to_launch_plan_spec(self, settings: SerializationSettings) -> LaunchPlanSpec:
        """The flyteidl-shaped :class:`~taskloom.models.launch_plan.LaunchPlanSpec` under ``settings``
        (made by :func:`taskloom.translator.launch_plan_spec`)."""
        from taskloom.translator import launch_plan_spec  # the contracts: imported only when templates are made

        return launch_plan_spec(self, settings)

    def node_model(self, node: Node, translator: Translator) -> NodeModel:
        """A launch plan node pointing at this plan, named after its workflow and with the workflow's
        interruptibility, as flytekit writes it (the node's protocol, see :mod:`taskloom.translator`).
        """
        from taskloom.models.workflow import WorkflowNode  # the contracts: imported only when templates are made

        workflow = self._workflow
        metadata = translator.node_metadata(node, workflow.name, interruptible=workflow.interruptible)
        return translator.build_node(node, metadata, workflow_node=WorkflowNode(launchplan_ref=translator.refer(self)))

    def __repr__(self) -> str:
        return f"LaunchPlan(name={self._name!r}, workflow={self._workflow.name!r})"


def _values(mapping: Any) -> dict[str, str]:
    # flytekit passes Labels/Annotations objects with .values; plain dicts are accepted too.
    if mapping is None:
        return {}
    if isinstance(mapping, dict):
        return dict(mapping)
    return dict(mapping.values)
