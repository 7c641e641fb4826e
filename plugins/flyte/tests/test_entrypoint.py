"""loom-execute / loom-map-execute / loom-fast-execute, run as Flyte's propeller runs a task's container.

Every test runs the entrypoint in a subprocess with the container arguments that packaging wrote
into the task's template, Flyte's placeholders filled in, and the FLYTE_INTERNAL_* environment a
propeller sets; it then reads back the document the entrypoint wrote with flyteidl.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from flyteidl.admin import task_pb2
from flyteidl.core import dynamic_job_pb2, errors_pb2, execution_pb2, literals_pb2, tasks_pb2

from taskloom import task

BIN = Path(sys.executable).parent

PROGRAM = """
import os
from taskloom import File, IgnoreOutputs, current_context, dynamic, map_task, task
from taskloom.exceptions.user import RecoverableUserException


@task
def add(a: int, b: int = 2) -> int:
    return a + b


@task
def context_report(tag: str) -> str:
    context = current_context()
    task = context.task_id
    return (
        f"{tag}:{context.execution_id.project}/{context.execution_id.domain}/{context.execution_id.name}:"
        f"{context.attempt}:{task.project}/{task.domain}/{task.name}@{task.version}"
    )


@task
def write(text: str) -> File:
    path = os.path.join(current_context().working_directory, "greeting.txt")
    with open(path, "w") as handle:
        handle.write(text)
    return File(path)


@task
def read(f: File) -> str:
    with open(f) as handle:
        return handle.read()


@task
def fails(a: int) -> int:
    raise ValueError(f"no good: {a}")


@task
def flaky(a: int) -> int:
    raise RecoverableUserException("try again")


@task
def quiet(a: int) -> int:
    raise IgnoreOutputs("another worker reports")


@task
def resumes(a: int) -> int:
    checkpoint = current_context().checkpoint
    previous = checkpoint.read()
    checkpoint.write(str(a * 10).encode())
    return int(previous.decode()) if previous else -1


@task
def scale(x: int, factor: int) -> int:
    return x * factor


scaled = map_task(scale, concurrency=2)


@dynamic
def fan(n: int) -> list[int]:
    return [add(a=i) for i in range(n)]


DEEP = int
for _ in range(49):  # one list deeper than an outputs.pb can hold (48)
    DEEP = list[DEEP]


@task
def too_deep(n: int) -> DEEP:
    value = n
    for _ in range(49):
        value = [value]
    return value
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    root = tmp_path_factory.mktemp("image") / "app"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "__init__.py").write_text("")
    (root / "flows" / "jobs.py").write_text(textwrap.dedent(PROGRAM))
    serialized = tmp_path_factory.mktemp("serialized")
    completed = subprocess.run(
        [
            str(BIN / "loom"),
            "serialize",
            str(root / "flows"),
            "--image",
            "default=example/app:1",
            "-p",
            "proj",
            "-d",
            "dev",
            "--version",
            "v1",
            "-o",
            str(serialized),
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert completed.returncode == 0, completed.stderr
    specs = {}
    for path in serialized.glob("*_1.pb"):
        spec = task_pb2.TaskSpec()
        spec.ParseFromString(path.read_bytes())
        specs[spec.template.id.name] = spec.template
    return root, specs


def inputs_file(directory: Path, values: dict, types: dict) -> Path:
    from taskloom.core.type_engine import TypeEngine
    from taskloom_flyte.codec import literal_map_to_bytes

    path = directory / "inputs.pb"
    path.write_bytes(literal_map_to_bytes(TypeEngine.dict_to_literal_map(None, values, types)))
    return path


def propeller_command(
    template, work: Path, inputs: Path | str, *, prev_checkpoint="", output_prefix=None, raw=None
) -> tuple[list[str], dict[str, str], Path | str]:
    """The template's container args with the placeholders filled as a propeller fills them (the program made
    this interpreter's), the variables a pod gets (execution identity, the template's env), and the output prefix.

    The output and raw data prefixes are ``work/outputs`` and ``work/raw`` unless given (URIs: ``s3://...``);
    checkpoints go under the raw data prefix.
    """
    output_prefix = work / "outputs" if output_prefix is None else output_prefix
    filled = {
        "{{.input}}": str(inputs),
        "{{.outputPrefix}}": str(output_prefix),
        "{{.rawOutputDataPrefix}}": str(work / "raw" if raw is None else raw),
        "{{.checkpointOutputPrefix}}": str(work / "checkpoint") if raw is None else f"{raw}/checkpoint",
        "{{.prevCheckpointPrefix}}": prev_checkpoint,
    }
    args = [filled.get(arg, arg) for arg in template.container.args]
    args[0] = str(BIN / args[0])
    variables = {
        "FLYTE_INTERNAL_EXECUTION_PROJECT": "proj",
        "FLYTE_INTERNAL_EXECUTION_DOMAIN": "dev",
        "FLYTE_INTERNAL_EXECUTION_ID": "exec-1",
        "FLYTE_INTERNAL_TASK_PROJECT": "proj",
        "FLYTE_INTERNAL_TASK_DOMAIN": "dev",
        "FLYTE_INTERNAL_TASK_NAME": template.id.name,
        "FLYTE_INTERNAL_TASK_VERSION": template.id.version,
        **{item.key: item.value for item in template.container.env},
    }
    return args, variables, output_prefix


def run_container(
    template, root: Path, work: Path, inputs: Path | str, *, env=None, prev_checkpoint="", output_prefix=None, raw=None
):
    """Run the template's container args here as a propeller does (:func:`propeller_command`); return
    (completed process, output prefix)."""
    args, variables, output_prefix = propeller_command(
        template, work, inputs, prev_checkpoint=prev_checkpoint, output_prefix=output_prefix, raw=raw
    )
    environment = {**os.environ, **variables, **(env or {})}
    environment.pop("PYTHONPATH", None)  # the image's code is found from its working directory
    completed = subprocess.run(args, capture_output=True, text=True, cwd=root, env=environment, timeout=120)
    return completed, output_prefix


def read_outputs(prefix: Path, types: dict) -> dict:
    from taskloom.core.type_engine import TypeEngine
    from taskloom_flyte.codec import literal_map_from_bytes

    assert not (prefix / "error.pb").exists(), read_error(prefix).message
    literals = literal_map_from_bytes((prefix / "outputs.pb").read_bytes())
    return TypeEngine.literal_map_to_kwargs(None, literals, types)


def read_error(prefix: Path) -> errors_pb2.ContainerError:
    document = errors_pb2.ErrorDocument()
    document.ParseFromString((prefix / "error.pb").read_bytes())
    return document.error


def test_the_packaged_command_line_names_the_entrypoint_and_resolver(program):
    _, specs = program
    args = list(specs["flows.jobs.add"].container.args)
    assert args[0] == "loom-execute"
    assert args[args.index("--inputs") + 1] == "{{.input}}"
    assert args[args.index("--output-prefix") + 1] == "{{.outputPrefix}}"
    assert args[args.index("--resolver") + 1] == "taskloom_flyte.resolvers.default_task_resolver"
    assert args[args.index("--") + 1 :] == ["task-module", "flows.jobs", "task-name", "add"]
    map_args = list(
        specs[next(name for name in specs if "scale" in name and name != "flows.jobs.scale")].container.args
    )
    assert map_args[0] == "loom-map-execute"
    assert map_args[map_args.index("--") + 1 :][:4] == [
        "vars",
        "",
        "resolver",
        "taskloom_flyte.resolvers.default_task_resolver",
    ]


def test_a_task_runs_from_its_template_and_writes_outputs_pb(program, tmp_path):
    root, specs = program
    completed, prefix = run_container(
        specs["flows.jobs.add"], root, tmp_path, inputs_file(tmp_path, {"a": 40, "b": 2}, {"a": int, "b": int})
    )
    assert completed.returncode == 0, completed.stderr
    assert read_outputs(prefix, {"o0": int}) == {"o0": 42}
    assert sorted(os.listdir(prefix)) == ["outputs.pb"]


def test_the_context_tells_the_execution_and_attempt_from_the_environment(program, tmp_path):
    root, specs = program
    completed, prefix = run_container(
        specs["flows.jobs.context_report"],
        root,
        tmp_path,
        inputs_file(tmp_path, {"tag": "t"}, {"tag": str}),
        env={"FLYTE_ATTEMPT_NUMBER": "2"},
    )
    assert completed.returncode == 0, completed.stderr
    assert read_outputs(prefix, {"o0": str}) == {"o0": "t:proj/dev/exec-1:2:proj/dev/flows.jobs.context_report@v1"}


def test_a_returned_file_is_uploaded_under_the_raw_output_prefix_and_read_by_the_next_task(program, tmp_path):
    root, specs = program
    (tmp_path / "first").mkdir()
    completed, prefix = run_container(
        specs["flows.jobs.write"],
        root,
        tmp_path / "first",
        inputs_file(tmp_path / "first", {"text": "hello"}, {"text": str}),
    )
    assert completed.returncode == 0, completed.stderr
    outputs = literals_pb2.LiteralMap()
    outputs.ParseFromString((prefix / "outputs.pb").read_bytes())
    uri = outputs.literals["o0"].scalar.blob.uri
    assert uri.startswith(str(tmp_path / "first" / "raw")) and Path(uri).read_text() == "hello"
    # The next task gets the blob literal as its input, as Flyte passes it along.
    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "inputs.pb").write_bytes(
        literals_pb2.LiteralMap(literals={"f": outputs.literals["o0"]}).SerializeToString()
    )
    completed, prefix = run_container(
        specs["flows.jobs.read"], root, tmp_path / "second", tmp_path / "second" / "inputs.pb"
    )
    assert completed.returncode == 0, completed.stderr
    assert read_outputs(prefix, {"o0": str}) == {"o0": "hello"}


def test_a_failing_task_writes_a_non_recoverable_user_error(program, tmp_path):
    root, specs = program
    completed, prefix = run_container(
        specs["flows.jobs.fails"], root, tmp_path, inputs_file(tmp_path, {"a": 7}, {"a": int})
    )
    assert completed.returncode == 0  # the phase comes from error.pb, as Flyte expects
    error = read_error(prefix)
    assert error.kind == errors_pb2.ContainerError.NON_RECOVERABLE
    assert error.origin == execution_pb2.ExecutionError.USER
    assert error.code == "USER:ValueError"
    assert "no good: 7" in error.message and "flows.jobs.fails" in error.message
    assert not (prefix / "outputs.pb").exists()


def test_a_recoverable_exception_is_a_recoverable_user_error(program, tmp_path):
    root, specs = program
    _, prefix = run_container(specs["flows.jobs.flaky"], root, tmp_path, inputs_file(tmp_path, {"a": 1}, {"a": int}))
    error = read_error(prefix)
    assert error.kind == errors_pb2.ContainerError.RECOVERABLE and error.origin == execution_pb2.ExecutionError.USER


def test_ignore_outputs_writes_nothing(program, tmp_path):
    root, specs = program
    completed, prefix = run_container(
        specs["flows.jobs.quiet"], root, tmp_path, inputs_file(tmp_path, {"a": 1}, {"a": int})
    )
    assert completed.returncode == 0, completed.stderr
    assert not prefix.exists() or not os.listdir(prefix)


def test_fail_on_error_makes_the_process_exit_non_zero(program, tmp_path):
    root, specs = program
    completed, prefix = run_container(
        specs["flows.jobs.fails"],
        root,
        tmp_path,
        inputs_file(tmp_path, {"a": 1}, {"a": int}),
        env={"FLYTE_FAIL_ON_ERROR": "true"},
    )
    assert completed.returncode != 0 and (prefix / "error.pb").exists()


def test_a_checkpoint_is_written_for_the_next_attempt_and_read_by_it(program, tmp_path):
    root, specs = program
    (tmp_path / "a1").mkdir()
    _, prefix = run_container(
        specs["flows.jobs.resumes"], root, tmp_path / "a1", inputs_file(tmp_path / "a1", {"a": 4}, {"a": int})
    )
    assert read_outputs(prefix, {"o0": int}) == {"o0": -1}
    (tmp_path / "a2").mkdir()
    _, prefix = run_container(
        specs["flows.jobs.resumes"],
        root,
        tmp_path / "a2",
        inputs_file(tmp_path / "a2", {"a": 5}, {"a": int}),
        prev_checkpoint=str(tmp_path / "a1" / "checkpoint"),
    )
    assert read_outputs(prefix, {"o0": int}) == {"o0": 40}


@pytest.mark.parametrize("index", [0, 2])
def test_a_map_element_takes_its_item_from_the_array_index_variable(program, tmp_path, index):
    root, specs = program
    map_name = next(name for name in specs if "scale" in name and name != "flows.jobs.scale")
    inputs = inputs_file(tmp_path, {"x": [1, 2, 3], "factor": [10, 20, 30]}, {"x": list[int], "factor": list[int]})
    completed, prefix = run_container(
        specs[map_name],
        root,
        tmp_path,
        inputs,
        env={"BATCH_JOB_ARRAY_INDEX_VAR_NAME": "FLYTE_K8S_ARRAY_INDEX", "FLYTE_K8S_ARRAY_INDEX": str(index)},
    )
    assert completed.returncode == 0, completed.stderr
    assert read_outputs(prefix, {"o0": int}) == {"o0": [10, 40, 90][index]}


def test_a_dynamic_task_writes_futures_pb_whose_tasks_carry_container_args(program, tmp_path):
    root, specs = program
    completed, prefix = run_container(
        specs["flows.jobs.fan"], root, tmp_path, inputs_file(tmp_path, {"n": 3}, {"n": int})
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(os.listdir(prefix)) == ["futures.pb"]
    spec = dynamic_job_pb2.DynamicJobSpec()
    spec.ParseFromString((prefix / "futures.pb").read_bytes())
    assert len(spec.nodes) == 3 and spec.min_successes == 3
    assert [task.id.name for task in spec.tasks] == ["flows.jobs.add"]
    child = spec.tasks[0]
    assert child.id.version == "v1" and child.id.project == "proj"
    assert child.container.image == "example/app:1"
    assert list(child.container.args[-4:]) == ["task-module", "flows.jobs", "task-name", "add"]


def assert_corrupt_inputs(error: errors_pb2.ContainerError, inputs: Path) -> None:
    """A damaged inputs.pb is the system's fault, and a retry (a fresh copy) may help."""
    assert error.origin == execution_pb2.ExecutionError.SYSTEM, error.message
    assert error.kind == errors_pb2.ContainerError.RECOVERABLE, error.message
    assert error.code == "INPUTS_CORRUPT" and str(inputs) in error.message and "\n" not in error.message


@pytest.mark.parametrize("damage", ["truncated", "random-bytes", "empty", "garbage"])
def test_a_damaged_inputs_pb_is_a_recoverable_system_error_naming_the_uri(program, tmp_path, damage):
    root, specs = program
    whole = inputs_file(tmp_path, {"a": 1, "b": 2}, {"a": int, "b": int}).read_bytes()
    bad = tmp_path / "bad.pb"
    bad.write_bytes(
        {
            "truncated": whole[: len(whole) // 2],
            "random-bytes": random.Random(7).randbytes(64),
            "empty": b"",
            "garbage": b"\x0a\xff\xff\xff garbage",
        }[damage]
    )
    completed, prefix = run_container(specs["flows.jobs.add"], root, tmp_path, bad)
    assert completed.returncode == 0, completed.stderr
    assert_corrupt_inputs(read_error(prefix), bad)
    assert not (prefix / "outputs.pb").exists()


# In-process from here: every truncation and many random payloads, too many for a subprocess each.


@task
def three_inputs(a: int, b: str, c: list[int]) -> int:
    return a + len(b) + sum(c)


@task
def no_inputs() -> int:
    return 7


def run_in_process(task_object, inputs: Path, prefix: Path) -> errors_pb2.ContainerError | None:
    """Run ``task_object`` through the entrypoint's Invocation; its error document, or None."""
    from taskloom_flyte.entrypoint import Invocation

    invocation = Invocation(
        inputs=str(inputs),
        output_prefix=str(prefix),
        raw_output_data_prefix=None,
        checkpoint_path=None,
        prev_checkpoint=None,
        load_task=lambda: task_object,
    )
    written = invocation.run()
    return read_error(prefix) if written == "error.pb" else None


def test_every_truncation_of_inputs_pb_is_a_recoverable_system_error(tmp_path):
    whole = inputs_file(
        tmp_path, {"a": 40, "b": "two", "c": [1, 2, 3]}, {"a": int, "b": str, "c": list[int]}
    ).read_bytes()
    assert run_in_process(three_inputs, tmp_path / "inputs.pb", tmp_path / "whole") is None
    for length in range(len(whole)):
        inputs = tmp_path / f"truncated-{length}.pb"
        inputs.write_bytes(whole[:length])
        error = run_in_process(three_inputs, inputs, tmp_path / f"out-{length}")
        assert error is not None, f"{length} of {len(whole)} bytes ran the task"
        assert_corrupt_inputs(error, inputs)


def test_random_bytes_as_inputs_pb_are_a_recoverable_system_error(tmp_path):
    generator = random.Random(19)
    for attempt in range(300):
        inputs = tmp_path / f"random-{attempt}.pb"
        inputs.write_bytes(generator.randbytes(generator.randint(1, 300)))
        error = run_in_process(three_inputs, inputs, tmp_path / f"out-{attempt}")
        assert error is not None, inputs.read_bytes()
        assert_corrupt_inputs(error, inputs)


def test_an_empty_inputs_pb_is_what_a_task_without_inputs_gets(tmp_path):
    inputs = tmp_path / "inputs.pb"
    inputs.write_bytes(b"")  # an empty LiteralMap serializes to no bytes at all
    assert run_in_process(no_inputs, inputs, tmp_path / "out") is None
    assert read_outputs(tmp_path / "out", {"o0": int}) == {"o0": 7}


def test_a_wrong_typed_input_stays_a_user_error(tmp_path):
    inputs = inputs_file(tmp_path, {"a": "forty", "b": "two", "c": [1]}, {"a": str, "b": str, "c": list[int]})
    error = run_in_process(three_inputs, inputs, tmp_path / "out")
    assert error.origin == execution_pb2.ExecutionError.USER and "'a'" in error.message


@pytest.mark.parametrize("uri", ["missing", "foo://bucket/inputs.pb"])
def test_unreadable_inputs_are_an_error_naming_the_uri(program, tmp_path, uri):
    root, specs = program
    target = str(tmp_path / "nowhere" / "inputs.pb") if uri == "missing" else uri
    completed, prefix = run_container(specs["flows.jobs.add"], root, tmp_path, target)
    assert completed.returncode == 0, completed.stderr
    error = read_error(prefix)
    assert target in error.message and error.origin == execution_pb2.ExecutionError.SYSTEM


def test_an_unknown_task_is_a_user_error_naming_it(program, tmp_path):
    root, specs = program
    template = tasks_pb2.TaskTemplate()
    template.CopyFrom(specs["flows.jobs.add"])
    template.container.args[-1] = "no_such_task"
    _, prefix = run_container(template, root, tmp_path, inputs_file(tmp_path, {"a": 1}, {"a": int}))
    error = read_error(prefix)
    assert error.origin == execution_pb2.ExecutionError.USER and "no_such_task" in error.message


def test_an_output_prefix_that_cannot_be_written_fails_the_process_and_leaves_no_outputs(program, tmp_path):
    root, specs = program
    (tmp_path / "outputs").write_text("a file where the prefix directory should be")
    completed, _ = run_container(specs["flows.jobs.add"], root, tmp_path, inputs_file(tmp_path, {"a": 1}, {"a": int}))
    assert completed.returncode != 0 and "could not write" in completed.stderr
    assert (tmp_path / "outputs").read_text().startswith("a file")


def test_an_output_nested_deeper_than_protobuf_reads_is_a_user_error_not_an_unreadable_outputs_pb(program, tmp_path):
    root, specs = program
    completed, prefix = run_container(
        specs["flows.jobs.too_deep"], root, tmp_path, inputs_file(tmp_path, {"n": 1}, {"n": int})
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(os.listdir(prefix)) == ["error.pb"]
    error = read_error(prefix)
    assert error.origin == execution_pb2.ExecutionError.USER and error.kind == errors_pb2.ContainerError.NON_RECOVERABLE
    assert (
        "flows.jobs.too_deep" in error.message
        and "level 101" in error.message
        and "stop at 100 levels" in error.message
    )
    assert "Traceback" not in error.message


def test_test_mode_finds_the_task_without_running_it(program, tmp_path):
    root, _specs = program
    args = [
        str(BIN / "loom-execute"),
        "--inputs",
        "unused",
        "--output-prefix",
        str(tmp_path / "o"),
        "--test",
        "--",
        "task-module",
        "flows.jobs",
        "task-name",
        "fails",
    ]
    completed = subprocess.run(args, capture_output=True, text=True, cwd=root)
    assert completed.returncode == 0 and "found the task" in completed.stdout
    assert not (tmp_path / "o").exists()


EXECUTOR = '''
class Greeter:
    """Runs a task template whose custom config says how to greet: no user code in the image."""

    def __init__(self, template):
        self.greeting = template.custom["greeting"]

    def execute(self, name):
        return f"{self.greeting}, {name}"
'''


def test_the_template_resolver_runs_a_task_from_its_template_alone(tmp_path):
    from taskloom.models.identifier import Identifier, ResourceType
    from taskloom.models.interface import TypedInterface, Variable, VariableMap
    from taskloom.models.task import Container, TaskTemplate
    from taskloom.models.types import LiteralType, SimpleType
    from taskloom_flyte.codec import to_proto

    image = tmp_path / "image"
    image.mkdir()
    (image / "greeters.py").write_text(EXECUTOR)
    string = LiteralType(simple=SimpleType.STRING)
    template = TaskTemplate(
        id=Identifier(resource_type=ResourceType.TASK, project="p", domain="d", name="greet", version="1"),
        type="greeter",
        interface=TypedInterface(
            inputs=VariableMap(variables={"name": Variable(type=string)}),
            outputs=VariableMap(variables={"o0": Variable(type=string)}),
        ),
        custom={"greeting": "Hello"},
        container=Container(image="prebuilt:1"),
    )
    template_path = tmp_path / "template.pb"
    template_path.write_bytes(to_proto(template).SerializeToString())
    inputs = inputs_file(tmp_path, {"name": "Ada"}, {"name": str})
    args = [
        str(BIN / "loom-execute"),
        "--inputs",
        str(inputs),
        "--output-prefix",
        str(tmp_path / "out"),
        "--resolver",
        "taskloom_flyte.resolvers.task_template_resolver",
        "--",
        str(template_path),
        "greeters:Greeter",
    ]
    completed = subprocess.run(args, capture_output=True, text=True, cwd=image)
    assert completed.returncode == 0, completed.stderr
    assert read_outputs(tmp_path / "out", {"o0": str}) == {"o0": "Hello, Ada"}


def test_fast_execute_unpacks_the_code_and_runs_the_command_there(program, tmp_path):
    root, _specs = program
    tarball = tmp_path / "code.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(root / "flows", arcname="flows")
    destination = tmp_path / "unpacked"
    destination.mkdir()
    inputs = inputs_file(tmp_path, {"a": 1, "b": 1}, {"a": int, "b": int})
    args = [
        str(BIN / "loom-fast-execute"),
        "--additional-distribution",
        str(tarball),
        "--dest-dir",
        str(destination),
        "--",
        str(BIN / "loom-execute"),
        "--inputs",
        str(inputs),
        "--output-prefix",
        str(tmp_path / "out"),
        "--resolver",
        "taskloom_flyte.resolvers.default_task_resolver",
        "--",
        "task-module",
        "flows.jobs",
        "task-name",
        "add",
    ]
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    completed = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, env=environment)
    assert completed.returncode == 0, completed.stderr
    assert (destination / "flows" / "jobs.py").exists()
    assert read_outputs(tmp_path / "out", {"o0": int}) == {"o0": 2}
