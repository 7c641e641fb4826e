"""The temporary directories a process makes go at its exit when empty; anything written in them stays."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def _run(program: str, tmp_path: Path) -> list[str]:
    """Run ``program`` with ``tmp_path/tmp`` as the temporary directory; what is left in it, as relative paths."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(program)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return sorted(str(path.relative_to(scratch)) for path in scratch.rglob("*"))


def test_the_directories_of_a_process_that_wrote_nothing_are_gone_at_exit(tmp_path: Path) -> None:
    left = _run(
        """
        import datetime as dt, os
        from taskloom import current_context
        from taskloom.core.context_manager import ExecutionParameters
        from taskloom.core.data_persistence import default_file_access
        from taskloom.types.blob import download_root

        made = [
            current_context().working_directory,  # the context outside a task
            # a task attempt's own, made when its body asks
            ExecutionParameters("e1", "t", None, dt.datetime.now(dt.UTC)).working_directory,
            default_file_access().local_sandbox_dir,
            download_root(),
        ]
        assert all(os.path.isdir(path) for path in made), made
        """,
        tmp_path,
    )
    assert left == []


def test_what_was_written_stays_with_the_directories_that_lead_to_it(tmp_path: Path) -> None:
    left = _run(
        """
        import datetime as dt, os
        from taskloom.core.context_manager import ExecutionParameters
        from taskloom.core.data_persistence import default_file_access

        directory = ExecutionParameters("e1", "t", None, dt.datetime.now(dt.UTC)).working_directory
        with open(os.path.join(directory, "out.txt"), "w") as file:
            file.write("kept")
        os.makedirs(os.path.join(directory, "empty", "deeper"))  # empty: removed
        default_file_access()  # its sandbox, empty: removed
        """,
        tmp_path,
    )
    assert len(left) == 2, left
    directory, kept = left
    assert kept == os.path.join(directory, "out.txt")
    assert (tmp_path / "tmp" / kept).read_text() == "kept"


def test_a_forked_child_that_exits_leaves_its_parent_s_directories(tmp_path: Path) -> None:
    left = _run(
        """
        import os, sys
        from taskloom.core.scratch import scratch_directory

        parent = scratch_directory("parent-")
        pid = os.fork()
        if pid == 0:
            scratch_directory("child-")
            sys.exit(0)  # runs the exit handlers it inherited
        os.waitpid(pid, 0)
        assert os.path.isdir(parent), "the child removed its parent's directory"
        with open(os.path.join(parent, "f"), "w") as file:
            file.write("x")
        """,
        tmp_path,
    )
    assert len(left) == 2 and left[0].startswith("parent-") and left[1].endswith("/f"), left
