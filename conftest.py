"""Set-up shared by every test of the tree (``tests/`` and each plugin's ``tests/``): each run gets
private state, so that no test reads or writes the user's caches, configuration or data.

* stevedore fixes its cache directory when it is imported, and the task cache lives under the
  user cache directory: ``XDG_CACHE_HOME`` points at a private directory before anything imports them;
* ``XDG_CONFIG_HOME`` likewise, and taskloom's own configuration variables are cleared;
* local executions are recorded in the execution store: ``TASKLOOM_DATA_DIR`` points at a private
  directory (a test that looks at the store sets its own);
* no bytecode is written (``PYTHONDONTWRITEBYTECODE``): tests rewrite a program and run it again within
  the same second, and Python's bytecode cache keys on the source's size and whole-second modification
  time, so a rewrite of the same size ran the old code (a resume printed the old program's answer);
  and some tests list every file a command leaves. A person's edit comes seconds later.

Interpreters started by tests inherit the same environment. The private directory goes when the test
process exits (each pytest-xdist worker has its own): a run left ~370 MiB in it (uv's cache, tables,
recorded executions), and runs piled up in the temporary directory.

A test that leaves an event loop running in its thread fails at teardown: every later test in that
process would see it (an async task called from plain code returns its coroutine where a loop runs), and
the failure would land on whichever test ran next.

Hypothesis runs under one of two profiles registered here, chosen by ``TASKLOOM_HYPOTHESIS_PROFILE``
(``dev`` when unset; ``.ci/run`` sets ``ci``; ``--hypothesis-profile`` still overrides both). A test
states its own ``@settings`` only where it needs other limits, and says why.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

_STATE = tempfile.mkdtemp(prefix="taskloom-tests-")
atexit.register(functools.partial(shutil.rmtree, _STATE, ignore_errors=True))
os.environ["XDG_CACHE_HOME"] = os.path.join(_STATE, "cache")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_STATE, "config")
os.environ["TASKLOOM_DATA_DIR"] = os.path.join(_STATE, "data")
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.dont_write_bytecode = True
for _variable in (
    "TASKLOOM_CONFIG",
    "TASKLOOM_DISABLE_PLUGINS",
    "TASKLOOM_RECORD",
    "TASKLOOM_CACHE_PATH",
    "TASKLOOM_PROCESSES",
    "TASKLOOM_RAW_OUTPUT_PREFIX",
):
    os.environ.pop(_variable, None)

#: The environment variable that names the hypothesis profile of a run.
HYPOTHESIS_PROFILE_VARIABLE = "TASKLOOM_HYPOTHESIS_PROFILE"

# Both profiles run the same examples, so that a run here finds what CI finds. No deadline and no
# too_slow check: the machines are shared, and a slow example is not a failure. 40 examples is what
# most property tests need; cheaper or costlier tests say otherwise with their own @settings.
# Built on hypothesis's "default" profile, not on the current one, which is hypothesis's own "ci"
# wherever a CI variable is set.
settings.register_profile(
    "dev",
    settings.get_profile("default"),
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# CI starts from a fresh clone with no example database to replay or keep: the examples are
# derandomized so a failure repeats on the next run, and a failure prints the blob that reproduces
# it (@reproduce_failure). This is hypothesis's own "ci" profile, with our example count.
settings.register_profile("ci", settings.get_profile("dev"), derandomize=True, database=None, print_blob=True)


@pytest.hookimpl(tryfirst=True)  # before hypothesis's own pytest_configure applies --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get(HYPOTHESIS_PROFILE_VARIABLE) or "dev"
    if name not in ("dev", "ci"):
        raise pytest.UsageError(f"{HYPOTHESIS_PROFILE_VARIABLE}: expected 'dev' or 'ci', got {name!r}")
    settings.load_profile(name)


@pytest.fixture(autouse=True)
def _no_event_loop_left_running() -> Iterator[None]:
    yield
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # none running: as it should be between tests
        return
    pytest.fail(
        f"the test left an event loop running in this thread ({loop!r}): later tests in this process would "
        "run inside it (a started Playwright sync API does this until it is stopped)"
    )
