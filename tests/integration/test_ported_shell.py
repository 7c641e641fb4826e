"""flytekit's ShellTask as ported programs use it (issue 21, point 3): taskloom.extras.tasks.shell.

The first program is the shell-task example of flytekit's documentation (three scripts passing a
file and a directory along), rewritten by hand; it runs under flytekit 1.16 and under taskloom and
prints the same result.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import pytest

from taskloom import kwtypes, task, workflow
from taskloom.exceptions.user import FlyteRecoverableException, ValidationError
from taskloom.extras.tasks.shell import OutputLocation, RawShellTask, ShellTask, ShellTaskError
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile
from tests.kernel.distributions import run_loom

DOCS_PROGRAM = 'import os\nfrom typing import Tuple\n\nimport flytekit\nfrom flytekit import kwtypes, task, workflow\nfrom flytekit.extras.tasks.shell import OutputLocation, ShellTask\nfrom flytekit.types.directory import FlyteDirectory\nfrom flytekit.types.file import FlyteFile\n\nt1 = ShellTask(\n    name="task_1",\n    debug=True,\n    script="""\n    set -ex\n    echo "Hey there! Let\'s run some bash scripts using Flyte\'s ShellTask."\n    echo "Showcasing Flyte\'s Shell Task." >> {inputs.x}\n    if grep "Flyte" {inputs.x}\n    then\n        echo "Found it!" >> {inputs.x}\n    else\n        echo "Not found!"\n    fi\n    """,\n    inputs=kwtypes(x=FlyteFile),\n    output_locs=[OutputLocation(var="i", var_type=FlyteFile, location="{inputs.x}")],\n)\n\nt2 = ShellTask(\n    name="task_2",\n    debug=True,\n    script="""\n    set -ex\n    cp {inputs.x} {inputs.y}\n    tar -zcvf {outputs.j} {inputs.y}\n    """,\n    inputs=kwtypes(x=FlyteFile, y=FlyteDirectory),\n    output_locs=[OutputLocation(var="j", var_type=FlyteFile, location="{inputs.y}.tar.gz")],\n)\n\nt3 = ShellTask(\n    name="task_3",\n    debug=True,\n    script="""\n    set -ex\n    tar -zxvf {inputs.z}\n    cat {inputs.y}/$(basename {inputs.x}) | wc -m > {outputs.k}\n    """,\n    inputs=kwtypes(x=FlyteFile, y=FlyteDirectory, z=FlyteFile),\n    output_locs=[OutputLocation(var="k", var_type=FlyteFile, location="output.txt")],\n)\n\n\n@task\ndef create_entities() -> Tuple[FlyteFile, FlyteDirectory]:\n    working_dir = flytekit.current_context().working_directory\n    flytefile = os.path.join(working_dir, "test.txt")\n    os.open(flytefile, os.O_CREAT)\n    flytedir = os.path.join(working_dir, "testdata")\n    os.makedirs(flytedir, exist_ok=True)\n    return flytefile, flytedir\n\n\n@workflow\ndef shell_task_wf() -> FlyteFile:\n    x, y = create_entities()\n    t1_out = t1(x=x)\n    t2_out = t2(x=t1_out, y=y)\n    t3_out = t3(x=x, y=y, z=t2_out)\n    return t3_out\n\n\nif __name__ == "__main__":\n    result = shell_task_wf()\n    with open(result) as handle:\n        print("RESULT", handle.read().strip())\n'


def _run_program(python, directory, source):
    (directory / "shell_flows.py").write_text(source)
    done = subprocess.run([str(python), "shell_flows.py"], capture_output=True, text=True, cwd=directory, timeout=180)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("RESULT")]


def test_the_documentations_shell_tasks_pass_a_file_and_a_directory_along(tmp_path):
    assert _run_program(sys.executable, tmp_path, DOCS_PROGRAM.replace("flytekit", "taskloom")) == ["RESULT 41"]


@pytest.mark.slow  # flytekit runs in its own virtual environment
def test_the_documentations_example_gives_flytekits_result(tmp_path):
    from plugins.flyte.tests.flytekit_reference import flytekit_python

    (tmp_path / "flytekit").mkdir()
    (tmp_path / "taskloom").mkdir()
    expected = _run_program(flytekit_python(), tmp_path / "flytekit", DOCS_PROGRAM)
    assert _run_program(sys.executable, tmp_path / "taskloom", DOCS_PROGRAM.replace("flytekit", "taskloom")) == expected


# --- a script that writes a file, another that reads it ------------------------------------------

write_greeting = ShellTask(
    name="write_greeting",
    script="""printf 'hello %s\\n' {inputs.name} > {outputs.greeting}""",
    inputs=kwtypes(name=str),
    output_locs=[OutputLocation(var="greeting", var_type=FlyteFile, location="{inputs.name}.txt")],
)

count_words = ShellTask(
    name="count_words",
    script="wc -w < {inputs.text} | tr -d ' ' > {outputs.count}",
    inputs=kwtypes(text=FlyteFile),
    output_locs=[OutputLocation(var="count", var_type=FlyteFile, location="{inputs.text}.count")],
)


@task
def read_number(f: FlyteFile) -> int:
    with open(f) as handle:
        return int(handle.read())


@workflow
def greeting_words(name: str) -> int:
    return read_number(f=count_words(text=write_greeting(name=name)))


def test_a_shell_tasks_file_is_read_by_another_in_a_workflow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative output locations are under the working directory, as in flytekit
    assert greeting_words(name="world") == 2
    assert (tmp_path / "world.txt").read_text() == "hello world\n"
    assert write_greeting.result is not None and write_greeting.result.returncode == 0


def test_shell_tasks_run_in_worker_processes(tmp_path):
    program = tmp_path / "greetings.py"
    program.write_text(
        textwrap.dedent(
            """
            from taskloom import kwtypes, workflow
            from taskloom.extras.tasks.shell import OutputLocation, ShellTask
            from taskloom.types.file import FlyteFile

            pid = ShellTask(
                name="pid",
                script="echo $PPID > {outputs.out}",
                inputs=kwtypes(tag=str),
                output_locs=[OutputLocation(var="out", var_type=FlyteFile, location="{inputs.tag}.pid")],
            )

            @workflow
            def pids(tag: str) -> FlyteFile:
                return pid(tag=tag)
            """
        )
    )
    done = run_loom(["run", "--processes", "2", str(program), "pids", "--tag", "first"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "first.pid").read_text().strip().isdigit()


# --- failures ------------------------------------------------------------------------------------

failing = ShellTask(
    name="failing",
    script="""
    echo "starting"
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do echo "line $i" >&2; done
    echo "cannot open {inputs.path}" >&2
    exit 3
    """,
    inputs=kwtypes(path=str),
)


def test_a_failing_script_names_the_task_the_exit_code_and_the_end_of_stderr():
    with pytest.raises(ShellTaskError) as caught:
        failing(path="/data/in.csv")
    error = caught.value
    message = str(error)
    assert "shell task 'failing'" in message and "exited with code 3" in message
    assert "cannot open /data/in.csv" in message and "line 25" in message
    assert "line 1\n" not in message and "last 20 of 26 lines" in message  # the tail, not all of it
    assert error.returncode == 3 and "line 1" in error.stderr and error.stdout.strip() == "starting"
    assert isinstance(error, FlyteRecoverableException)  # as flytekit: retries apply


def test_a_failing_script_is_retried_when_the_task_has_retries(tmp_path):
    marker = tmp_path / "tried"
    flaky = ShellTask(
        name="flaky",
        script="if [ -e {inputs.marker} ]; then echo ok > {outputs.out}; else touch {inputs.marker}; exit 1; fi",
        inputs=kwtypes(marker=str),
        output_locs=[OutputLocation(var="out", var_type=FlyteFile, location="{inputs.marker}.out")],
        metadata=__import__("taskloom").TaskMetadata(retries=1),
    )

    @workflow
    def retried(marker: str) -> FlyteFile:
        return flaky(marker=marker)

    assert open(retried(marker=str(marker))).read() == "ok\n"


# --- values in the script ------------------------------------------------------------------------

HOSTILE = 'it\'s "quoted"; echo injected > side-effect.txt; $(echo substituted)'


def test_values_are_inserted_raw_as_in_flytekit_so_the_shell_reads_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = ShellTask(
        name="raw",
        script="echo {inputs.text}",
        inputs=kwtypes(text=str),
    )
    with pytest.raises(ShellTaskError):  # the lone quote of it's makes the script invalid
        raw(text=HOSTILE)
    raw(text="a; echo injected > side-effect.txt")
    assert (tmp_path / "side-effect.txt").read_text() == "injected\n"


def test_a_quoted_value_reaches_the_script_as_one_literal_word(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quoted = ShellTask(
        name="quoted",
        script="printf '%s|' {inputs.text!q} > {outputs.out}",
        inputs=kwtypes(text=str),
        output_locs=[OutputLocation(var="out", var_type=FlyteFile, location="out.txt")],
    )
    out = quoted(text=HOSTILE)
    assert open(out).read() == HOSTILE + "|"
    assert not (tmp_path / "side-effect.txt").exists()


def test_templates_take_doubled_braces_datetimes_and_the_context(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    templated = ShellTask(
        name="templated",
        script="echo '{inputs.when} a b' | awk '{{print $3}}' > {outputs.out}; echo {ctx.attempt} >> {outputs.out}",
        inputs=kwtypes(when=dt.datetime),
        output_locs=[OutputLocation(var="out", var_type=FlyteFile, location="templated.txt")],
    )
    out = templated(when=dt.datetime(2026, 12, 6, 10, 30))
    assert open(out).read().split() == ["b", "0"]


def test_a_script_naming_an_unknown_input_is_an_error_naming_it():
    wrong = ShellTask(name="wrong", script="echo {inputs.nmae}", inputs=kwtypes(name=str))
    with pytest.raises(ValidationError, match=r"shell task 'wrong': the script refers to inputs.nmae.*\['name'\]"):
        wrong(name="x")


def test_a_directory_output_and_a_script_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "make.sh").write_text(
        "mkdir -p {outputs.dir}\nfor n in $(seq {inputs.n}); do touch {outputs.dir}/$n; done\n"
    )
    make = ShellTask(
        name="make",
        script_file="make.sh",
        inputs=kwtypes(n=int),
        output_locs=[OutputLocation(var="dir", var_type=FlyteDirectory, location="made")],
    )
    monkeypatch.chdir(tmp_path)
    made = make(n=3)
    assert isinstance(made, FlyteDirectory) and sorted(p.name for p in (tmp_path / "made").iterdir()) == ["1", "2", "3"]
    assert make.script_file == str(tmp_path / "make.sh")


def test_raw_shell_task_exports_its_env_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exported = RawShellTask(
        name="exported",
        script="{inputs.export_env}\necho $GREETING > {outputs.out}",
        inputs=kwtypes(env=dict[str, str]),
        output_locs=[OutputLocation(var="out", var_type=FlyteFile, location="env.txt")],
    )
    assert open(exported(env={"GREETING": "hi"})).read() == "hi\n"


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({}, "give a script or a script_file"),
        ({"script": "true", "script_file": "x.sh"}, "not both"),
        ({"script_file": "/nonexistent/x.sh"}, "is not a file"),
        ({"script": "true", "output_locs": [OutputLocation(var="n", var_type=int, location="n")]}, "expects FlyteFile"),
        ({"script": "true", "task_config": object()}, "task_config expects None"),
    ],
)
def test_mistakes_are_refused_when_the_task_is_declared(arguments, message):
    with pytest.raises(ValidationError, match=message):
        ShellTask(name="bad", **arguments)
