"""The temporary directories taskloom makes for a process, and their removal at exit when nothing is in them.

A local run makes directories under the system's temporary directory: the sandbox and raw output prefix
of its files (``taskloom-files-*``), a working directory for the context and for each task that asks
(``taskloom-*``), the root of downloads (``taskloom-downloads-*``). flytekit leaves every one behind
(``flyte*``), and most stay empty: a machine that ran a test suite a few times held thousands. Each is
made here, and at the exit of the process that made it the ones still empty are removed, bottom up.
Anything a task or the user wrote stays, with the directories that lead to it: a file a workflow
returned may be read after the run, as with flytekit.
"""

from __future__ import annotations

import atexit
import os
import threading

_made: list[str] = []
_made_lock = threading.Lock()
_owner: int | None = None


def scratch_directory(prefix: str) -> str:
    """A new directory under the temporary directory, named ``prefix`` and a random tail; removed at the
    exit of this process if it is empty then (with any empty directories under it)."""
    import tempfile  # ~5 ms with shutil and random: only when a directory is needed

    global _owner
    path = tempfile.mkdtemp(prefix=prefix)
    with _made_lock:
        if _owner != os.getpid():  # the first in this process (a forked child starts its own list)
            _made.clear()
            _owner = os.getpid()
            atexit.register(remove_empty)
        _made.append(path)
    return path


def remove_empty() -> None:
    """Remove the directories this process made that hold no file, and the empty directories under them.

    Only in the process that made them: a forked child that exits through ``sys.exit`` runs its parent's
    exit handlers, and must not take directories its parent still uses. A directory holding anything
    (a file, a link, a directory with one) stays: ``os.rmdir`` removes only empty ones.
    """
    with _made_lock:
        if _owner != os.getpid():
            return
        made = list(_made)
        _made.clear()
    for root in made:
        for directory, _, _ in os.walk(root, topdown=False):
            try:
                os.rmdir(directory)
            except OSError:  # not empty, gone already, or not ours to remove
                continue
