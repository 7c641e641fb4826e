"""The hook implementations of taskloom-map (the entry point ``map = "taskloom_map.hooks"``).

There are none: a map task is an ordinary :class:`~taskloom.core.base_task.PythonTask` whose body
starts its elements through the executor's :class:`~taskloom.core.executor.Runner`, and whose node
describes itself as an ``ArrayNode`` in workflow templates (``node_model``). The plugin is
registered so that ``loom plugins`` lists it, ``TASKLOOM_DISABLE_PLUGINS=map`` blocks it, and
``from taskloom import map_task`` finds it (entry points ``taskloom.names``).
"""
