"""``map_task``: run a task once per element of its list inputs (flytekit's ``flytekit.map_task``).

``map_task(t)`` is an :class:`ArrayNodeMapTask`, a task whose inputs are lists of ``t``'s inputs
and whose outputs are lists of ``t``'s outputs. Its body starts one child node per element through
the executor's :class:`~taskloom.core.executor.Runner`, so each element gets the executor's
treatment of a node (``t``'s retries, timeout and cache) and the same map runs unchanged on every
executor. In a workflow template its node is a flyteidl ``ArrayNode``, as flytekit writes it
(:meth:`ArrayNodeMapTask.node_model`), so a Flyte cluster runs it as its own array node.

Differences from flytekit, where flytekit's local behaviour falls short:

* several lists can be mapped together (``map_task(add)(a=[1, 2], b=[10, 20])``), and a task with
  several outputs gives one list per output (flytekit accepts one output only);
* ``concurrency`` bounds the elements running at once locally too (flytekit runs them one by one);
* ``min_successes`` (not only ``min_success_ratio``) makes failed elements ``None``, typed
  ``list[Optional[T]]``, and the threshold is enforced with an error that says what failed.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    PythonFunctionTask,
    PythonInstanceTask,
    PythonTask,
    UserException,
    UserValueError,
    ValidationError,
)

if TYPE_CHECKING:
    from taskloom.extend import Node, Translator, models

#: How many element errors a :class:`MapTaskError` message shows (all are in ``errors``).
SHOWN_ERRORS = 3


class MapTaskError(UserException):
    """Too few elements of a map task succeeded.

    ``succeeded`` of ``total`` elements succeeded where ``required`` had to; ``errors`` maps the
    index of each failed element to its exception (the first by index is also ``__cause__``).
    Not recoverable: the elements were retried on their own, so the executor does not retry the map.
    """

    error_code = "USER:MapTaskFailed"

    def __init__(
        self, message: str, *, succeeded: int, total: int, required: int, errors: dict[int, BaseException]
    ) -> None:
        super().__init__(message)
        self.succeeded = succeeded
        self.total = total
        self.required = required
        self.errors = errors


class ArrayNodeMapTask(PythonTask):
    """A task that runs ``python_function_task`` once per element of its list inputs (flytekit's name).

    ``python_function_task`` is a ``@task`` function task or a :class:`PythonInstanceTask`, or a
    ``functools.partial`` of one whose keywords are *bound inputs*: passed whole to every element
    (constants, or promises of upstream nodes in a workflow). Every other input ``x: T`` becomes
    ``x: list[T]``; lists given together must have the same length. Every output ``o: T`` becomes
    ``o: list[T]``, or ``list[Optional[T]]`` when ``min_successes`` or ``min_success_ratio`` lets
    elements fail (a failed element gives ``None``).

    ``concurrency`` bounds the elements running at once (None or 0: only the executor's own limits);
    ``min_successes`` (a count) or ``min_success_ratio`` (a fraction, rounded up) say how many
    elements must succeed, all of them by default; with ``run_all_sub_nodes`` False, elements not yet
    started are not started once that can no longer happen. The remaining keyword arguments are
    :class:`~taskloom.core.base_task.PythonTask`'s; ``metadata``, ``security_ctx``, image,
    resources, environment and pod template default to the mapped task's, as they apply to each
    element on a Flyte cluster.
    """

    #: Read by executors and the container resolvers: a node of this task runs one child per element.
    is_array_node = True

    #: The map body starts one child per element through the runner.
    starts_children = True

    def __init__(
        self,
        python_function_task: Any,
        concurrency: int | None = None,
        min_successes: int | None = None,
        min_success_ratio: float | None = None,
        run_all_sub_nodes: bool = False,
        **kwargs: Any,
    ) -> None:
        target, bound_values = _unwrap(python_function_task)
        _check_settings(target, concurrency, min_successes, min_success_ratio)
        self._target = target
        self._bound_values = bound_values
        self._concurrency = concurrency
        self._min_successes = min_successes
        self._min_success_ratio = min_success_ratio
        self._run_all_sub_nodes = bool(run_all_sub_nodes)
        task_interface = target.python_interface
        self._mapped_inputs = tuple(name for name in task_interface.inputs if name not in bound_values)
        allows_failures = min_successes is not None or (min_success_ratio is not None and min_success_ratio < 1)
        interface = _list_interface(task_interface, set(bound_values), optional_outputs=allows_failures)
        name = _map_task_name(target, set(bound_values), concurrency, min_successes, min_success_ratio)
        interface.check_types(entity=f"task {name!r}")  # fail now, naming the map, if a type cannot be listed
        for setting, value in (
            ("metadata", target.metadata),
            ("security_ctx", target.security_context),
            ("environment", target.environment),
            ("resources", target.resources),
            ("container_image", target.container_image),
            ("pod_template", target.pod_template),
            ("accelerator", target.accelerator),
        ):
            if value is not None:
                kwargs.setdefault(setting, value)
        # The elements leave the decks (one each, at their own node paths); the map node itself none.
        kwargs.setdefault("enable_deck", False)
        super().__init__(target.task_type, name, interface, None, task_type_version=1, **kwargs)

    # --- what the array node carries --------------------------------------------------------

    @property
    def python_function_task(self) -> PythonTask:
        """The task run once per element."""
        return self._target

    @property
    def bound_inputs(self) -> frozenset[str]:
        """Inputs passed whole to every element (the partial's keywords)."""
        return frozenset(self._bound_values)

    @property
    def concurrency(self) -> int | None:
        """At most this many elements run at once; None or 0 sets no bound of the map's own."""
        return self._concurrency

    @property
    def min_successes(self) -> int | None:
        """How many elements must succeed, or None to use :attr:`min_success_ratio`."""
        return self._min_successes

    @property
    def min_success_ratio(self) -> float | None:
        """The fraction of elements that must succeed (rounded up), or None for all of them."""
        return self._min_success_ratio

    @property
    def run_all_sub_nodes(self) -> bool:
        """Whether every element runs even after the map can no longer succeed."""
        return self._run_all_sub_nodes

    @property
    def is_original_sub_node_interface(self) -> bool:
        """False: the template's interface is the map's (lists), not the mapped task's."""
        return False

    def node_model(self, node: Node, translator: Translator) -> models.workflow.Node:
        """An ``ArrayNode`` whose sub-node runs this map's own task template once per element, as
        flytekit writes it, so that a Flyte cluster runs it as its own array node (the node's
        protocol, see :mod:`taskloom.translator`). The node is named after the whole map task.
        """
        from taskloom.extend import models  # the contracts: imported only when templates are made

        workflow = models.workflow
        translator.depends_on(self._target)  # pyflyte registers the mapped task before the map
        sub_node = workflow.Node(
            id=node.id,
            metadata=workflow.NodeMetadata(name=self.name),
            inputs=translator.bindings(node),
            task_node=workflow.TaskNode(
                reference_id=translator.refer(self), overrides=translator.task_node_overrides(node)
            ),
        )
        criteria: dict[str, Any] = {}
        if self._min_successes is not None:
            criteria["min_successes"] = self._min_successes
        elif self._min_success_ratio is not None:
            criteria["min_success_ratio"] = self._min_success_ratio
        array = workflow.ArrayNode(
            node=sub_node,
            parallelism=self._concurrency,
            bound_inputs=tuple(sorted(self._bound_values)),
            is_original_sub_node_interface=False,
            run_all_sub_nodes=self._run_all_sub_nodes,
            **criteria,
        )
        metadata = workflow.NodeMetadata(name=node.overrides.get("name") or self.name)
        return translator.build_node(node, metadata, array_node=array)

    def get_custom(self, settings: Any) -> dict[str, Any] | None:
        """The mapped task's ``custom`` (its backend plugin runs each element)."""
        return self._target.get_custom(settings)

    def get_config(self, settings: Any) -> dict[str, str] | None:
        """The mapped task's ``config``."""
        return self._target.get_config(settings)

    # --- calling -------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the map here (lists in, lists out), or add its node inside a workflow being compiled.

        The partial's keywords are passed as the bound inputs; a value given in the call wins, as
        with ``functools.partial``.
        """
        return super().__call__(*args, **{**self._bound_values, **kwargs})

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """``await m.aio(...)`` gives what ``m(...)`` gives (see :meth:`PythonTask.aio`)."""
        return await super().aio(*args, **{**self._bound_values, **kwargs})

    def execute(self, **inputs: Any) -> Any:
        """Run the mapped task once per element through the executor; return the outputs as lists."""
        from taskloom.extend import task_runner

        count = self._element_count(inputs)
        output_names = self.python_interface.output_names
        if count == 0:
            return self.python_interface.shape_outputs({name: [] for name in output_names})
        with task_runner() as runner:
            progress = self._run_elements(runner, inputs, count)
        succeeded = progress.started - len(progress.errors)
        if succeeded < progress.required:
            raise self._failure(succeeded, count, progress.required, progress.errors, count - progress.started)
        columns = {
            name: [None if result is None else result[name] for result in progress.results] for name in output_names
        }
        return self.python_interface.shape_outputs(columns)

    # --- running the elements ----------------------------------------------------------------

    def _element_count(self, inputs: dict[str, Any]) -> int:
        lengths = {name: len(inputs[name]) for name in self._mapped_inputs}
        if len(set(lengths.values())) > 1:
            given = ", ".join(f"{name!r} has {length}" for name, length in lengths.items())
            raise UserValueError(
                f"task {self.name!r}: the mapped inputs must be lists of the same length; {given} elements"
            )
        return next(iter(lengths.values()), 0)

    def _required_successes(self, count: int) -> int:
        if self._min_successes is not None:
            return self._min_successes
        if self._min_success_ratio is None:
            return count
        # Rounded before ceil: 0.07 * 100 is 7.000000000000001 in floating point, and must require 7.
        return math.ceil(round(self._min_success_ratio * count, 9))

    def _run_elements(self, runner: Any, inputs: dict[str, Any], count: int) -> _Progress:
        """Run every element through the runner's batch (at most ``concurrency`` at once); say how each went."""
        import threading

        bound = {name: inputs[name] for name in self._bound_values}
        names = list(self._mapped_inputs)
        columns = [inputs[name] for name in names]
        if len(names) == 1 and not bound:
            name = names[0]
            elements = [{name: value} for value in columns[0]]
        else:
            elements = [dict(zip(names, values), **bound) for values in zip(*columns)]
        progress = _Progress(count, self._required_successes(count), self._run_all_sub_nodes)
        if progress.hopeless:  # more successes required than elements: start nothing
            return progress
        lock = threading.Lock()
        errors = progress.errors

        def on_done(index: int, outcome: Any) -> bool:
            # Called from the lanes' threads; only failures change what happens next.
            if isinstance(outcome, BaseException):
                with lock:
                    errors[index] = outcome
                    return progress.hopeless  # the map cannot succeed: start nothing more
            return False

        outcomes = runner.map(self._target, elements, concurrency=self._concurrency, on_done=on_done)
        progress.results = [outcome if isinstance(outcome, dict) else None for outcome in outcomes]
        progress.started = len(errors) + sum(1 for outcome in progress.results if outcome is not None)
        return progress

    def _failure(
        self, succeeded: int, count: int, required: int, errors: dict[int, BaseException], not_started: int
    ) -> MapTaskError:
        if self._min_successes is not None:
            criterion = f"min_successes={self._min_successes}"
        else:
            criterion = f"min_success_ratio={1.0 if self._min_success_ratio is None else self._min_success_ratio}"
        message = f"task {self.name!r}: {succeeded} of {count} elements succeeded, {required} required ({criterion})"
        if errors:
            message += f"; {len(errors)} failed"
        if not_started:
            message += f"; {not_started} not started"
        ordered = sorted(errors.items())
        if ordered:
            shown = "; ".join(
                f"element {index}: {type(error).__name__}: {error}" for index, error in ordered[:SHOWN_ERRORS]
            )
            more = f" (and {len(ordered) - SHOWN_ERRORS} more)" if len(ordered) > SHOWN_ERRORS else ""
            message += f". Errors: {shown}{more}"
        failure = MapTaskError(message, succeeded=succeeded, total=count, required=required, errors=dict(ordered))
        if ordered:
            failure.__cause__ = ordered[0][1]
        return failure


class _Progress:
    """How the elements of one map call went: outputs by element (None where it failed or never
    started), errors by index, how many started; ``hopeless`` once too many failed to succeed.
    """

    __slots__ = ("count", "errors", "required", "results", "run_all", "started")

    def __init__(self, count: int, required: int, run_all: bool) -> None:
        self.count = count
        self.required = required
        self.run_all = run_all
        self.results: list[dict[str, Any] | None] = [None] * count
        self.errors: dict[int, BaseException] = {}
        self.started = 0

    @property
    def hopeless(self) -> bool:
        """Whether elements not yet started should stay so: too few can still succeed."""
        return not self.run_all and self.count - len(self.errors) < self.required


def map_task(
    target: Any,
    concurrency: int | None = None,
    min_successes: int | None = None,
    min_success_ratio: float = 1.0,
    run_all_sub_nodes: bool = False,
    **kwargs: Any,
) -> ArrayNodeMapTask:
    """Map ``target`` over lists: ``map_task(t)(x=[1, 2, 3])`` runs ``t`` three times (flytekit's signature).

    ``target`` is a ``@task`` (not ``@dynamic``/``@eager``), a :class:`PythonInstanceTask`, or a
    ``functools.partial`` of one binding inputs passed whole to every element::

        @task
        def scale(x: int, factor: int) -> int: ...

        @workflow
        def wf(xs: list[int], factor: int) -> list[int]:
            return map_task(functools.partial(scale, factor=factor), concurrency=4)(x=xs)

    ``concurrency``: at most this many elements run at once (None or 0: no bound of the map's own).
    ``min_successes`` / ``min_success_ratio``: how many elements must succeed (default: all); when
    fewer may, failed elements give ``None``; when fewer do, the map raises :class:`MapTaskError`.
    ``run_all_sub_nodes``: start every element even once the map can no longer succeed.
    Other keyword arguments go to :class:`ArrayNodeMapTask` (``metadata``, ``security_ctx``...).
    Errors in the arguments raise :class:`~taskloom.exceptions.user.ValidationError` naming the target.
    """
    if getattr(target, "is_launch_plan", False):
        raise ValidationError(f"map_task: cannot map launch plan {target.name!r}; only tasks can be mapped in taskloom")
    return ArrayNodeMapTask(
        target,
        concurrency=concurrency,
        min_successes=min_successes,
        min_success_ratio=min_success_ratio,
        run_all_sub_nodes=run_all_sub_nodes,
        **kwargs,
    )


# --- building the map task -------------------------------------------------------------------


def _unwrap(target: Any) -> tuple[PythonTask, dict[str, Any]]:
    """The task to map and the partial's keywords (the bound inputs) from ``target``."""
    bound: dict[str, Any] = {}
    task = target
    if isinstance(target, functools.partial):  # nested partials are flattened by functools itself
        task = target.func
        if target.args:
            raise ValidationError(
                f"map_task: the partial of {_describe(task)} binds {len(target.args)} positional argument(s); "
                "bind inputs by keyword (functools.partial(t, name=value))"
            )
        bound = dict(target.keywords)
    if getattr(task, "is_workflow", False):
        raise ValidationError(f"map_task: cannot map workflow {task.name!r}; only tasks can be mapped")
    if not isinstance(task, (PythonFunctionTask, PythonInstanceTask)):
        raise ValidationError(
            f"map_task: cannot map {_describe(task)}; expected a @task function task or a PythonInstanceTask"
        )
    mode = getattr(task, "execution_mode", PythonFunctionTask.ExecutionBehavior.DEFAULT)
    if task.metadata.is_eager or mode is not PythonFunctionTask.ExecutionBehavior.DEFAULT:
        raise ValidationError(
            f"map_task: cannot map task {task.name!r}: it runs as {getattr(mode, 'name', mode)}, and only "
            "plain tasks (not @dynamic or @eager) can be mapped"
        )
    inputs = task.python_interface.inputs
    unknown = [name for name in bound if name not in inputs]
    if unknown:
        raise ValidationError(
            f"map_task: the partial of task {task.name!r} binds {unknown}, which are not inputs; its inputs are {list(inputs)}"
        )
    if len(bound) == len(inputs):
        what = f"its partial binds every input {list(inputs)}" if inputs else "it has no inputs"
        raise ValidationError(f"map_task: cannot map task {task.name!r}: {what}; leave at least one input to map over")
    return task, bound


def _describe(entity: Any) -> str:
    name = getattr(entity, "name", None)
    kind = type(entity).__name__
    return f"{kind} {name!r}" if isinstance(name, str) else f"{kind} {entity!r}"


def _check_settings(target: PythonTask, concurrency: Any, min_successes: Any, min_success_ratio: Any) -> None:
    where = f"map_task of task {target.name!r}"

    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if concurrency is not None and (not is_int(concurrency) or concurrency < 0):
        raise ValidationError(f"{where}: concurrency expects a non-negative int or None, got {concurrency!r}")
    if min_successes is not None and (not is_int(min_successes) or min_successes < 0):
        raise ValidationError(f"{where}: min_successes expects a non-negative int or None, got {min_successes!r}")
    if min_success_ratio is not None and (
        isinstance(min_success_ratio, bool)
        or not isinstance(min_success_ratio, (int, float))
        or not 0 <= min_success_ratio <= 1
    ):
        raise ValidationError(f"{where}: min_success_ratio expects a number from 0 to 1, got {min_success_ratio!r}")
    if min_successes is not None and min_success_ratio is not None and min_success_ratio != 1:
        # One success criterion per array node (a oneof in flyteidl): refuse rather than pick one.
        raise ValidationError(
            f"{where}: give min_successes ({min_successes}) or min_success_ratio ({min_success_ratio}), not both"
        )


def _list_interface(interface: Any, bound: set[str], *, optional_outputs: bool) -> Any:
    """The map's interface: mapped inputs and every output become lists; bound inputs stay as declared."""
    from taskloom.extend import Interface

    inputs: dict[str, Any] = {}
    for name, (python_type, default) in interface.inputs_with_defaults.items():
        # A mapped input is required even if the task gives it a default: a list per element is
        # needed (flytekit does the same); bind it with functools.partial to pass one value to all.
        inputs[name] = (python_type, default) if name in bound else list[python_type]  # type: ignore[valid-type]
    outputs = {
        name: list[python_type | None] if optional_outputs else list[python_type]  # type: ignore[valid-type]
        for name, python_type in interface.outputs.items()
    }
    return Interface(inputs, outputs, output_tuple_name=interface.output_tuple_name)


def _map_task_name(
    target: PythonTask, bound: set[str], concurrency: Any, min_successes: Any, min_success_ratio: Any
) -> str:
    """``<module>.map_<function>_<md5>-arraynode``, as flytekit names it, so names match after a port."""
    import hashlib

    if isinstance(target, PythonFunctionTask):
        function = target.task_function
        module, base = function.__module__, function.__name__
    else:  # flytekit uses the task type and the variable the instance was assigned to; we have its name
        module, base = target.task_type, target.name
    key = f"{','.join(sorted(bound))}{concurrency}{min_successes}{min_success_ratio}"
    digest = hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{module}.map_{base}_{digest}-arraynode"
