"""The ``@task`` decorator (flytekit's name and keyword arguments), and :class:`Echo`."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from taskloom.core.base_task import PythonTask, TaskMetadata
from taskloom.core.interface import Interface
from taskloom.core.python_function_task import PythonFunctionTask
from taskloom.exceptions.user import ValidationError
from taskloom.plugins import get_plugin_manager

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

F = TypeVar("F", bound=Callable[..., Any])


@overload
def task(_task_function: F, **kwargs: Any) -> PythonFunctionTask[Any]: ...


@overload
def task(_task_function: None = None, **kwargs: Any) -> Callable[[F], PythonFunctionTask[Any]]: ...


def task(
    _task_function: Callable[..., Any] | None = None,
    task_config: Any = None,
    cache: Any = False,
    retries: int = 0,
    interruptible: bool | None = None,
    deprecated: str = "",
    timeout: dt.timedelta | int | None = None,
    container_image: Any = None,
    environment: dict[str, str] | None = None,
    requests: Any = None,
    limits: Any = None,
    secret_requests: Iterable[Any] | None = None,
    enable_deck: bool | None = None,
    disable_deck: bool | None = None,
    deck_fields: Any = None,
    pod_template: Any = None,
    pod_template_name: str | None = None,
    accelerator: Any = None,
    resources: Any = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    cache_serialize: bool = False,
    cache_version: str = "",
    cache_ignore_input_vars: tuple[str, ...] = (),
    docs: str | None = None,
    task_class: type[PythonFunctionTask[Any]] | None = None,
    **kwargs: Any,
) -> Any:
    """Make a task of a function: ``@task`` or ``@task(retries=2, cache=True, ...)``.

    The function's annotations are its interface, checked now: an unsupported type fails here,
    naming the function, the parameter and the type. ``cache`` is ``True``/``False`` or a
    :class:`~taskloom.core.cache.Cache` (``cache_version``, ``cache_serialize`` and
    ``cache_ignore_input_vars`` are the older spelling); ``requests``/``limits`` or ``resources``
    take :class:`~taskloom.core.resources.Resources`; ``secret_requests`` takes
    :class:`~taskloom.models.security.Secret` objects; ``pod_template`` a dict or an object with
    ``to_dict()``; ``accelerator`` a GPU device name. ``enable_deck=True`` (or flytekit's deprecated
    ``disable_deck=False``) makes each succeeded execution leave a deck page with the decks its body
    makes (``Deck(name, html)``) and those ``deck_fields`` names (:class:`~taskloom.deck.DeckField`;
    all five, flytekit's default, when None); taskloom-report writes it. A ``task_config`` selects
    the task class through the :func:`~taskloom.hookspecs.taskloom_task_class` hook; ``task_class``
    names the class to build instead (taskloom's addition, for decorators of task types such as
    ``@dynamic``). Other keyword arguments go to the task class.
    """

    def decorate(function: Callable[..., Any]) -> PythonFunctionTask[Any]:
        entity = f"task '{function.__module__}.{function.__name__}'"
        ignored_inputs = tuple(cache_ignore_input_vars)
        settings = None
        # The cache and resources modules (dataclasses: ~2 ms to import) only for tasks that use them.
        if cache or cache_version or cache_serialize or ignored_inputs:
            # Measured: cache and resources are imported only by tasks that set them (~1.5 ms each).
            from taskloom.core.cache import normalize_cache

            settings = normalize_cache(
                cache,
                cache_version=cache_version,
                cache_serialize=cache_serialize,
                cache_ignore_input_vars=ignored_inputs,
                entity=entity,
            )
        if enable_deck is not None and disable_deck is not None:
            raise ValidationError(f"{entity}: give enable_deck or disable_deck, not both")
        if disable_deck is not None:
            warnings.warn(
                f"{entity}: disable_deck is deprecated (as in flytekit since 1.10), use enable_deck",
                FutureWarning,
                stacklevel=3,
            )
        decks_on = bool(enable_deck) or disable_deck is False
        if decks_on:  # only tasks with decks pass them: a task class of a plugin may not take them
            kwargs["deck_fields"] = deck_fields
        metadata = TaskMetadata(
            cache=settings is not None,
            cache_serialize=bool(settings and settings.serialize),
            cache_version=(settings.version or "") if settings else "",
            cache_ignore_input_vars=tuple(settings.ignored_inputs) if settings else (),
            interruptible=interruptible,
            deprecated=deprecated,
            retries=retries,
            timeout=timeout,
            pod_template_name=pod_template_name,
            generates_deck=decks_on,
            labels=labels,
            annotations=annotations,
        )
        security = None
        if secret_requests:
            from taskloom.models.security import Secret, SecurityContext

            secrets = tuple(secret_requests)
            wrong = [secret for secret in secrets if not isinstance(secret, Secret)]
            if wrong:
                raise ValidationError(f"{entity}: secret_requests expects Secret objects, got {wrong[0]!r}")
            security = SecurityContext(secrets=secrets)
        cls = task_class or _task_class(task_config, entity)
        return cls(
            task_config,
            function,
            metadata=metadata,
            environment=environment,
            security_ctx=security,
            resources=_resources(requests, limits, resources, entity),
            container_image=container_image,
            accelerator=accelerator,
            pod_template=pod_template,
            docs=docs,
            cache=settings,
            **kwargs,
        )

    if _task_function is not None:
        return decorate(_task_function)
    return decorate


def _resources(requests: Any, limits: Any, resources: Any, entity: str) -> Any:
    if requests is None and limits is None and resources is None:
        return None

    from taskloom.core.resources import resolve_resources  # only tasks that set resources pay for it

    return resolve_resources(requests, limits, resources, entity=entity)


def _task_class(task_config: Any, entity: str) -> type[PythonFunctionTask[Any]]:
    if task_config is None:
        return PythonFunctionTask

    answer = get_plugin_manager().hook.taskloom_task_class(task_config=task_config)
    if answer is None:
        raise ValidationError(
            f"{entity}: no installed plugin provides a task type for task_config of type "
            f"{type(task_config).__module__}.{type(task_config).__qualname__}"
        )
    return answer


class Echo(PythonTask):
    """A task whose outputs are its inputs (flytekit's ``Echo``): ``Echo(name="pass", inputs=kwtypes(a=int))``.

    The outputs are named ``o0``, ``o1``... after the inputs, in their order, with the same types.
    Locally the task returns its inputs (one value, or a tuple for several). Packaged for Flyte it has
    the task type ``"echo"`` and no container: FlytePropeller's echo plugin (enabled in its
    ``task-plugins``) copies the inputs to the outputs without starting a pod. Other keyword
    arguments are those of :class:`~taskloom.core.base_task.PythonTask` (``metadata``...).
    """

    #: FlytePropeller's echo plugin runs it: no pod, so no container in the template.
    runs_in_container = False

    def __init__(self, name: str, inputs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        inputs = dict(inputs or {})
        outputs = {f"o{index}": python_type for index, python_type in enumerate(inputs.values())}
        interface = Interface(inputs, outputs)
        interface.check_types(entity=f"task {name!r}")
        super().__init__("echo", name, interface, **kwargs)

    def execute(self, **kwargs: Any) -> Any:
        """Return the inputs: the value itself for one input, a tuple in input order for several."""
        values = tuple(kwargs[name] for name in self.python_interface.inputs)
        if len(values) == 1:
            return values[0]
        return values or None
