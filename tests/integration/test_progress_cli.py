"""`loom run --progress`: progress on standard error (plain lines, or live on a terminal), outputs on stdout."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import textwrap
import time

import pytest

from taskloom.hookspecs import hookimpl
from taskloom.run import PROGRESS_PLUGIN, showing_progress
from tests.kernel.distributions import run_loom

FLOWS = """
import time

from taskloom import map_task, task, workflow


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    time.sleep(0.01)
    return x * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def announce(x: int) -> int:
    print(f"the total is {x}")
    return x


@task
def fail(x: int) -> int:
    raise ValueError(f"no {x}")


@workflow
def squares(n: int = 50) -> int:
    return total(xs=map_task(square, concurrency=2)(x=numbers(n=n)))


@workflow
def loud(n: int = 50) -> int:
    return announce(x=squares(n=n))


@workflow
def broken(x: int = 3) -> int:
    return fail(x=square(x=x))
"""

TOTAL = sum(x * x for x in range(50))
STAMP = r"\[\d\d:\d\d:\d\d\] "


@pytest.fixture(scope="module")
def flows(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "flows.py"
    path.write_text(textwrap.dedent(FLOWS))
    return path


@pytest.fixture(scope="module")
def plain_run(flows):
    return run_loom(["run", str(flows), "squares"], env={"TASKLOOM_EXECUTOR": "local"})


def test_plain_progress_goes_to_stderr_and_stdout_holds_only_the_outputs(plain_run):
    assert plain_run.returncode == 0, plain_run.stderr
    assert plain_run.stdout == f"{TOTAL}\n"
    lines = plain_run.stderr.splitlines()
    assert all(re.match(STAMP, line) for line in lines), lines
    assert re.fullmatch(STAMP + r"workflow flows\.squares started \(3 nodes\)", lines[0])
    assert any(re.fullmatch(STAMP + r"n0 flows\.numbers finished in \d+\.\d s", line) for line in lines)
    assert re.fullmatch(
        STAMP + r"workflow flows\.squares succeeded in \d+\.\d s: 3 of 3 nodes done, 50 children \(0 failed\)",
        lines[-1],
    )


def test_a_map_reports_its_elements_in_a_few_lines_not_one_per_element(plain_run):
    lines = plain_run.stderr.splitlines()
    assert not any(re.match(STAMP + r"n1-\d", line) for line in lines)
    progress = [line for line in lines if re.match(STAMP + r"n1 \S+: \d+ of 50 done", line)]
    assert 1 <= len(progress) <= 10 and len(lines) < 20  # at most a line per tenth of the elements
    (finished,) = [line for line in lines if re.match(STAMP + r"n1 .* finished in", line)]
    assert finished.endswith("50 children (0 failed)")


def test_a_failed_node_and_the_summary_come_before_the_error(flows):
    done = run_loom(["run", str(flows), "broken"], env={"TASKLOOM_EXECUTOR": "local"})
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    failed = [
        index
        for index, line in enumerate(lines)
        if re.fullmatch(STAMP + r"n1 flows\.fail failed: ValueError: no 9", line)
    ]
    summary = [index for index, line in enumerate(lines) if re.match(STAMP + r"workflow flows\.broken failed in", line)]
    error = [index for index, line in enumerate(lines) if line.startswith("Error: ValueError: no 9")]
    assert failed and summary and error and failed[0] < summary[0] < error[0]
    assert lines[summary[0]].endswith("1 of 2 nodes done, 1 failed")


def test_progress_never_prints_nothing(flows):
    done = run_loom(["run", "--progress", "never", str(flows), "squares"], env={"TASKLOOM_EXECUTOR": "local"})
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == (f"{TOTAL}\n", "")


def test_progress_always_draws_the_live_status_even_through_a_pipe(flows):
    done = run_loom(
        ["run", "--progress", "always", str(flows), "squares", "--n", "5"], env={"TASKLOOM_EXECUTOR": "local"}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{sum(x * x for x in range(5))}\n"
    assert "\x1b[J" in done.stderr
    assert re.search(
        r"\x1b\[Jworkflow flows\.squares succeeded in \d+\.\d s: 3 of 3 nodes done, 5 children \(0 failed\)\n$",
        done.stderr,
    )


def test_live_progress_in_a_pseudo_terminal(flows):
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    environment = {**os.environ, "TASKLOOM_EXECUTOR": "local", "TERM": "xterm"}
    environment.pop("COLUMNS", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from taskloom.cli import main; main()", "run", str(flows), "loud"],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env=environment,
        close_fds=True,
    )
    os.close(secondary)
    output = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(primary)
        process.wait(timeout=60)
    text = output.decode()
    assert process.returncode == 0, text
    assert re.search(r"\x1b\[\d+A\x1b\[J", text)  # the status block, redrawn in place
    assert re.search(r"\d+\.\d s  nodes: \d/2 done, 1 running, 0 failed  \(workflow flows\.loud\)", text)
    assert re.search(r"n0-n1 flows\.map_square\S*: \d+ of 50 done, 0 failed", text)  # cut to 100 columns
    # the line the task printed arrives whole, on a line of its own, after the status was erased
    assert re.search(r"(\x1b\[J|\r\n)the total is 40425\r\n", text)
    assert re.search(
        r"(\x1b\[J|\r\n)workflow flows\.loud succeeded in \d+\.\d s: 2 of 2 nodes done, 50 children \(0 failed\)\r\n",
        text,
    )
    assert text.endswith(f"{TOTAL}\r\n")
    assert all(len(line) < 100 for line in re.split(r"\r|\n|\x1b\[\d*[AJ]", text))  # fitted to the width


class Display:
    @hookimpl
    def taskloom_node_started(self, event):
        pass


class OfferedDisplay:
    """A plugin offering a display; it records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[object, bool]] = []

    @hookimpl
    def taskloom_progress_display(self, stream, interactive):
        self.asked.append((stream, interactive))
        return Display()


def test_the_display_is_registered_for_the_run_and_removed_after_a_failure(taskloom_plugins):
    offered = OfferedDisplay()
    taskloom_plugins.register(offered, name="offered")
    stream = io.StringIO()
    with pytest.raises(RuntimeError, match="the run failed"), showing_progress("auto", stream):
        assert taskloom_plugins.get_record(PROGRESS_PLUGIN) is not None
        raise RuntimeError("the run failed")
    assert offered.asked == [(stream, False)]  # not a terminal: plain lines
    assert taskloom_plugins.get_record(PROGRESS_PLUGIN) is None


def test_progress_always_asks_for_a_live_display_and_never_asks_nobody(taskloom_plugins):
    offered = OfferedDisplay()
    taskloom_plugins.register(offered, name="offered")
    stream = io.StringIO()
    with showing_progress("never", stream):
        assert taskloom_plugins.get_record(PROGRESS_PLUGIN) is None
    with showing_progress("always", stream):
        pass
    assert offered.asked == [(stream, True)]
