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


def test_the_directories_of_a_run_that_wrote_nothing_are_gone_at_exit(tmp_path: Path) -> None:
    left = _run(
        """
        import os
        from taskloom import task, workflow, current_context
        from taskloom.core.data_persistence import default_file_access
        from taskloom.types.blob import download_root

        @task
        def t(x: int) -> int:
            assert os.path.isdir(current_context().working_directory)
            return x + 1

        @workflow
        def w(x: int) -> int:
            return t(x=t(x=x))

        assert w(x=1) == 3
        assert os.path.isdir(default_file_access().local_sandbox_dir)
        assert os.path.isdir(download_root())
        print(current_context().working_directory)
        """,
        tmp_path,
    )
    assert left == []


def test_what_a_task_wrote_stays_with_the_directories_that_lead_to_it(tmp_path: Path) -> None:
    left = _run(
        """
        import os
        from taskloom import task, current_context
        from taskloom.core.data_persistence import default_file_access

        @task
        def t() -> str:
            path = os.path.join(current_context().working_directory, "out.txt")
            with open(path, "w") as file:
                file.write("kept")
            return path

        path = t()
        os.makedirs(os.path.join(os.path.dirname(path), "empty", "deeper"))
        default_file_access()  # its sandbox, empty: removed
        print(path)
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
