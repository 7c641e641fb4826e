"""What runs inside a Dask worker: a task found by reference, then one attempt of it or a batch of elements.

The functions here are what :class:`~taskloom_dask.pool.DaskPool` submits; Dask pickles them by reference
(this module is importable in every worker), and the task itself travels as a reference too: the module
that defines it, that module's file, and the name it is bound to there (taskloom-local's process pool finds
tasks the same way). A worker imports the module once and keeps the task, so a map of many batches pays for
the import once per worker process.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import time
from typing import Any

from taskloom.extend import SystemException, load_module
from taskloom_local import run_capturing, run_each


class TaskNotFound(SystemException):
    """A Dask worker cannot find a task by its reference (module, file, name)."""


#: (module, file, name) -> the task, per worker process.
_tasks: dict[tuple[str, str | None, str], Any] = {}
_lock = threading.Lock()  # a worker runs several bodies at once on its threads: one import each


#: The topic on which a worker says that it starts an attempt with a timeout (its message: the future's key).
STARTED_TOPIC = "taskloom-started"


def run_attempt(
    reference: tuple[str, str | None, str],
    task_name: str,
    inputs: dict[str, Any],
    context: Any,
    announce: bool = False,
    capture: bool = False,
) -> Any:
    """One attempt of the task: what ``entity.run`` returns, or the task's own exception, noted with the worker.

    With ``announce`` (the task has a timeout), the worker first tells the client that the attempt starts:
    the timeout counts from then, not from submission (time queued on a busy cluster is not the task's).
    The answer is ``(outputs, seconds, text)``: how long the body ran here (the durability threshold's time,
    not the queue's) and, with ``capture`` (the run keeps its nodes' logs), what the body printed and logged, kept
    as taskloom-local keeps it on a thread (else None); an exception carries the text itself.
    """
    if announce:
        from distributed import get_worker  # already imported: this runs inside a worker

        worker = get_worker()
        worker.log_event(STARTED_TOPIC, worker.get_current_task())
    entity = find_task(reference, task_name)
    began = time.perf_counter()
    try:
        if capture:
            result, text = run_capturing(entity.run, inputs, checked=True, **context)
        else:
            result, text = entity.run(inputs, checked=True, **context), None
        return result, time.perf_counter() - began, text
    except BaseException as error:
        error.add_note(f"in Dask worker {_where()}")
        raise


def run_batch(
    reference: tuple[str, str | None, str],
    task_name: str,
    inputs: list[dict[str, Any]],
    checkpoints: list[Any],
    context: dict[str, Any],
) -> list[Any]:
    """One attempt per element, one after another: each element's outputs by name, or the exception it
    raised (the batch goes on), as taskloom-local's ``run_many`` gives them.
    """
    return run_each(find_task(reference, task_name), inputs, checkpoints, context, f"Dask worker {_where()}")


def find_task(reference: tuple[str, str | None, str], task_name: str) -> Any:
    """The task ``task_name`` at ``reference`` (module, file, name), imported once per worker process."""
    entity = _tasks.get(reference)
    if entity is not None:
        return entity
    with _lock:
        entity = _tasks.get(reference)
        if entity is None:
            module_name, module_file, attribute = reference
            module = _import(module_name, module_file, task_name)
            entity = getattr(module, attribute, None)
            if entity is None or getattr(entity, "name", None) != task_name:
                raise TaskNotFound(
                    f"task {task_name!r}: the Dask worker at {_where()} found no such task at {module_name}.{attribute}"
                )
            _tasks[reference] = entity
    return entity


def _import(module_name: str, module_file: str | None, task_name: str) -> Any:
    if module_name == "__main__":
        return _main_script(module_file, task_name)
    module = sys.modules.get(module_name)
    if module is not None and _same_file(module, module_file):
        return module
    try:
        module = importlib.import_module(module_name)
        if _same_file(module, module_file):
            return module
    except ImportError:
        if module_file is None:
            raise
    if module_file is None or not os.path.isfile(module_file):
        raise TaskNotFound(
            f"task {task_name!r}: the Dask worker at {_where()} cannot import {module_name} "
            f"({module_file or 'no file'}): the workers need the module importable or the file at the same path"
        )
    # The file given to `loom run`, found as loom run finds it (its project's root on sys.path).
    module = load_module(module_file)
    if module.__name__ == module_name:
        return module
    # Imported under another name in the driver (a test runner's own import mode): that name, from the file.
    spec = importlib.util.spec_from_file_location(module_name, module_file)
    if spec is None or spec.loader is None:
        raise TaskNotFound(f"task {task_name!r}: {module_file} cannot be imported in the Dask worker at {_where()}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _main_script(module_file: str | None, task_name: str) -> Any:
    # The script the driver was started as (`python flows.py`): a worker's own __main__ is something else.
    # As multiprocessing's spawn does, it is loaded as __mp_main__ (its `if __name__ == "__main__":` block
    # does not run); a worker spawned from that script has it there already.
    if module_file is None:
        raise TaskNotFound(f"task {task_name!r}: it is defined in a __main__ module that has no file")
    loaded = sys.modules.get("__mp_main__")
    if loaded is not None and _same_file(loaded, module_file):
        return loaded
    spec = importlib.util.spec_from_file_location("__mp_main__", module_file)
    if spec is None or spec.loader is None:
        raise TaskNotFound(f"task {task_name!r}: {module_file} cannot be imported in the Dask worker at {_where()}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _same_file(module: Any, module_file: str | None) -> bool:
    if module_file is None:
        return True
    found = getattr(module, "__file__", None)
    return found is not None and os.path.realpath(found) == os.path.realpath(module_file)


def _where() -> str:
    """The worker's address and process id, for notes and errors."""
    from distributed import get_worker  # already imported: this runs inside a worker

    try:
        return f"{get_worker().address} (pid {os.getpid()})"
    except ValueError:  # not in a worker (called directly)
        return f"pid {os.getpid()}"
