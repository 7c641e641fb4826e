"""Set-up shared by every test of the tree (``tests/`` and each plugin's ``tests/``): each run gets
private state, so that no test reads or writes the user's caches, configuration or data.

* stevedore fixes its cache directory when it is imported, and the task cache lives under the
  user cache directory: ``XDG_CACHE_HOME`` points at a private directory before anything imports them;
* ``XDG_CONFIG_HOME`` likewise, and taskloom's own configuration variables are cleared;
* local executions are recorded in the execution store: ``TASKLOOM_DATA_DIR`` points at a private
  directory (a test that looks at the store sets its own).

Interpreters started by tests inherit the same environment.
"""

from __future__ import annotations

import os
import tempfile

_STATE = tempfile.mkdtemp(prefix="taskloom-tests-")
os.environ["XDG_CACHE_HOME"] = os.path.join(_STATE, "cache")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_STATE, "config")
os.environ["TASKLOOM_DATA_DIR"] = os.path.join(_STATE, "data")
for _variable in (
    "TASKLOOM_CONFIG",
    "TASKLOOM_DISABLE_PLUGINS",
    "TASKLOOM_RECORD",
    "TASKLOOM_CACHE_PATH",
    "TASKLOOM_PROCESSES",
    "TASKLOOM_RAW_OUTPUT_PREFIX",
):
    os.environ.pop(_variable, None)
