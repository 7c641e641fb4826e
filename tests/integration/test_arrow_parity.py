"""Tables on the wire: what taskloom-arrow writes is what flytekit 1.16 writes, and each reads the other's data.

The program ``table_programs/tables.py`` is packaged by ``pyflyte package`` and by ``loom serialize`` and
the packages compared as ``plugins/flyte/tests/test_flytekit_parity.py`` compares its programs (literal types
with columns and formats included); then a table literal written by flytekit (its encoder, its layout) is
read by taskloom, and one written by taskloom is read by flytekit.
"""

import json
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Annotated

import pandas as pd
import pytest

from plugins.flyte.tests.flytekit_reference import (
    flytekit_python,
    graph_summary,
    package_with_flytekit,
    serialize_with_taskloom,
    summary_differences,
    write_programs,
)

# flytekit runs in its own virtual environment (created from PyPI on a fresh machine): slow.
pytestmark = pytest.mark.slow

TABLE_PROGRAMS = Path(__file__).resolve().parent / "table_programs"


def test_the_packages_of_a_program_with_tables_are_the_same(tmp_path):
    flytekit_files = package_with_flytekit(
        write_programs(tmp_path / "flytekit", sources=TABLE_PROGRAMS), tmp_path / "flytekit-out"
    )
    source = write_programs(tmp_path / "taskloom", sdk="taskloom", sources=TABLE_PROGRAMS)
    taskloom_files = serialize_with_taskloom(source, tmp_path / "taskloom-out")
    assert [path.name for path in taskloom_files] == [path.name for path in flytekit_files]
    summary = graph_summary(taskloom_files)
    differences = summary_differences(graph_summary(flytekit_files), summary)
    assert not differences, "\n".join(differences[:60])
    assert "structured_dataset_type" in json.dumps(summary)  # the tables' literal types were compared


FLYTEKIT_SIDE = """
import sys
import pandas as pd
from flytekit import FlyteContextManager, StructuredDataset, kwtypes
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import Literal
from flyteidl.core import literals_pb2
from typing_extensions import Annotated

action, path, raw = sys.argv[1:4]
ctx = FlyteContextManager.current_context()
if action == "write":
    with FlyteContextManager.with_context(ctx.with_file_access(ctx.file_access.__class__(
        local_sandbox_dir=raw + "-sandbox", raw_output_prefix=raw))) as ctx:
        frame = pd.DataFrame({"name": ["a", "b", "c"], "age": [1, 2, 3]})
        declared = Annotated[StructuredDataset, kwtypes(name=str, age=int)]
        literal = TypeEngine.to_literal(ctx, StructuredDataset(dataframe=frame), declared, TypeEngine.to_literal_type(declared))
        open(path, "wb").write(literal.to_flyte_idl().SerializeToString())
        bare = TypeEngine.to_literal(ctx, frame, pd.DataFrame, TypeEngine.to_literal_type(pd.DataFrame))
        open(path + ".bare", "wb").write(bare.to_flyte_idl().SerializeToString())
else:
    message = literals_pb2.Literal()
    message.ParseFromString(open(path, "rb").read())
    literal = Literal.from_flyte_idl(message)
    frame = TypeEngine.to_python_value(ctx, literal, Annotated[pd.DataFrame, kwtypes(age=int)])
    print(list(frame.columns), int(frame["age"].sum()), len(frame), frame["age"].is_monotonic_increasing)
"""


def _flytekit(tmp_path: Path, *arguments: str) -> str:
    script = tmp_path / "flytekit_side.py"
    script.write_text(textwrap.dedent(FLYTEKIT_SIDE))
    done = subprocess.run(
        [str(flytekit_python()), str(script), *arguments], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_flytekit_and_taskloom_read_each_others_table_literals(tmp_path, monkeypatch):
    from typing import Annotated

    from flyteidl.core import literals_pb2

    from taskloom import StructuredDataset, TypeEngine, kwtypes
    from taskloom_flyte import codec

    # flytekit writes; taskloom reads the literal and the Parquet behind it, keeping only the declared column.
    _flytekit(tmp_path, "write", str(tmp_path / "flytekit.pb"), str(tmp_path / "flytekit-raw"))
    message = literals_pb2.Literal()
    message.ParseFromString((tmp_path / "flytekit.pb").read_bytes())
    literal = codec.from_proto(message)
    frame = TypeEngine.to_python_value(None, literal, Annotated[pd.DataFrame, kwtypes(age=int)])
    assert list(frame.columns) == ["age"] and frame["age"].sum() == 6

    # taskloom writes (the same declaration); flytekit reads it.
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path / "taskloom-raw"))
    declared = Annotated[StructuredDataset, kwtypes(name=str, age=int)]
    written = TypeEngine.to_literal(
        None, StructuredDataset(dataframe=pd.DataFrame({"name": ["x", "y"], "age": [10, 20]})), declared
    )
    encoded = codec.to_proto(written)
    (tmp_path / "taskloom.pb").write_bytes(encoded.SerializeToString())
    assert _flytekit(tmp_path, "read", str(tmp_path / "taskloom.pb"), "").split("\n")[0] == "['age'] 30 2 True"
    # Both wrote the same literal but for the URI: the declared columns and the format.
    flytekit_type = message.scalar.structured_dataset.metadata.structured_dataset_type
    assert encoded.scalar.structured_dataset.metadata.structured_dataset_type == flytekit_type
    # And for a table annotated directly (no columns declared): the same literal, but for the URI.
    bare = literals_pb2.Literal()
    bare.ParseFromString((tmp_path / "flytekit.pb.bare").read_bytes())
    ours = codec.to_proto(TypeEngine.to_literal(None, pd.DataFrame({"name": ["x"], "age": [1]}), pd.DataFrame))
    bare.scalar.structured_dataset.uri = ours.scalar.structured_dataset.uri = ""
    assert ours == bare
    shutil.rmtree(tmp_path / "flytekit-raw", ignore_errors=True)


def test_flytekit_reads_a_large_table_taskloom_wrote_in_parts_in_row_order(tmp_path, monkeypatch):
    import os

    import numpy as np

    from taskloom import StructuredDataset, TypeEngine, kwtypes
    from taskloom_flyte import codec

    monkeypatch.setattr(os, "cpu_count", lambda: 3)  # three parts whatever this machine's cores
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path / "taskloom-raw"))
    rows = 2_000_000  # 32 MB: one part a core
    frame = pd.DataFrame({"age": np.arange(rows), "x": np.arange(rows) * 0.5})
    declared = Annotated[StructuredDataset, kwtypes(age=int, x=float)]
    written = TypeEngine.to_literal(None, StructuredDataset(dataframe=frame), declared)
    assert sorted(os.listdir(written.scalar.structured_dataset.uri)) == ["00000", "00001", "00002"]
    (tmp_path / "parts.pb").write_bytes(codec.to_proto(written).SerializeToString())
    total = int(frame["age"].sum())
    assert _flytekit(tmp_path, "read", str(tmp_path / "parts.pb"), "").split("\n")[0] == f"['age'] {total} {rows} True"
