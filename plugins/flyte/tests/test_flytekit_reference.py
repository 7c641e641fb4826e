"""The flytekit side of the package comparison: flytekit 1.16 packages the example programs, and
``graph_summary`` reads what it wrote, keeps the graph and drops what two SDKs may write differently.

The first test of a session finds (or, on a fresh machine, creates from PyPI) the flytekit virtual
environment; packaging every program with it then takes about a second.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.flyte.tests.flytekit_reference import (
    PROGRAMS,
    graph_summary,
    package_file_name_width,
    package_with_flytekit,
    summary_differences,
    write_programs,
)

WORKFLOWS = {
    "programs.basics.basics_wf",
    "programs.branches.branch_wf",
    "programs.docstrings.documented",
    "programs.dynamics.dynamic_wf",
    "programs.echoes.echo_wf",
    "programs.failure_nodes.clean_up_all",
    "programs.failure_nodes.guarded",
    "programs.failure_nodes.guarded_twice",
    "programs.failure_nodes.hashed",
    "programs.gates.gate_wf",
    "programs.launch_plans.report_wf",
    "programs.mapped.mapped_wf",
    "programs.subworkflows.inner",
    "programs.subworkflows.outer",
    "programs.task_options.options_wf",
    "programs.unions.unions_wf",
}


def map_task_name(
    module: str, function: str, bound: str = "", concurrency=None, min_successes=None, min_success_ratio=1.0
) -> str:
    """flytekit 1.16's name for ``map_task(module.function, ...)``: the md5 of its options, then ``-arraynode``."""
    digest = hashlib.md5(f"{bound}{concurrency}{min_successes}{min_success_ratio}".encode()).hexdigest()
    return f"{module}.map_{function}_{digest}-arraynode"


MAP_SCALE = map_task_name("programs.mapped", "scale", bound="factor", concurrency=2)
MAP_TO_TEXT = map_task_name("programs.mapped", "to_text", min_success_ratio=0.5)


# Every test that asks for this package (itself, or through workflow_files or summary) is marked slow:
# the first of them creates flytekit's virtual environment (from PyPI, about a minute, on a fresh machine).
@pytest.fixture(scope="session")
def flytekit_package(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("flytekit")
    return package_with_flytekit(write_programs(root / "src"), root / "package")


@pytest.fixture(scope="session")
def workflow_files(flytekit_package) -> list[Path]:
    return [path for path in flytekit_package if path.name.endswith("_2.pb")]


@pytest.fixture(scope="session")
def summary(flytekit_package) -> dict:
    return graph_summary(flytekit_package)


def _package_file(package: list[Path], name: str) -> Path:
    (found,) = [path for path in package if re.match(rf"^\d+_{re.escape(name)}\.pb$", path.name)]
    return found


# --- what flytekit writes ----------------------------------------------------------------------


@pytest.mark.slow
def test_flytekit_numbers_package_files_from_zero_with_a_fixed_width(flytekit_package):
    width = package_file_name_width(len(flytekit_package))
    assert [path.name.split("_", 1)[0] for path in flytekit_package] == [
        str(index).zfill(width) for index in range(len(flytekit_package))
    ]
    assert all(re.match(r"^\d+_.+_[123]\.pb$", path.name) for path in flytekit_package)


def test_package_file_name_width_follows_flytekit():
    assert [package_file_name_width(count) for count in (1, 9, 10, 11, 100, 101)] == [0, 1, 1, 2, 2, 3]


@pytest.mark.slow
def test_summary_lists_every_task_workflow_and_launch_plan_of_the_programs(summary):
    assert set(summary["workflows"]) == WORKFLOWS
    assert set(summary["launch_plans"]) == WORKFLOWS | {"launch_plans.nightly", "subworkflows.inner_lp"}
    assert set(summary["tasks"]) == {
        "programs.basics.primitives", "programs.basics.collections", "programs.basics.move", "programs.basics.maybe",
        "programs.basics.split", "programs.basics.side_effect", "programs.branches.square", "programs.branches.double",
        "programs.branches.coin", "programs.docstrings.google", "programs.docstrings.numpy_style",
        "programs.docstrings.rest", "programs.docstrings.plain", "programs.dynamics.add", "programs.dynamics.fan_out", "programs.gates.draft",
        "programs.gates.publish", "programs.launch_plans.report", "programs.mapped.scale", "programs.mapped.to_text",
        MAP_SCALE, MAP_TO_TEXT, "programs.subworkflows.inc", "programs.subworkflows.total",
        "programs.task_options.cached", "programs.task_options.sized", "programs.failure_nodes.create_cluster",
        "programs.failure_nodes.run_job", "programs.failure_nodes.clean_up", "programs.failure_nodes.add",
        "programs.failure_nodes.numbers", "programs.failure_nodes.total",
        "passthrough", "programs.echoes.shorten",
        "programs.unions.containers",
        "programs.unions.records", "programs.unions.nested",
    }  # fmt: skip


@pytest.mark.slow
def test_every_workflow_has_a_default_launch_plan_of_its_own_name_with_its_defaults(summary):
    for name in WORKFLOWS:
        assert summary["launch_plans"][name]["workflow"] == name
    plan = summary["launch_plans"]["programs.mapped.mapped_wf"]
    assert plan["default_inputs"]["factor"] == {
        "type": {"simple": "INTEGER"},
        "default": {"scalar": {"primitive": {"integer": "2"}}},
    }
    assert plan["fixed_inputs"] == {} and plan["schedule"] is None and plan["notifications"] == []


@pytest.mark.slow
def test_named_launch_plan_keeps_fixed_and_default_inputs_schedule_and_notifications(summary):
    plan = summary["launch_plans"]["launch_plans.nightly"]
    assert plan["workflow"] == "programs.launch_plans.report_wf"
    assert plan["fixed_inputs"] == {"region": {"scalar": {"primitive": {"string_value": "us"}}}}
    # A fixed input is no longer a parameter; the kickoff-time input stays required.
    assert plan["default_inputs"] == {
        "day": {"type": {"simple": "DATETIME"}, "required": True},
        "limit": {"type": {"simple": "INTEGER"}, "default": {"scalar": {"primitive": {"integer": "100"}}}},
    }
    assert plan["schedule"] == {"cron_schedule": {"schedule": "0 3 * * *"}, "kickoff_time_input_arg": "day"}
    assert plan["notifications"] == [
        {"phases": ["FAILED", "SUCCEEDED"], "email": {"recipients_email": ["team@example.com"]}}
    ]


@pytest.mark.slow
def test_workflow_summary_keeps_edges_overrides_bindings_and_named_node_ids(summary):
    workflow = summary["workflows"]["programs.basics.basics_wf"]
    nodes = {node["name"]: (node_id, node) for node_id, node in workflow["nodes"].items()}
    split_id, _ = nodes["split"]
    side_effect_id, _ = nodes["side_effect"]
    move_id, move = nodes["move"]
    assert move["upstream"] == [side_effect_id]  # side_effect() >> move(...)
    assert move["inputs"]["dx"] == {"scalar": {"primitive": {"float_value": 1.0}}}  # the task's default, bound
    assert nodes["maybe"][0] == "greet"  # with_overrides(node_name="greet")
    assert nodes["maybe"][1]["metadata"] == {"retries": {"retries": 2}}
    assert nodes["collections"][1]["inputs"]["xs"] == {
        "collection": {
            "bindings": [
                {"promise": {"var": "n"}},
                {"promise": {"node_id": split_id, "var": "o0"}},
                {"scalar": {"primitive": {"integer": "7"}}},
            ]
        }
    }
    assert workflow["outputs"]["o2"] == {"promise": {"node_id": move_id, "var": "o0"}}
    point = workflow["interface"]["inputs"]["p"]
    assert point["simple"] == "STRUCT" and set(point["structure"]["dataclass_type"]) == {"x", "y", "label"}
    default = summary["launch_plans"]["programs.basics.basics_wf"]["default_inputs"]["p"]["default"]
    assert default == {"scalar": {"binary": {"tag": "msgpack", "data": {"x": 1.0, "y": 2.0, "label": ""}}}}


@pytest.mark.slow
def test_branch_conditions_name_their_inputs_after_the_renumbered_nodes(summary):
    workflow = summary["workflows"]["programs.branches.branch_wf"]
    nodes = {node["name"]: (node_id, node) for node_id, node in workflow["nodes"].items()}
    coin_id, _ = nodes["coin"]
    fractions_id, fractions = nodes["fractions"]
    _, flipped = nodes["flipped"]
    assert fractions["kind"] == "branch" and len(fractions["branch_node"]["cases"]) == 2
    second = fractions["branch_node"]["cases"][1]["condition"]["conjunction"]
    assert second["operator"] == "OR" and second["right_expression"]["comparison"]["right_value"] == {
        "primitive": {"float_value": 42.0}
    }
    assert fractions["branch_node"]["error"]["message"] == "the input must be between 0.1 and 10, or 42"
    assert flipped["inputs"] == {f"{coin_id}.o0": {"promise": {"node_id": coin_id, "var": "o0"}}}
    condition = flipped["branch_node"]["cases"][0]["condition"]["comparison"]
    assert condition["left_value"] == {"var": f"{coin_id}.o0"}
    assert flipped["branch_node"]["else"]["inputs"]["n"] == {"promise": {"node_id": fractions_id, "var": "o0"}}


@pytest.mark.slow
def test_map_task_becomes_an_array_node_over_its_own_task(summary):
    workflow = summary["workflows"]["programs.mapped.mapped_wf"]
    arrays = {node["entity"]: node for node in workflow["nodes"].values()}
    scale, to_text = arrays[MAP_SCALE], arrays[MAP_TO_TEXT]
    assert scale["kind"] == to_text["kind"] == "array"
    assert scale["array_node"]["parallelism"] == 2 and scale["array_node"]["bound_inputs"] == ["factor"]
    assert scale["array_node"]["node"]["entity"] == MAP_SCALE
    assert to_text["array_node"]["min_success_ratio"] == 0.5
    assert summary["tasks"][MAP_SCALE]["task_type_version"] == 1
    assert summary["tasks"][MAP_SCALE]["interface"]["inputs"] == {
        "factor": {"simple": "INTEGER"},
        "x": {"collection_type": {"simple": "INTEGER"}},
    }
    # Below a success ratio of 1, a failed element yields None.
    assert workflow["interface"]["outputs"]["o0"]["collection_type"]["union_type"]["variants"][1]["simple"] == "NONE"


@pytest.mark.slow
def test_task_options_reach_task_metadata_and_resources(summary):
    cached = summary["tasks"]["programs.task_options.cached"]["metadata"]
    assert cached == {
        "discoverable": True,
        "discovery_version": "1.0",
        "retries": {"retries": 3},
        "timeout": "600s",
        "interruptible": True,
        "generates_deck": False,
    }
    sized = summary["tasks"]["programs.task_options.sized"]["container"]
    assert sized == {
        "resources": {
            "requests": [{"name": "CPU", "value": "1"}, {"name": "MEMORY", "value": "512Mi"}],
            "limits": [{"name": "CPU", "value": "2"}, {"name": "MEMORY", "value": "1Gi"}],
        }
    }
    nodes = summary["workflows"]["programs.task_options.options_wf"]["nodes"].values()
    assert {node["name"]: node.get("metadata") for node in nodes}["sized"] == {"retries": {"retries": 5}}


@pytest.mark.slow
def test_gates_keep_their_kind_signal_and_timeout(summary):
    nodes = {node["name"]: node for node in summary["workflows"]["programs.gates.gate_wf"]["nodes"].values()}
    assert nodes["sleep-gate"]["gate_node"] == {"sleep": {"duration": "30s"}}
    assert nodes["title"]["gate_node"]["signal"] == {
        "signal_id": "title",
        "type": {"simple": "STRING"},
        "output_variable_name": "o0",
    }
    assert nodes["title"]["metadata"] == {"timeout": "3600s"}
    assert nodes["review"]["gate_node"] == {"approve": {"signal_id": "review"}}
    assert all(node["kind"] == "gate" for name, node in nodes.items() if name not in ("draft", "publish"))


@pytest.mark.slow
def test_subworkflow_and_launch_plan_nodes_name_what_they_run(summary):
    workflow = summary["workflows"]["programs.subworkflows.outer"]
    references = {
        (node["reference"], node["entity"]) for node in workflow["nodes"].values() if node["kind"] == "workflow"
    }
    assert references == {("sub_workflow", "programs.subworkflows.inner"), ("launchplan", "subworkflows.inner_lp")}
    standalone = summary["workflows"]["programs.subworkflows.inner"]
    assert workflow["subworkflows"] == {
        "programs.subworkflows.inner": {k: v for k, v in standalone.items() if k != "subworkflows"}
    }


@pytest.mark.slow
def test_dynamic_task_is_a_plain_task_node_in_the_package(summary):
    (node,) = summary["workflows"]["programs.dynamics.dynamic_wf"]["nodes"].values()
    assert (node["kind"], node["entity"]) == ("task", "programs.dynamics.fan_out")
    assert summary["tasks"]["programs.dynamics.fan_out"]["type"] == "python-task"


# --- normalisation -------------------------------------------------------------------------------


def _load(path: Path):
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

    message = {"1": task_pb2.TaskSpec, "2": workflow_pb2.WorkflowSpec, "3": launch_plan_pb2.LaunchPlan}[path.name[-4]]()
    message.ParseFromString(path.read_bytes())
    return message


def _write(directory: Path, name: str, message) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(message.SerializeToString())
    return path


def _renamed_workflow(spec, rename: dict[str, str], order: list[int], inner_prefix: str):
    """``spec`` with its nodes' ids renamed and reordered, and every reference to them rewritten."""
    from flyteidl.admin import workflow_pb2
    from google.protobuf import json_format

    data = json_format.MessageToDict(spec, preserving_proto_field_name=True)
    counter = iter(range(10**6))

    def walk(value, top_level: bool):
        if isinstance(value, list):
            return [walk(item, False) for item in value]
        if not isinstance(value, dict):
            return value
        result = {}
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                result[key] = rename.get(item, item) if top_level else f"{inner_prefix}{next(counter)}"
            elif key == "node_id":
                result[key] = rename.get(item, item)
            elif key == "upstream_node_ids":
                result[key] = [rename.get(node_id, node_id) for node_id in item]
            elif key == "var" and "." in item and item.split(".", 1)[0] in rename:
                head, rest = item.split(".", 1)
                result[key] = f"{rename[head]}.{rest}"
            else:
                result[key] = walk(item, False)
        return result

    template = data["template"]
    nodes = [walk(node, True) for node in template.get("nodes", [])]
    template["nodes"] = [nodes[index] for index in order]
    template["outputs"] = walk(template.get("outputs", []), False)
    return json_format.ParseDict(data, workflow_pb2.WorkflowSpec())


@pytest.mark.slow
# tmp_path is shared by the examples on purpose: each example writes into a directory of its own in it.
@settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_summary_is_the_same_whatever_the_generated_node_ids_and_node_order(workflow_files, tmp_path, data):
    path = data.draw(st.sampled_from(workflow_files), label="workflow")
    spec = _load(path)
    generated = [node.id for node in spec.template.nodes if re.match(r"^n\d+$", node.id)]
    renumbered = data.draw(st.permutations(generated), label="ids")
    order = data.draw(st.permutations(range(len(spec.template.nodes))), label="order")
    changed = _renamed_workflow(spec, dict(zip(generated, renumbered)), list(order), inner_prefix="n")
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    assert graph_summary([_write(directory, path.name, changed)]) == graph_summary([path])


@pytest.mark.slow
def test_summary_without_named_ids_ignores_every_node_id(flytekit_package, tmp_path):
    path = _package_file(flytekit_package, "programs.basics.basics_wf_2")
    spec = _load(path)
    rename = {node.id: f"node-{index}" for index, node in enumerate(reversed(spec.template.nodes))}
    changed = _write(
        tmp_path, path.name, _renamed_workflow(spec, rename, list(range(len(rename))), inner_prefix="inner-")
    )
    assert graph_summary([changed], keep_named_ids=False) == graph_summary([path], keep_named_ids=False)
    # By default an id the user chose is part of the graph: renaming "greet" is a difference.
    differences = summary_differences(graph_summary([path]), graph_summary([changed]))
    assert any("/nodes/greet:" in line for line in differences)


@pytest.mark.slow
def test_summary_drops_images_arguments_versions_runtimes_and_descriptions(flytekit_package, tmp_path):
    task_path = _package_file(flytekit_package, "programs.dynamics.fan_out_1")
    plan_path = _package_file(flytekit_package, "launch_plans.nightly_3")
    task, plan = _load(task_path), _load(plan_path)
    task.template.id.project, task.template.id.domain, task.template.id.version = "p", "d", "v42"
    task.template.container.image = "registry.example.com/other:2"
    task.template.container.args[:] = ["loom-execute", "--inputs", "{{.input}}"]
    task.template.container.env.add(key="TASKLOOM", value="1")
    task.template.metadata.runtime.flavor, task.template.metadata.runtime.version = "taskloom", "0.1.0"
    task.template.interface.inputs.variables["n"].description = "how many"
    task.description.short_description = "Fan out."
    plan.id.version = plan.spec.workflow_id.version = "v42"
    plan.spec.workflow_id.project = "elsewhere"
    plan.closure.state = 1
    changed = [_write(tmp_path, task_path.name, task), _write(tmp_path, plan_path.name, plan)]
    assert graph_summary(changed) == graph_summary([task_path, plan_path])


@pytest.mark.slow
def test_summary_differences_name_a_changed_edge_and_a_changed_literal_type(flytekit_package, tmp_path):
    path = _package_file(flytekit_package, "programs.task_options.options_wf_2")
    spec = _load(path)
    del spec.template.nodes[1].upstream_node_ids[:]
    spec.template.interface.inputs.variables["x"].type.simple = 3  # STRING instead of INTEGER
    differences = summary_differences(graph_summary([path]), graph_summary([_write(tmp_path, path.name, spec)]))
    name = "programs.task_options.options_wf"
    assert f'workflows/{name}/interface/inputs/x/simple: expected "INTEGER", got "STRING"' in differences
    assert any(line.startswith(f"workflows/{name}/nodes/") and "/upstream: expected [" in line for line in differences)


def test_graph_summary_rejects_a_file_name_that_is_not_a_package_file(tmp_path):
    path = tmp_path / "workflow.pb"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="workflow.pb: not the name of a package file"):
        graph_summary([path])


@pytest.mark.slow
def test_summary_is_json_serialisable(summary):
    assert json.loads(json.dumps(summary)) == summary


# --- the programs under taskloom -----------------------------------------------------------------


def test_taskloom_copy_of_the_programs_differs_only_in_its_imports(tmp_path):
    flytekit_dir = write_programs(tmp_path / "flytekit") / "programs"
    taskloom_dir = write_programs(tmp_path / "taskloom", sdk="taskloom") / "programs"
    for source in sorted(PROGRAMS.glob("*.py")):
        flytekit_text, taskloom_text = (
            directory.joinpath(source.name).read_text() for directory in (flytekit_dir, taskloom_dir)
        )
        flytekit_lines, taskloom_lines = flytekit_text.splitlines(), taskloom_text.splitlines()
        changed = [(before, after) for before, after in zip(flytekit_lines, taskloom_lines) if before != after]
        assert len(flytekit_lines) == len(taskloom_lines)
        # `from flytekit import X` and `from flytekit.types.error import X` alike.
        assert all(after == before.replace("from flytekit", "from taskloom", 1) for before, after in changed)
        assert not any(re.match(r"\s*(from|import)\s+flytekit\b", line) for line in taskloom_lines)


def test_taskloom_imports_every_program(tmp_path):
    program_dir = write_programs(tmp_path, sdk="taskloom")
    modules = sorted(path.stem for path in PROGRAMS.glob("*.py") if path.stem != "__init__")
    code = "import importlib\n" + "".join(f"importlib.import_module('programs.{module}')\n" for module in modules)
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=program_dir, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
