"""taskloom-container's hook implementations, and nothing else (the entry point ``container = "taskloom_container.hooks"``).

``ContainerTask`` reaches users through the ``taskloom.names`` entry point and needs no hook to run or to
be packaged (its template is its own: ``ContainerTask.get_container``); this module declares the plugin
API it was written for.
"""

from __future__ import annotations

#: The plugin API this plugin was written for: 1.3 adds ``PythonTask.get_container``, ``ResourceSpec`` and
#: ``resolve_resources``. A kernel offering another major version, or an older minor one, reports the plugin
#: by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.3"
