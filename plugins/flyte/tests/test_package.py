"""loom serialize / loom package: the files pyflyte writes, parsed back with flyteidl."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

BIN = Path(sys.executable).parent

PROGRAM = '''
from taskloom import CronSchedule, Email, LaunchPlan, WorkflowExecutionPhase, conditional, map_task, reference_task, task, workflow


@task(retries=3, cache=True, cache_version="2")
def double(x: int) -> int:
    return 2 * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@reference_task(project="shared", domain="production", name="shared.describe", version="v7")
def describe(n: int) -> str: ...


@workflow
def inner(xs: list[int]) -> int:
    return total(xs=map_task(double)(x=xs))


@workflow
def outer(xs: list[int], limit: int = 10) -> str:
    result = inner(xs=xs)
    small = conditional("size").if_(result < limit).then(double(x=result)).else_().then(total(xs=[result, limit]))
    return describe(n=small)


nightly = LaunchPlan.get_or_create(
    outer,
    name="outer_nightly",
    fixed_inputs={"limit": 5},
    schedule=CronSchedule(schedule="0 1 * * *"),
    notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"])],
)
'''


def write_program(root: Path, text: str = PROGRAM) -> Path:
    package = root / "pipeline"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "flows.py").write_text(textwrap.dedent(text))
    return package


def loom(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "loom"), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def parse(directory: Path) -> dict[str, object]:
    parsed = {}
    for path in sorted(directory.iterdir()):
        if path.name.endswith("_1.pb"):
            message = task_pb2.TaskSpec()
        elif path.name.endswith("_2.pb"):
            message = workflow_pb2.WorkflowSpec()
        elif path.name.endswith("_3.pb"):
            message = launch_plan_pb2.LaunchPlan()
        else:
            continue
        message.ParseFromString(path.read_bytes())
        parsed[path.name] = message
    return parsed


@pytest.fixture(scope="module")
def serialized(tmp_path_factory):
    root = tmp_path_factory.mktemp("src")
    write_program(root)
    output = tmp_path_factory.mktemp("out")
    completed = loom("serialize", "pipeline", "-i", "default=example/pipeline:3", "-p", "proj", "-d", "dev", "-o", str(output), cwd=root)
    assert completed.returncode == 0, completed.stderr
    return root, output, parse(output)


def test_files_are_numbered_in_registration_order_with_pyflyte_suffixes(serialized):
    _, output, parsed = serialized
    names = sorted(parsed)
    assert [int(name.split("_", 1)[0]) for name in names] == list(range(len(names)))
    kinds = {name: name.rsplit("_", 1)[1] for name in names}
    # An entity comes after everything it uses.
    position = {name.split("_", 1)[1].rsplit("_", 1)[0]: index for index, name in enumerate(names)}
    assert position["pipeline.flows.double"] < position["pipeline.flows.inner"] < position["pipeline.flows.outer"]
    assert position["pipeline.flows.outer"] < position["outer_nightly"]
    assert set(kinds.values()) == {"1.pb", "2.pb", "3.pb"}


def test_every_workflow_has_its_default_launch_plan_and_named_plans_keep_their_settings(serialized):
    _, _, parsed = serialized
    plans = {message.id.name: message for message in parsed.values() if isinstance(message, launch_plan_pb2.LaunchPlan)}
    assert set(plans) == {"pipeline.flows.inner", "pipeline.flows.outer", "outer_nightly"}
    nightly = plans["outer_nightly"]
    assert nightly.spec.workflow_id.name == "pipeline.flows.outer"
    assert nightly.spec.entity_metadata.schedule.cron_schedule.schedule == "0 1 * * *"
    assert list(nightly.spec.entity_metadata.notifications[0].email.recipients_email) == ["ops@example.com"]
    assert nightly.spec.fixed_inputs.literals["limit"].scalar.primitive.integer == 5
    default = plans["pipeline.flows.outer"]
    assert default.spec.default_inputs.parameters["limit"].default.scalar.primitive.integer == 10
    assert default.spec.default_inputs.parameters["xs"].required
    assert set(default.closure.expected_outputs.variables) == {"o0"}


def test_tasks_carry_image_metadata_and_the_command_line(serialized):
    _, _, parsed = serialized
    tasks = {message.template.id.name: message.template for message in parsed.values() if isinstance(message, task_pb2.TaskSpec)}
    double = tasks["pipeline.flows.double"]
    assert double.id.project == "proj" and double.id.domain == "dev" and double.id.version
    assert double.container.image == "example/pipeline:3"
    assert double.metadata.retries.retries == 3
    assert double.metadata.discoverable and double.metadata.discovery_version == "2"
    assert double.container.args[0] == "loom-execute"
    assert "shared.describe" not in tasks  # a reference ships no template
    assert any(template.container.args[0] == "loom-map-execute" for template in tasks.values())


def test_every_reference_in_the_graph_resolves_inside_the_package_or_is_a_declared_reference(serialized):
    _, _, parsed = serialized
    tasks = {message.template.id.name for message in parsed.values() if isinstance(message, task_pb2.TaskSpec)}
    plans = {message.id.name for message in parsed.values() if isinstance(message, launch_plan_pb2.LaunchPlan)}
    workflows = [message for message in parsed.values() if isinstance(message, workflow_pb2.WorkflowSpec)]
    outer = next(spec for spec in workflows if spec.template.id.name == "pipeline.flows.outer")
    assert [sub.id.name for sub in outer.sub_workflows] == ["pipeline.flows.inner"]

    def nodes(template_nodes):
        for node in template_nodes:
            yield node
            if node.HasField("branch_node"):
                block = node.branch_node.if_else
                yield from nodes([block.case.then_node, *[case.then_node for case in block.other], block.else_node])
            if node.HasField("array_node"):
                yield from nodes([node.array_node.node])

    seen = []
    for spec in workflows:
        for node in nodes([*spec.template.nodes, *[n for sub in spec.sub_workflows for n in sub.nodes]]):
            if node.HasField("task_node"):
                reference = node.task_node.reference_id
                seen.append(reference.name)
                if reference.name == "shared.describe":
                    assert (reference.project, reference.domain, reference.version) == ("shared", "production", "v7")
                else:
                    assert reference.name in tasks and reference.project == "proj"
            elif node.HasField("workflow_node") and node.workflow_node.HasField("launchplan_ref"):
                assert node.workflow_node.launchplan_ref.name in plans
    assert {"pipeline.flows.double", "pipeline.flows.total", "shared.describe"} <= set(seen)


def test_the_version_is_a_stable_digest_that_follows_the_code_and_settings(tmp_path):
    write_program(tmp_path)
    from taskloom.configuration import SerializationSettings
    from taskloom_flyte.package import code_digest, load_program

    program = load_program(str(tmp_path / "pipeline"))
    settings = SerializationSettings(project="p", domain="d", default_image="i:1")
    first = code_digest(program, settings)
    assert first == code_digest(program, settings)
    assert first != code_digest(program, SerializationSettings(project="p", domain="d", default_image="i:2"))
    (tmp_path / "pipeline" / "flows.py").write_text(PROGRAM + "\n# changed\n")
    assert first != code_digest(program, settings)


def test_an_explicit_version_wins_and_a_clean_git_tree_gives_its_commit(tmp_path):
    write_program(tmp_path)
    out = tmp_path / "out"
    completed = loom("serialize", "pipeline", "--version", "release-9", "-o", str(out), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert all(
        getattr(message, "template", message).id.version == "release-9"
        for message in parse(out).values()
        if not isinstance(message, launch_plan_pb2.LaunchPlan)
    )
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("out*/\n__pycache__/\n")
    subprocess.run([*git, "add", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / "out2"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert f"version {head}" in completed.stdout
    (tmp_path / "pipeline" / "flows.py").write_text(PROGRAM + "\n# uncommitted\n")
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / "out3"), cwd=tmp_path)
    assert head not in completed.stdout


@pytest.mark.parametrize("with_git", [True, False])
def test_the_fast_tarball_honours_gitignore(tmp_path, with_git):
    write_program(tmp_path)
    (tmp_path / ".gitignore").write_text("*.log\nsecrets/\n!keep.log\n")
    (tmp_path / "debug.log").write_text("noise")
    (tmp_path / "keep.log").write_text("kept")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key").write_text("hidden")
    (tmp_path / "data.csv").write_text("1,2")
    if with_git:
        subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    completed = loom("package", "pipeline", "--fast", "-o", str(tmp_path / "pkg.tgz"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    with tarfile.open(tmp_path / "pkg.tgz") as archive:
        fast = next(member for member in archive.getmembers() if member.name.startswith("fast"))
        code = tarfile.open(fileobj=archive.extractfile(fast))
        names = set(code.getnames())
    assert {"pipeline/flows.py", "pipeline/__init__.py", "data.csv", "keep.log", ".gitignore"} <= names
    assert not {"debug.log", "secrets/key"} & names


def test_fast_registration_puts_the_fast_entrypoint_in_front(tmp_path):
    write_program(tmp_path)
    completed = loom("serialize", "pipeline", "--fast", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    template = next(m.template for m in parse(tmp_path / "out").values() if isinstance(m, task_pb2.TaskSpec))
    args = list(template.container.args)
    assert args[:2] == ["loom-fast-execute", "--additional-distribution"]
    assert args[2] == "{{ .remote_package_path }}"
    assert args[args.index("--") + 1] in ("loom-execute", "loom-map-execute")
    assert any(path.name.startswith("fast") for path in (tmp_path / "out").iterdir())


def test_package_holds_the_same_files_as_serialize(tmp_path):
    write_program(tmp_path)
    assert loom("serialize", "pipeline", "--version", "1", "-o", str(tmp_path / "out"), cwd=tmp_path).returncode == 0
    completed = loom("package", "pipeline", "--version", "1", "-o", str(tmp_path / "p.tgz"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    with tarfile.open(tmp_path / "p.tgz") as archive:
        packaged = {member.name: archive.extractfile(member).read() for member in archive.getmembers()}
    assert packaged == {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()}
    again = loom("package", "pipeline", "-o", str(tmp_path / "p.tgz"), cwd=tmp_path)
    assert again.returncode != 0 and "--force" in again.stderr


def test_a_task_a_container_cannot_import_is_a_clear_error(tmp_path):
    write_program(tmp_path, '''
from taskloom import task, workflow

def make():
    @task
    def hidden(x: int) -> int:
        return x
    return hidden

hidden = make()
renamed = hidden
del hidden

@workflow
def wf(x: int) -> int:
    return renamed(x=x)
''')
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / "out"), cwd=tmp_path)
    # bound at module level under another name: found by identity, so it packages
    assert completed.returncode == 0, completed.stderr
    write_program(tmp_path, '''
from taskloom import task, workflow

def make():
    @task
    def hidden(x: int) -> int:
        return x
    return hidden

@workflow
def wf(x: int) -> int:
    return make()(x=x)
''')
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / "out2"), cwd=tmp_path)
    assert completed.returncode != 0
    assert "not bound to a name at the top level" in completed.stderr and "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [("nowhere", "cannot import 'nowhere'"), ("empty", "defines no task, workflow or launch plan")],
)
def test_bad_targets_are_clear_errors(tmp_path, target, message):
    (tmp_path / "empty.py").write_text("x = 1\n")
    completed = loom("serialize", target, "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert completed.returncode != 0 and message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_fast_package_registers_with_its_code_uploaded_and_its_commands_filled(tmp_path):
    """loom package → loom register against the test's own AdminService (no Flyte admin runs here)."""
    from plugins.flyte.tests.admin_server import AdminServer
    from taskloom_flyte.register import register_package

    # Without the reference task: this admin holds nothing registered before, and says NOT_FOUND for it.
    write_program(tmp_path, PROGRAM.replace("def outer(xs: list[int], limit: int = 10) -> str:", "def outer(xs: list[int], limit: int = 10) -> int:").replace("    return describe(n=small)", "    return small"))
    completed = loom("package", "pipeline", "--fast", "-p", "proj", "-d", "dev", "-o", str(tmp_path / "pkg.tgz"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    uploads = tmp_path / "uploads"
    with AdminServer() as server:
        register_package(
            str(tmp_path / "pkg.tgz"), endpoint=server.address, project="proj", domain="dev", insecure=True,
            source_upload_path=str(uploads), echo=lambda line: None,
        )
        calls = list(server.calls)
    methods = [call.method for call in calls]
    assert methods.index("CreateWorkflow") > max(i for i, m in enumerate(methods) if m == "CreateTask")
    assert methods.index("CreateLaunchPlan") > max(i for i, m in enumerate(methods) if m == "CreateWorkflow")
    assert "UpdateLaunchPlan" in methods  # the scheduled plan is activated
    tarballs = list(uploads.rglob("fast*.tar.gz"))
    assert len(tarballs) == 1
    task_requests = [call.request for call in calls if call.method == "CreateTask"]
    for request in task_requests:
        args = list(request.spec.template.container.args)
        assert args[0] == "loom-fast-execute"
        assert args[2].endswith(tarballs[0].name) and "{{" not in " ".join(args[:5])


def test_named_images_fill_the_placeholders_of_container_image(tmp_path):
    write_program(tmp_path, '''
from taskloom import task, workflow


@task(container_image="{{.image.trainer.fqn}}:{{.image.trainer.version}}")
def fit(x: int) -> int:
    return x


@task
def plain(x: int) -> int:
    return x


@workflow
def wf(x: int) -> int:
    return plain(x=fit(x=x))
''')
    completed = loom("serialize", "pipeline", "--image", "ghcr.io/acme/base:1", "--image", "trainer=reg:5000/acme/trainer:3.1",
                     "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    templates = {m.template.id.name: m.template for m in parse(tmp_path / "out").values() if isinstance(m, task_pb2.TaskSpec)}
    assert templates["pipeline.flows.fit"].container.image == "reg:5000/acme/trainer:3.1"
    assert templates["pipeline.flows.plain"].container.image == "ghcr.io/acme/base:1"
    env = {item.key: item.value for item in templates["pipeline.flows.fit"].container.env}
    assert env["TASKLOOM_IMAGES"] == '{"trainer": "reg:5000/acme/trainer:3.1"}'  # for a dynamic task's children
    missing = loom("serialize", "pipeline", "-o", str(tmp_path / "out2"), cwd=tmp_path)
    assert missing.returncode != 0
    assert "'trainer'" in missing.stderr and "--image trainer=IMAGE" in missing.stderr and "Traceback" not in missing.stderr


def test_a_pod_template_task_gets_the_command_line_in_its_primary_container(tmp_path):
    write_program(tmp_path, '''
from taskloom import task


@task(pod_template={"containers": [{"name": "primary", "securityContext": {"runAsUser": 1000}}]})
def podded(x: int) -> int:
    return x
''')
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    (template,) = [m.template for m in parse(tmp_path / "out").values() if isinstance(m, task_pb2.TaskSpec)]
    assert not template.HasField("container")
    from google.protobuf.json_format import MessageToDict

    containers = MessageToDict(template.k8s_pod.pod_spec)["containers"]
    primary = next(c for c in containers if c["name"] == template.k8s_pod.primary_container_name)
    assert primary["args"][0] == "loom-execute"
    assert primary["args"][-4:] == ["task-module", "pipeline.flows", "task-name", "podded"]
    assert primary["securityContext"] == {"runAsUser": 1000.0}
