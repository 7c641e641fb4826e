"""Node kinds defined outside the kernel (``node_kinds.py``, a third party's module) package with
``loom package``, and their protobufs decode with flyteidl and round-trip through the codec to the
contracts the translator makes: the kernel names no kind of node."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from flyteidl.admin import task_pb2, workflow_pb2

from taskloom import SerializationSettings
from taskloom.models.workflow import GateNode, NodeMetadata, SleepCondition
from taskloom.translator import Translator
from taskloom_flyte.codec import from_proto, to_proto

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[3]

LIB = """
from taskloom import task


@task
def double(x: int) -> int:
    return 2 * x
"""

FLOWS = """
import datetime

from taskloom import task, workflow

from patient.lib import double
from plugins.flyte.tests.node_kinds import pause, spot


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def patient(x: int) -> int:
    first = spot(double, retries=4)(x=x)
    waited = pause(datetime.timedelta(minutes=5))
    summed = total(xs=[first, x])
    waited >> summed
    return summed
"""


@pytest.fixture
def program(tmp_path):
    package = tmp_path / "patient"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "lib.py").write_text(textwrap.dedent(LIB))
    (package / "flows.py").write_text(textwrap.dedent(FLOWS))
    yield tmp_path
    for name in [name for name in sys.modules if name == "patient" or name.startswith("patient.")]:
        del sys.modules[name]  # the next test's program is another one of the same name


@pytest.fixture
def packaged(program):
    archive = program / "pkg.tgz"
    completed = subprocess.run(
        [str(BIN / "loom"), "package", "patient/flows.py", "-p", "proj", "-d", "dev", "--version", "v1"]
        + ["-o", str(archive)],
        capture_output=True,
        text=True,
        cwd=program,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # where the third party's node kinds are installed
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    with tarfile.open(archive) as opened:
        return {member.name: opened.extractfile(member).read() for member in opened.getmembers()}


def test_the_task_a_node_kind_points_at_is_registered_before_the_workflow(packaged):
    # patient.lib is not packaged itself: its task is there because the spot node refers to it.
    assert sorted(packaged) == [
        "0_patient.flows.total_1.pb",
        "1_patient.lib.double_1.pb",
        "2_patient.flows.patient_2.pb",
        "3_patient.flows.patient_3.pb",
    ]
    double = task_pb2.TaskSpec.FromString(packaged["1_patient.lib.double_1.pb"]).template
    assert double.id.name == "patient.lib.double" and double.container.args[0] == "loom-execute"


def test_the_nodes_decode_with_flyteidl_as_their_kinds_describe_them(packaged):
    spec = workflow_pb2.WorkflowSpec.FromString(packaged["2_patient.flows.patient_2.pb"])
    spot_node, pause_node, total_node = spec.template.nodes
    assert spot_node.task_node.reference_id.name == "patient.lib.double"
    assert spot_node.task_node.reference_id.version == "v1"
    assert spot_node.metadata.retries.retries == 4 and spot_node.metadata.interruptible
    assert pause_node.gate_node.sleep.duration.seconds == 300 and pause_node.metadata.name == "pause"
    assert sorted(total_node.upstream_node_ids) == [spot_node.id, pause_node.id]


def test_the_templates_round_trip_through_the_codec_to_the_contracts_the_translator_makes(
    packaged, program, monkeypatch
):
    spec = workflow_pb2.WorkflowSpec.FromString(packaged["2_patient.flows.patient_2.pb"])
    decoded = from_proto(spec.template)
    assert from_proto(to_proto(decoded)) == decoded
    assert to_proto(decoded).SerializeToString(deterministic=True) == spec.template.SerializeToString(
        deterministic=True
    )
    monkeypatch.syspath_prepend(str(program))
    monkeypatch.syspath_prepend(str(ROOT))
    flows = importlib.import_module("patient.flows")
    made = Translator(SerializationSettings(project="proj", domain="dev", version="v1")).workflow_template(
        flows.patient
    )
    assert decoded == made
    pause_node = decoded.nodes[1]
    assert pause_node.gate_node == GateNode(sleep=SleepCondition(duration=dt.timedelta(minutes=5)))
    assert pause_node.metadata == NodeMetadata(name="pause")
