"""Shared test set-up: isolate stevedore's entry-point cache and taskloom's configuration."""

from __future__ import annotations

import os
import tempfile

# stevedore fixes its cache directory when it is imported, so point it at a private directory before
# anything imports it; tests that start interpreters pass the same environment on.
_STATE = tempfile.mkdtemp(prefix="taskloom-tests-")
os.environ["XDG_CACHE_HOME"] = os.path.join(_STATE, "cache")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_STATE, "config")
os.environ.pop("TASKLOOM_CONFIG", None)
os.environ.pop("TASKLOOM_DISABLE_PLUGINS", None)
