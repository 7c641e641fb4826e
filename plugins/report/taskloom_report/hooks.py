"""taskloom-report's hook implementations, and nothing else (the entry point ``report = "taskloom_report.hooks"``).

The kernel imports this module the first time one of its hooks is called (every ``loom`` command and every run
asks for options and commands), so it stays cheap: the modules that read the store and build pages are imported
inside the hooks that need them.
"""

from __future__ import annotations

#: The plugin API this plugin was written for: a kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.5"
