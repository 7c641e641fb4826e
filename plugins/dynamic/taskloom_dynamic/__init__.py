"""taskloom-dynamic: ``@dynamic`` and ``@eager`` (``from taskloom import dynamic, eager``).

:func:`~taskloom_dynamic.dynamic.dynamic` makes a task whose body builds a workflow from its real
input values at run time, then runs it; :func:`~taskloom_dynamic.eager.eager` makes an
``async def`` task whose body runs with real values while the executor runs each call it makes.
"""

from taskloom_dynamic.dynamic import DynamicTask, ExecutionBehavior, dynamic
from taskloom_dynamic.eager import EagerAsyncPythonFunctionTask, eager

__version__ = "0.1.0"

__all__ = ["DynamicTask", "EagerAsyncPythonFunctionTask", "ExecutionBehavior", "dynamic", "eager"]
