"""The plugin module of taskloom-dynamic (the entry point ``dynamic = "taskloom_dynamic.hooks"``).

It implements no hook: ``@dynamic`` and ``@eager`` are names the plugin adds to ``taskloom``
(entry-point group ``taskloom.names``), and what they build runs on any executor through the
kernel's executor contract (:func:`taskloom.core.executor.task_runner` and
:func:`taskloom.core.executor.handling_calls`). The module is registered all the same, so that
``loom plugins`` lists the plugin and ``TASKLOOM_DISABLE_PLUGINS=dynamic`` blocks its names.
"""
