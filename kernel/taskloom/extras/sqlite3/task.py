"""flytekit's ``flytekit.extras.sqlite3.task`` path: the same names as :mod:`taskloom.extras.sqlite3`, resolved
the same lazy way (from taskloom-sql), so that ported imports keep working."""

from __future__ import annotations

from taskloom.extras.sqlite3 import __dir__ as __dir__
from taskloom.extras.sqlite3 import __getattr__ as __getattr__
