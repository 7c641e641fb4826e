"""flytekit's context API in ported programs (issue 21, points 1 and 2 of the context part):
``FlyteContextManager``, ``FlyteContext`` and its builders, ``ExecutionState``, ``ctx.file_access``,
and type transformers that receive the real context when taskloom converts a value.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import taskloom
from taskloom import FlyteContext, FlyteContextManager, new_context, task, workflow
from taskloom.configuration import SerializationSettings
from taskloom.core.context_manager import ExecutionState
from taskloom.core.data_persistence import FileAccessProvider
from taskloom.exceptions.system import StorageError
from taskloom.extend import TypeEngine
from tests.kernel.distributions import run_loom

FLYTEKIT_PYTHON = Path(__file__).resolve().parents[2] / ".venvs" / "flytekit-1.16" / "bin" / "python"

# A custom type as flytekit's documentation writes one: the transformer stores the value in a file
# through ctx.file_access in to_literal and reads it back with get_data in to_python_value.
MEASUREMENT = """
import os

from taskloom import Blob, BlobMetadata, BlobType, FlyteContext, Literal, LiteralType, Scalar
from taskloom.extend import TypeEngine, TypeTransformer


class Measurement:
    def __init__(self, value: float, unit: str):
        self.value = value
        self.unit = unit

    def __eq__(self, other):
        return isinstance(other, Measurement) and (self.value, self.unit) == (other.value, other.unit)


class MeasurementTransformer(TypeTransformer[Measurement]):
    _TYPE_INFO = BlobType(format="measurement", dimensionality=BlobType.BlobDimensionality.SINGLE)

    def __init__(self):
        super().__init__(name="measurement", t=Measurement)

    def get_literal_type(self, t):
        return LiteralType(blob=self._TYPE_INFO)

    def to_literal(self, ctx: FlyteContext, python_val, python_type, expected):
        local = ctx.file_access.get_random_local_path("measurement.txt")
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "w") as handle:
            handle.write(f"{python_val.value} {python_val.unit}")
        remote = ctx.file_access.put_data(local, ctx.file_access.get_random_remote_path(local))
        return Literal(scalar=Scalar(blob=Blob(metadata=BlobMetadata(type=self._TYPE_INFO), uri=remote)))

    def to_python_value(self, ctx: FlyteContext, lv, expected_python_type):
        local = ctx.file_access.get_random_local_path()
        ctx.file_access.get_data(lv.scalar.blob.uri, local)
        with open(local) as handle:
            value, unit = handle.read().split()
        return Measurement(float(value), unit)


TypeEngine.register(MeasurementTransformer())
"""

FLOWS = (
    MEASUREMENT
    + """
from taskloom import task, workflow


@task(cache=True, cache_version="1")
def measure(raw: float) -> Measurement:
    with open(os.environ["RUNS_FILE"], "a") as runs:  # counts the runs of the body
        runs.write("x")
    return Measurement(raw * 2, "m")


@task
def describe(m: Measurement) -> str:
    return f"{m.value:.1f} {m.unit}"


@workflow
def wf(raw: float = 1.5) -> str:
    return describe(m=measure(raw=raw))
"""
)


@pytest.fixture
def measurement(tmp_path):
    """The module of the custom type, run (its transformer registered) for one test."""
    path = tmp_path / "measurement_type.py"
    path.write_text(MEASUREMENT)
    spec = importlib.util.spec_from_file_location(f"measurement_type_{id(path)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for transformer in TypeEngine.transformers():
        if isinstance(transformer, module.MeasurementTransformer):
            TypeEngine.unregister(transformer)


# --- FlyteContextManager and FlyteContext ------------------------------------------------------


def test_outside_tasks_the_context_has_no_mode_and_the_default_user_space_params():
    ctx = FlyteContextManager.current_context()
    assert isinstance(ctx, FlyteContext)
    assert ctx.execution_state.mode is None
    assert ctx.user_space_params is taskloom.current_context()
    assert FlyteContext.current_context() is ctx


def test_with_context_makes_the_built_context_current_for_the_block_only():
    outer = FlyteContextManager.current_context()
    settings = SerializationSettings(project="p", domain="d", version="v1")
    size = FlyteContextManager.size()
    with FlyteContextManager.with_context(outer.with_serialization_settings(settings)) as ctx:
        assert FlyteContextManager.current_context() is ctx
        assert ctx.serialization_settings is settings
        assert ctx.level == outer.level + 1
        assert ctx.file_access is outer.file_access
        assert FlyteContextManager.size() == size + 1
    assert FlyteContextManager.current_context() is outer
    assert FlyteContextManager.size() == size


def test_push_and_pop_context_and_a_leaked_push_is_undone_by_the_enclosing_block():
    outer = FlyteContextManager.current_context()
    pushed = outer.new_builder().build()
    assert FlyteContextManager.push_context(pushed) is pushed
    assert FlyteContextManager.current_context() is pushed
    assert FlyteContextManager.pop_context() is pushed
    assert FlyteContextManager.current_context() is outer
    with FlyteContextManager.with_context(outer.new_builder()):
        FlyteContextManager.push_context(outer.new_builder().build())  # never popped
    assert FlyteContextManager.current_context() is outer


def test_new_context_is_a_copy_of_the_current_one_for_the_block():
    outer = FlyteContextManager.current_context()
    with new_context() as ctx:
        assert ctx is not outer and ctx.file_access is outer.file_access
        assert FlyteContextManager.current_context() is ctx
    assert FlyteContextManager.current_context() is outer


def test_a_task_sees_the_settings_of_the_block_with_its_own_execution_state():
    settings = SerializationSettings(project="flytesnacks", domain="development", version="abc")
    seen = {}

    @task
    def inspect_context() -> str:
        ctx = FlyteContextManager.current_context()
        seen["ctx"] = ctx
        seen["again"] = FlyteContextManager.current_context()
        seen["params"] = taskloom.current_context()
        return ctx.serialization_settings.project

    @workflow
    def wf() -> str:
        return inspect_context()

    ctx = FlyteContextManager.current_context()
    with FlyteContextManager.with_context(ctx.with_serialization_settings(settings)):
        assert wf() == "flytesnacks"
    inner = seen["ctx"]
    assert inner is seen["again"]  # one context per task attempt
    assert inner.user_space_params is seen["params"]
    assert inner.execution_state.mode == ExecutionState.Mode.LOCAL_WORKFLOW_EXECUTION
    assert inner.execution_state.is_local_execution()
    assert os.path.isdir(inner.execution_state.engine_dir)


def test_a_context_pushed_inside_a_task_wins_over_the_task_default():
    @task
    def build_inside() -> str:
        ctx = FlyteContextManager.current_context()
        state = ctx.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION)
        with FlyteContextManager.with_context(ctx.with_execution_state(state)) as inner:
            assert FlyteContextManager.current_context() is inner
            return inner.execution_state.mode.name

    assert build_inside() == "TASK_EXECUTION"


def test_execution_state_with_params_keeps_what_is_not_given(tmp_path):
    state = ExecutionState(working_dir=str(tmp_path), mode=ExecutionState.Mode.LOCAL_TASK_EXECUTION)
    assert os.path.isdir(tmp_path / "engine_dir")
    copy = state.with_params(user_space_params=taskloom.current_context())
    assert copy.mode is ExecutionState.Mode.LOCAL_TASK_EXECUTION and copy.working_dir == str(tmp_path)
    with pytest.raises(ValueError, match="working_dir"):
        ExecutionState(working_dir="")


# --- FileAccessProvider --------------------------------------------------------------------------


def test_file_access_round_trips_through_a_memory_prefix(tmp_path):
    provider = FileAccessProvider(local_sandbox_dir=str(tmp_path / "sandbox"), raw_output_prefix="memory://ctx-test")
    assert provider.raw_output_prefix == "memory://ctx-test/"
    local = provider.get_random_local_path("data.txt")
    assert local.startswith(provider.local_sandbox_dir) and local.endswith("data.txt")
    os.makedirs(os.path.dirname(local))
    with open(local, "w") as handle:
        handle.write("hello")
    remote = provider.get_random_remote_path(local)
    assert remote.startswith("memory://ctx-test/") and remote.endswith("/data.txt")
    assert not provider.exists(remote)
    assert provider.put_data(local, remote) == remote
    assert provider.exists(remote)
    back = provider.get_random_local_path()
    provider.get_data(remote, back)
    assert open(back).read() == "hello"


def test_file_access_copies_directories_and_makes_fresh_ones(tmp_path):
    provider = FileAccessProvider(local_sandbox_dir=str(tmp_path / "sandbox"), raw_output_prefix=str(tmp_path / "raw"))
    directory = provider.get_random_local_directory()
    assert os.path.isdir(directory) and os.listdir(directory) == []
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "a.txt").write_text("a")
    remote = provider.get_random_remote_directory()
    provider.upload_directory(str(tmp_path / "tree"), remote)
    copied = provider.get_random_local_path()
    provider.download_directory(remote, copied)
    assert open(os.path.join(copied, "sub", "a.txt")).read() == "a"
    assert provider.join("s3://bucket/", "x", "y") == "s3://bucket/x/y"


def test_a_missing_remote_file_is_a_storage_error_naming_it(tmp_path):
    provider = FileAccessProvider(local_sandbox_dir=str(tmp_path), raw_output_prefix="memory://ctx-missing")
    with pytest.raises(StorageError, match="memory://ctx-missing/nothing"):
        provider.get_data("memory://ctx-missing/nothing", str(tmp_path / "out"))


def test_the_context_file_access_uses_the_run_raw_output_prefix(monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", "memory://ctx-run-prefix")
    assert FlyteContextManager.current_context().file_access.raw_output_prefix == "memory://ctx-run-prefix/"

    @task
    def prefix() -> str:
        return FlyteContextManager.current_context().file_access.raw_output_prefix

    assert prefix() == "memory://ctx-run-prefix/"


# --- transformers receive the context ------------------------------------------------------------


def test_a_custom_transformer_gets_the_current_context_when_the_caller_passes_none(measurement, tmp_path):
    value = measurement.Measurement(2.5, "kg")
    literal = TypeEngine.to_literal(None, value, measurement.Measurement)
    stored = FlyteContextManager.current_context().file_access.raw_output_prefix
    assert literal.scalar.blob.uri.startswith(stored)
    assert TypeEngine.to_python_value(None, literal, measurement.Measurement) == value


def test_a_custom_transformer_writes_through_the_file_access_of_the_block(measurement, tmp_path):
    provider = FileAccessProvider(local_sandbox_dir=str(tmp_path / "sandbox"), raw_output_prefix=str(tmp_path / "raw"))
    ctx = FlyteContextManager.current_context()
    with FlyteContextManager.with_context(ctx.with_file_access(provider)):
        literal = TypeEngine.dict_to_literal_map(
            None, {"m": measurement.Measurement(1.0, "s")}, {"m": measurement.Measurement}
        )
        back = TypeEngine.literal_map_to_kwargs(None, literal, {"m": measurement.Measurement})
    uri = literal.literals["m"].scalar.blob.uri
    assert uri.startswith(str(tmp_path / "raw")) and open(uri).read() == "1.0 s"
    assert back["m"] == measurement.Measurement(1.0, "s")


@pytest.mark.parametrize("processes", [None, "2"], ids=["threads", "process-pool"])
def test_a_ported_custom_type_is_stored_and_read_back_through_file_access(tmp_path, processes):
    (tmp_path / "flows.py").write_text(textwrap.dedent(FLOWS))
    runs = tmp_path / "runs.txt"
    env = {
        "RUNS_FILE": str(runs),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TASKLOOM_RAW_OUTPUT_PREFIX": str(tmp_path / "raw"),
    }
    arguments = ["run", *(["--processes", processes] if processes else []), "flows.py", "wf", "--raw", "1.5"]
    first = run_loom(arguments, cwd=tmp_path, env=env, path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3.0 m" in first.stdout  # what flytekit prints for the same program
    stored = [name for _, _, files in os.walk(tmp_path / "raw") for name in files if name == "measurement.txt"]
    assert stored, "to_literal wrote nothing under the raw output prefix"
    second = run_loom(arguments, cwd=tmp_path, env=env, path=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "3.0 m" in second.stdout
    assert runs.read_text() == "x"  # the second run read the cached value back with to_python_value


def test_flytekit_extend_names_port_to_taskloom_extend():
    from taskloom.extend import ExecutionState as State
    from taskloom.extend import FileAccessProvider as Provider
    from taskloom.extend import SecretsManager, context_manager

    ctx = context_manager.FlyteContextManager.current_context()
    assert isinstance(ctx.file_access, Provider)
    assert State.Mode.TASK_EXECUTION.value == 1 and State is context_manager.ExecutionState
    assert SecretsManager().get_secrets_env_var("db", "password") == "_FSEC_DB_PASSWORD"


# --- create_node ---------------------------------------------------------------------------------

CREATE_NODE = """
import os
import typing
from collections import OrderedDict

from flytekit import task, workflow
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.core.node_creation import create_node
from flytekit.tools.translator import get_serializable


def note(name):
    with open(os.environ["ORDER_LOG"], "a") as log:
        log.write(name + "\\n")


@task
def t1():
    note("t1")


@task
def t2():
    note("t2")


@task
def t4() -> typing.Tuple[int, str]:
    note("t4")
    return 3, "x"


@task
def t3(a: int) -> int:
    note("t3")
    return a * 10


@workflow
def wf() -> int:
    n1 = create_node(t1)
    n2 = create_node(t2)
    n2 >> n1
    n4 = create_node(t4)
    n3 = create_node(t3, a=n4.o0).with_overrides(retries=2)
    n1.runs_before(n4)
    return n3.o0


print("result", wf())
print("order", " ".join(open(os.environ["ORDER_LOG"]).read().split()))
settings = SerializationSettings(project="p", domain="d", version="v", image_config=ImageConfig.auto_default_image())
spec = get_serializable(OrderedDict(), settings, wf)
print("upstream", [(node.id, sorted(node.upstream_node_ids)) for node in spec.template.nodes])
print("retries", [node.metadata.retries.retries for node in spec.template.nodes if node.metadata and node.metadata.retries])
"""


def _run_create_node(python, tmp_path, name):
    directory = tmp_path / name
    directory.mkdir()
    program = CREATE_NODE if name == "reference" else CREATE_NODE.replace("from flytekit", "from taskloom")
    (directory / "nodes.py").write_text(program)
    done = subprocess.run(
        [str(python), "nodes.py"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ORDER_LOG": str(directory / "order.log")},
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.strip().splitlines())


def test_create_node_gives_nodes_with_outputs_ordering_and_overrides(tmp_path):
    facts = _run_create_node(sys.executable, tmp_path, "ported")
    assert facts["result"] == "30"
    assert facts["order"] == "t2 t1 t4 t3"  # >> and runs_before honoured locally (flytekit runs t1 first)
    assert facts["upstream"] == "[('n0', ['n1']), ('n1', []), ('n2', ['n0']), ('n3', ['n2'])]"
    assert facts["retries"] == "[0, 0, 0, 2]"


@pytest.mark.slow
def test_create_node_templates_match_flytekit(tmp_path):
    if not FLYTEKIT_PYTHON.exists():
        pytest.skip(f"flytekit 1.16 is not installed at {FLYTEKIT_PYTHON}: the comparison needs it")
    ported = _run_create_node(sys.executable, tmp_path, "ported")
    reference = _run_create_node(FLYTEKIT_PYTHON, tmp_path, "reference")
    assert reference["order"] == "t1 t2 t4 t3"  # flytekit ignores >> locally
    assert {key: ported[key] for key in ("result", "upstream", "retries")} == {
        key: reference[key] for key in ("result", "upstream", "retries")
    }


def test_create_node_refuses_positional_inputs_and_top_level_calls():
    from taskloom.core.node_creation import create_node

    @task
    def double(x: int) -> int:
        return 2 * x

    @task
    def inside() -> int:
        return create_node(double, x=4).o0

    assert inside() == 8
    with pytest.raises(RuntimeError, match="not top-level code"):
        create_node(double, x=1)
    with pytest.raises(AssertionError, match="by keyword"):

        @workflow
        def positional() -> int:
            return create_node(double, 1).o0


# --- dispatch_execute: running a task on literals, as flytekit's unit tests do ------------------


@task
def add_one(a: int, b: int = 10) -> tuple[int, str]:
    return a + 1 + b, "done"


def test_dispatch_execute_runs_a_task_on_literals_inside_a_context_block():
    ctx = FlyteContextManager.current_context()
    state = ctx.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION)
    with FlyteContextManager.with_context(ctx.with_execution_state(state)) as ctx:
        inputs = TypeEngine.dict_to_literal_map(ctx, {"a": 3}, {"a": int})
        outputs = add_one.dispatch_execute(ctx, inputs)  # b takes its default
    assert outputs.literals["o0"].scalar.primitive.integer == 14
    assert outputs.literals["o1"].scalar.primitive.string_value == "done"


def test_dispatch_execute_names_the_task_and_the_input_that_does_not_convert():
    wrong = TypeEngine.dict_to_literal_map(None, {"a": "three"}, {"a": str})
    with pytest.raises(TypeError, match=r"task '.*add_one'.*input 'a'"):
        add_one.dispatch_execute(None, wrong)
