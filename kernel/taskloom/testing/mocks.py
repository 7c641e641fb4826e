"""Mock a task in a test: :func:`task_mock` and :func:`patch` (flytekit's ``flytekit.testing`` names).

The mock replaces what the task *does* (its ``execute``), not the task: workflows that were declared
with it keep it as their node, and run the mock, whichever executor runs them::

    with task_mock(fetch) as mocked:
        mocked.return_value = [1, 2]
        assert pipeline(day="monday") == 3
    mocked.assert_called_once_with(day="monday")

The mock is called with the task's inputs by name and returns its outputs (one value, or a tuple
for several). While a task is mocked, taskloom's local executors run it in the process of the test
(a worker process would import the real task) and neither read nor write the task cache (a mocked
result must not answer a later real run); both return as they were when the mock ends.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from taskloom.core.base_task import PythonTask
from taskloom.core.workflow import WorkflowBase
from taskloom.exceptions.user import ValidationError

#: Tasks mocked now; one mock per task at a time.
_MOCKED: set[int] = set()
_LOCK = threading.Lock()


@contextlib.contextmanager
def task_mock(t: PythonTask) -> Iterator[mock.MagicMock]:
    """Replace the execution of task ``t`` by a :class:`~unittest.mock.MagicMock` inside the ``with``.

    ``with task_mock(t1) as m: m.return_value = 5`` (or ``m.side_effect = lambda x: x * 2``); calls of
    ``t1``, alone or inside workflows run locally (threads or the process pool), then call ``m`` with
    the inputs by name. A task mocked twice at once, or something other than a task (a workflow:
    taskloom runs its graph, so mock its tasks), is a :class:`~taskloom.exceptions.user.ValidationError`.
    """
    mocked = mock.MagicMock()
    with _replaced_execution(t, mocked):
        yield mocked


def patch(target: PythonTask) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a test so that ``target``'s execution is a mock while it runs; the test gets the mock first.

    ``@patch(t1)`` then ``def test_x(mock_t1): mock_t1.return_value = 3`` (flytekit's form). The test's
    other parameters stay visible to pytest, so fixtures still reach it (flytekit's decorator hides
    them). Errors are those of :func:`task_mock`, raised when the decorator is applied.
    """
    _check_target(target)

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(test)
        def run_with_mock(*args: Any, **kwargs: Any) -> Any:
            with task_mock(target) as mocked:
                return test(mocked, *args, **kwargs)

        signature = inspect.signature(test)
        parameters = list(signature.parameters.values())[1:]  # the mock is given here, not by pytest
        run_with_mock.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return run_with_mock

    return decorate


def _check_target(target: Any) -> None:
    if isinstance(target, WorkflowBase):
        raise ValidationError(
            f"workflow {target.name!r} cannot be mocked: taskloom runs a workflow's graph, not a body; "
            "mock the tasks it calls"
        )
    if not isinstance(target, PythonTask):
        raise ValidationError(f"task_mock expects a task, got {type(target).__name__} {target!r}")


@contextlib.contextmanager
def _replaced_execution(task: PythonTask, replacement: Callable[..., Any]) -> Iterator[None]:
    _check_target(task)
    with _LOCK:
        if id(task) in _MOCKED:
            raise ValidationError(f"task {task.name!r} is mocked already")
        _MOCKED.add(id(task))
    saved = {name: task.__dict__[name] for name in _SHADOWED if name in task.__dict__}
    cache = task._cache
    # Instance attributes shadow the class's: every executor calls `execute` through the instance.
    task.execute = replacement  # type: ignore[method-assign]
    # A task that starts children runs in the scheduling process (PythonTask.starts_children): the
    # mock lives only here, and a worker process would import the real task.
    task.starts_children = True
    task._cache = None  # a mocked result must never be cached, nor a cached one hide the mock
    try:
        yield
    finally:
        for name in _SHADOWED:
            task.__dict__.pop(name, None)
        task.__dict__.update(saved)
        task._cache = cache
        with _LOCK:
            _MOCKED.discard(id(task))


#: What a mock sets on the task instance, restored when it ends.
_SHADOWED = ("execute", "starts_children")
