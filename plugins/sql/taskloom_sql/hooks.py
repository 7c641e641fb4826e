"""taskloom-sql's hook implementations (the entry point ``sql = "taskloom_sql.hooks"``): none yet.

SQL tasks are built by their constructors (``SQLite3Task(...)``), not by ``@task(task_config=...)``, so the
plugin needs no hook to be used; the entry point makes ``loom plugins`` list it, with its version.
"""

from __future__ import annotations

#: The plugin API this plugin was written for: 1.2 has the table names (StructuredDataset) it returns.
TASKLOOM_API = "1.2"
