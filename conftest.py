"""Set-up shared by every test of the tree (``tests/`` and each plugin's ``tests/``).

Local executions are recorded in the execution store: point it at a private directory before any
test runs, so that no test writes to the user's data directory; interpreters started by tests
inherit it. A test that looks at the store sets ``TASKLOOM_DATA_DIR`` to a directory of its own.
"""

from __future__ import annotations

import os
import tempfile

os.environ["TASKLOOM_DATA_DIR"] = tempfile.mkdtemp(prefix="taskloom-tests-data-")
os.environ.pop("TASKLOOM_RECORD", None)
