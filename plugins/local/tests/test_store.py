"""The execution store: what local runs record, how it is written, and resuming from it (Python API)."""

from __future__ import annotations

import dataclasses
import os
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.local.tests.opaque import Opaque, OpaqueTransformer
from taskloom import task, workflow
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import FlyteRecoverableException
from taskloom_local import recorder
from taskloom_local.executor import LocalExecutor
from taskloom_local.store import STORED, SUPERSEDED, UNRECORDED, ExecutionStore, PlainValues, ResumeError, parse_age

LOG: list[str] = []  # what the tasks of this module ran, in order
BROKEN: set[str] = set()  # the tasks that fail while their name is here


@pytest.fixture(autouse=True)
def private_store(monkeypatch, tmp_path):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.delenv("TASKLOOM_RECORD", raising=False)
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    LOG.clear()
    BROKEN.clear()
    return ExecutionStore(str(tmp_path / "data"))


@dataclasses.dataclass
class Point:
    x: int
    y: float


@task
def double(x: int) -> int:
    LOG.append(f"double{x}")
    if "double" in BROKEN and x >= 4:
        raise ValueError(f"no doubling {x}")
    return 2 * x


@task
def pair(x: int, offset: int) -> Point:
    LOG.append(f"pair{x + offset}")
    return Point(x + offset, (x + offset) / 2)


@task
def gather(points: list[Point], total: int) -> str:
    LOG.append("gather")
    if "gather" in BROKEN:
        raise ValueError("cannot gather")
    return f"{total}:" + ",".join(f"{point.x}/{point.y}" for point in points)


@workflow
def chain(x: int = 1) -> int:
    for _ in range(5):
        x = double(x=x)
    return x


@workflow
def wide(n: int = 3) -> str:
    points = [pair(x=n, offset=index) for index in range(4)]
    return gather(points=points, total=double(x=n))


def last_execution(store: ExecutionStore):
    (record,) = store.executions(1)
    return record


def nodes_by_path(store: ExecutionStore, execution_id: str):
    return {node.path: node for node in store.nodes(execution_id)}


# --- the files ------------------------------------------------------------------------------


@given(
    numbers=st.lists(st.integers(-(2**62), 2**62), max_size=5),
    table=st.dictionaries(st.text(max_size=5), st.floats(allow_nan=False), max_size=4),
    maybe=st.none() | st.text(max_size=8),
    point=st.builds(Point, st.integers(-1000, 1000), st.floats(allow_nan=False, allow_infinity=False)),
)
def test_values_written_as_literal_files_read_back_equal(tmp_path_factory, numbers, table, maybe, point):
    store = ExecutionStore(str(tmp_path_factory.mktemp("store")))
    types = {"numbers": list[int], "table": dict[str, float], "maybe": str | None, "point": Point}
    values = {"numbers": numbers, "table": table, "maybe": maybe, "point": point}
    literals = TypeEngine.dict_to_literal_map(None, values, types)
    name = store.write_literals("l1", store.node_file_name("n2-5"), literals)
    assert store.read_values("l1", name, types, entity="test", direction="output") == values


@given(
    numbers=st.lists(st.integers(-(2**62), 2**62), max_size=5),
    table=st.dictionaries(st.text(max_size=5), st.floats(allow_nan=False) | st.integers(-5, 5), max_size=4),
    maybe=st.none() | st.text(max_size=8),
    ratio=st.integers(-5, 5) | st.floats(allow_nan=False),
)
def test_plain_values_read_back_as_the_literal_map_of_them_would(tmp_path_factory, numbers, table, maybe, ratio):
    store = ExecutionStore(str(tmp_path_factory.mktemp("store")))
    types = {"numbers": list[int], "table": dict[str, float], "maybe": str | None, "ratio": float}
    values = {"numbers": numbers, "table": table, "maybe": maybe, "ratio": ratio}
    plain = PlainValues.of(values, types)
    assert plain is not None
    name = store.write_literals("l1", "outputs", plain)
    literals = TypeEngine.dict_to_literal_map(None, values, types)
    assert store.read_literals("l1", name, types) == literals
    # An int given for a float comes back a float, as from its literal.
    read = store.read_values("l1", name, types, entity="test", direction="output")
    assert read == TypeEngine.literal_map_to_kwargs(None, literals, types)
    assert type(read["ratio"]) is float


@pytest.mark.parametrize(
    ("values", "types"),
    [
        ({"point": Point(1, 2.0)}, {"point": Point}),  # not builtin data
        ({"n": True}, {"n": int}),  # refused by the type's fast test
        ({"names": ["a", 1]}, {"names": list[str]}),
        ({"when": None}, {"other": int | None}),  # not a declared name
        ({"text": type("Name", (str,), {})("x")}, {"text": str}),  # a str subclass
    ],
)
def test_values_that_are_not_plain_are_recorded_as_literal_maps(values, types):
    assert PlainValues.of(values, types) is None


def test_plain_values_read_with_types_of_other_names_do_not_read(private_store):
    name = private_store.write_literals("l1", "inputs", PlainValues.of({"n": 3}, {"n": int}))
    with pytest.raises(ValueError, match="'n' was recorded as int, not str"):
        private_store.read_literals("l1", name, {"n": str})
    with pytest.raises(ValueError, match="reading needs their types"):
        private_store.read_literals("l1", name)
    assert private_store.read_values("l1", name, {"n": int}, entity="e", direction="input") == {"n": 3}


def test_a_run_of_plain_values_records_them_as_they_are(private_store):
    assert chain(x=1) == 32
    record = last_execution(private_store)
    for relative in (record.inputs, record.outputs):
        with open(os.path.join(private_store.execution_directory(record.id), relative), "rb") as stream:
            assert isinstance(pickle.loads(stream.read()), PlainValues)
    assert private_store.read_values(record.id, record.inputs, {"x": int}, entity="e", direction="input") == {"x": 1}


def test_a_literal_file_is_replaced_whole_or_not_at_all(private_store, monkeypatch):
    store = private_store
    first = store.write_literals("l1", "outputs", b"first")
    directory = store.execution_directory("l1")

    def interrupted(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        store.write_literals("l1", "outputs", b"second")
    with open(os.path.join(directory, first), "rb") as stream:
        assert stream.read() == b"first"
    assert os.listdir(directory) == ["outputs.literals"]  # the temporary file is gone


# --- what is recorded ---------------------------------------------------------------------------


def test_a_successful_run_records_the_execution_its_inputs_outputs_and_every_node(private_store):
    assert wide(n=3) == "6:3/1.5,4/2.0,5/2.5,6/3.0"
    record = last_execution(private_store)
    assert (record.entity, record.kind, record.status, record.state) == (
        wide.name,
        "workflow",
        "succeeded",
        "succeeded",
    )
    assert record.finished >= record.started and record.pid == os.getpid() and record.error is None
    assert private_store.read_values(record.id, record.inputs, {"n": int}, entity="e", direction="input") == {"n": 3}
    outputs = private_store.read_values(record.id, record.outputs, {"o0": str}, entity="e", direction="output")
    assert outputs == {"o0": "6:3/1.5,4/2.0,5/2.5,6/3.0"}
    nodes = nodes_by_path(private_store, record.id)
    assert sorted(nodes) == ["n0", "n1", "n2", "n3", "n4", "n5"]
    assert {node.status for node in nodes.values()} == {"succeeded"}
    assert all(node.attempts == 1 and node.finished >= node.started for node in nodes.values())
    assert nodes["n0"].entity == pair.name and nodes["n5"].entity == gather.name


def test_a_failed_node_and_execution_record_the_error(private_store):
    BROKEN.add("gather")
    with pytest.raises(ValueError, match="cannot gather") as raised:
        wide(n=1)
    record = last_execution(private_store)
    assert record.status == "failed" and "ValueError: cannot gather" in record.error
    assert any(f"execution {record.id} is recorded" in note for note in raised.value.__notes__)
    failed = nodes_by_path(private_store, record.id)["n5"]
    assert failed.status == "failed" and failed.error.startswith("ValueError: cannot gather")
    assert failed.outputs_state is None


def test_retries_are_counted_as_attempts(private_store):
    attempts = []

    @task(retries=3)
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise FlyteRecoverableException("not yet")
        return x

    @workflow
    def patient(x: int) -> int:
        return flaky(x=x)

    assert patient(x=7) == 7
    (node,) = private_store.nodes(last_execution(private_store).id)
    assert (node.status, node.attempts) == ("succeeded", 3)


def test_outputs_that_nobody_needs_any_more_are_not_written(private_store, monkeypatch):
    monkeypatch.setattr(recorder, "WRITE_DELAY", 30.0)  # the whole run is one batch
    BROKEN.add("double")
    with pytest.raises(ValueError):
        chain(x=1)  # 1 -> 2 -> 4 -> fails at 4
    record = last_execution(private_store)
    nodes = nodes_by_path(private_store, record.id)
    assert [nodes[path].outputs_state for path in ("n0", "n1")] == [SUPERSEDED, STORED]
    assert nodes["n2"].status == "failed"
    assert sorted(os.listdir(os.path.join(private_store.execution_directory(record.id), "nodes"))) == ["n1.literals"]


def test_recording_is_off_with_TASKLOOM_RECORD_0_or_record_False(private_store, monkeypatch):
    LocalExecutor(record=False).execute(chain, {"x": 1})
    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    assert chain(x=1) == 32
    assert private_store.executions() == []
    assert not os.path.exists(private_store.path)


def test_outputs_that_cannot_be_literals_leave_the_node_unrecorded_and_the_run_unharmed(private_store):
    transformer = OpaqueTransformer()
    TypeEngine.register(transformer)
    try:

        @task
        def make(x: int) -> Opaque:
            LOG.append("make")
            return Opaque(x)

        @task
        def unwrap(o: Opaque) -> int:
            LOG.append("unwrap")
            if "unwrap" in BROKEN:
                raise ValueError("not now")
            return o.value

        @workflow
        def opaque(x: int) -> int:
            return unwrap(o=make(x=x))

        BROKEN.add("unwrap")
        with pytest.raises(ValueError, match="not now"):
            opaque(x=5)
        record = last_execution(private_store)
        made = nodes_by_path(private_store, record.id)["n0"]
        assert (made.status, made.outputs_state, made.outputs) == ("succeeded", UNRECORDED, None)
        assert "an opaque value has no literal" in made.error
        BROKEN.clear()
        LOG.clear()
        assert LocalExecutor().resume(record.id, opaque) == 5
        assert LOG == ["make", "unwrap"]  # not resumable: it ran again
    finally:
        TypeEngine.unregister(transformer)


# --- resuming ---------------------------------------------------------------------------------


def test_a_resume_runs_only_what_had_not_finished_and_gives_the_same_outputs(private_store):
    BROKEN.add("double")
    with pytest.raises(ValueError, match="no doubling 4"):
        chain(x=1)
    assert LOG == ["double1", "double2", "double4"]
    execution_id = last_execution(private_store).id
    BROKEN.clear()
    LOG.clear()
    assert LocalExecutor().resume(execution_id) == 32  # the entity found from its module
    assert LOG == ["double4", "double8", "double16"]
    record = private_store.execution(execution_id)
    assert (record.status, record.resumes) == ("succeeded", 1)
    assert {node.status for node in private_store.nodes(execution_id)} == {"succeeded"}


def test_a_resume_reads_back_the_stored_outputs_of_a_wide_graph(private_store):
    BROKEN.add("gather")
    with pytest.raises(ValueError):
        wide(n=2)
    execution_id = last_execution(private_store).id
    BROKEN.clear()
    LOG.clear()
    assert LocalExecutor().resume(execution_id, wide, {"n": 2}) == "4:2/1.0,3/1.5,4/2.0,5/2.5"
    assert LOG == ["gather"]


def test_missing_or_damaged_outputs_are_run_again(private_store):
    BROKEN.add("gather")
    with pytest.raises(ValueError):
        wide(n=2)
    record = last_execution(private_store)
    nodes = nodes_by_path(private_store, record.id)
    directory = private_store.execution_directory(record.id)
    with open(os.path.join(directory, nodes["n1"].outputs), "r+b") as stream:
        stream.truncate(7)  # what a machine losing power might leave
    os.remove(os.path.join(directory, nodes["n2"].outputs))
    forged = TypeEngine.dict_to_literal_map(None, {"o0": "forged"}, {"o0": str})
    with open(os.path.join(directory, "nodes", ".n5.literals.123-abcd.tmp"), "wb") as stream:
        stream.write(pickle.dumps(forged))
    BROKEN.clear()
    LOG.clear()
    assert LocalExecutor().resume(record.id, wide) == "4:2/1.0,3/1.5,4/2.0,5/2.5"
    assert sorted(LOG) == ["gather", "pair3", "pair4"]  # n1 and n2 again; the temporary file never read


def test_given_inputs_must_match_the_recorded_ones(private_store):
    BROKEN.add("double")
    with pytest.raises(ValueError):
        chain(x=1)
    execution_id = last_execution(private_store).id
    with pytest.raises(ResumeError, match=r"ran with x=1 \(given 3\)"):
        LocalExecutor().resume(execution_id, chain, {"x": 3})
    with pytest.raises(ResumeError, match="has no input 'y'"):
        LocalExecutor().resume(execution_id, chain, {"y": 3})
    BROKEN.clear()
    assert LocalExecutor().resume(execution_id, chain, {"x": 1}) == 32


def test_resuming_an_unknown_execution_or_another_entity_is_a_clear_error(private_store):
    with pytest.raises(ResumeError, match="no execution 'lnope' is recorded in"):
        LocalExecutor().resume("lnope")
    chain(x=1)
    execution_id = last_execution(private_store).id
    with pytest.raises(ResumeError, match=rf"ran the workflow '{chain.name}', not '{wide.name}'"):
        LocalExecutor().resume(execution_id, wide)


def test_a_workflow_whose_graph_changed_is_not_resumed(private_store):
    BROKEN.add("double")
    with pytest.raises(ValueError):
        chain(x=1)
    execution_id = last_execution(private_store).id

    def longer(x: int = 1) -> int:  # one node more: paths now name other calls
        for _ in range(6):
            x = double(x=x)
        return x

    longer.__name__ = "chain"  # the same name as the workflow that ran
    changed = workflow(longer)
    assert changed.name == chain.name
    with pytest.raises(ResumeError, match="changed since execution .* ran"):
        LocalExecutor().resume(execution_id, changed)


def test_a_store_made_before_a_column_was_added_gets_it(private_store):
    import sqlite3

    os.makedirs(private_store.directory)
    with sqlite3.connect(private_store.path) as connection:
        connection.execute(
            "CREATE TABLE executions (id TEXT PRIMARY KEY, entity TEXT NOT NULL, kind TEXT NOT NULL, "
            "module TEXT, file TEXT, status TEXT NOT NULL, started REAL NOT NULL, finished REAL, error TEXT, "
            "inputs TEXT, outputs TEXT, note TEXT, host TEXT, pid INTEGER, resumes INTEGER NOT NULL DEFAULT 0)"
        )
    assert chain(x=1) == 32
    assert last_execution(private_store).graph is not None


def test_resuming_a_succeeded_execution_runs_nothing_and_gives_its_outputs(private_store, capsys):
    assert chain(x=2) == 64
    execution_id = last_execution(private_store).id
    LOG.clear()
    assert LocalExecutor().resume(execution_id, chain) == 64
    assert LOG == []
    assert f"execution {execution_id} already succeeded: nothing to run" in capsys.readouterr().err


def test_a_resume_of_a_single_task_run(private_store):
    BROKEN.add("double")
    with pytest.raises(ValueError):
        LocalExecutor().execute(double, {"x": 4})
    execution_id = last_execution(private_store).id
    BROKEN.clear()
    assert LocalExecutor().resume(execution_id, double) == 8
    assert private_store.execution(execution_id).kind == "task"


def test_a_store_that_cannot_be_written_does_not_break_runs(tmp_path, monkeypatch, capfd):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(blocker / "data"))
    assert chain(x=1) == 32
    recorder.flush_all()
    assert f"cannot record executions ({blocker}: not a directory)" in capfd.readouterr().err


def test_prune_deletes_old_executions_with_their_nodes_and_files(private_store):
    chain(x=1)
    BROKEN.add("double")
    with pytest.raises(ValueError):
        chain(x=1)
    finished = private_store.executions()
    assert len(finished) == 2
    assert private_store.prune(parse_age("1h")) == []
    assert {record.id for record in private_store.prune(parse_age("0s"), dry_run=True)} == {r.id for r in finished}
    assert len(private_store.executions()) == 2
    removed = private_store.prune(parse_age("0s"))
    assert {record.id for record in removed} == {r.id for r in finished}
    assert private_store.executions() == [] and private_store.nodes(finished[0].id) == []
    assert not any(os.path.exists(private_store.execution_directory(r.id)) for r in finished)


def test_ages_are_read_as_seconds_minutes_hours_days_and_weeks():
    assert [parse_age(text).total_seconds() for text in ("45s", "30m", "12h", "7d", "2w")] == [
        45,
        1800,
        43200,
        604800,
        1209600,
    ]
    with pytest.raises(ValueError, match="not an age"):
        parse_age("7 days")
