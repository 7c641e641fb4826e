"""loom serialize / loom package: the files pyflyte writes, parsed back with flyteidl."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

BIN = Path(sys.executable).parent

PROGRAM = """
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
"""


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
    completed = loom(
        "serialize",
        "pipeline",
        "-i",
        "default=example/pipeline:3",
        "-p",
        "proj",
        "-d",
        "dev",
        "-o",
        str(output),
        cwd=root,
    )
    assert completed.returncode == 0, completed.stderr
    return root, output, parse(output)


def test_files_are_numbered_in_registration_order_with_pyflyte_suffixes(serialized):
    _, _output, parsed = serialized
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
    tasks = {
        message.template.id.name: message.template
        for message in parsed.values()
        if isinstance(message, task_pb2.TaskSpec)
    }
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


def test_a_default_launch_plan_used_as_a_node_is_registered_once_after_its_workflow(tmp_path):
    # The workflow lives in a module that is not packaged itself: the plan brings it in, and the
    # plan is also that workflow's default launch plan, which every workflow gets after it.
    write_program(
        tmp_path,
        """
        from taskloom import LaunchPlan, workflow

        from pipeline.lib import inner

        inner_plan = LaunchPlan.get_or_create(inner)


        @workflow
        def outer(x: int) -> int:
            return inner_plan(x=x)
        """,
    )
    (tmp_path / "pipeline" / "lib.py").write_text(
        textwrap.dedent(
            """
            from taskloom import task, workflow


            @task
            def inc(x: int) -> int:
                return x + 1


            @workflow
            def inner(x: int) -> int:
                return inc(x=x)
            """
        )
    )
    out = tmp_path / "out"
    completed = loom("serialize", "pipeline/flows.py", "--version", "1", "-o", str(out), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert sorted(path.name for path in out.iterdir()) == [
        "0_pipeline.lib.inc_1.pb",
        "1_pipeline.lib.inner_2.pb",
        "2_pipeline.lib.inner_3.pb",
        "3_pipeline.flows.outer_2.pb",
        "4_pipeline.flows.outer_3.pb",
    ]


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
    write_program(
        tmp_path,
        """
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
""",
    )
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / "out"), cwd=tmp_path)
    # bound at module level under another name: found by identity, so it packages
    assert completed.returncode == 0, completed.stderr
    write_program(
        tmp_path,
        """
from taskloom import task, workflow

def make():
    @task
    def hidden(x: int) -> int:
        return x
    return hidden

@workflow
def wf(x: int) -> int:
    return make()(x=x)
""",
    )
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
    write_program(
        tmp_path,
        PROGRAM.replace(
            "def outer(xs: list[int], limit: int = 10) -> str:", "def outer(xs: list[int], limit: int = 10) -> int:"
        ).replace("    return describe(n=small)", "    return small"),
    )
    completed = loom(
        "package", "pipeline", "--fast", "-p", "proj", "-d", "dev", "-o", str(tmp_path / "pkg.tgz"), cwd=tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    uploads = tmp_path / "uploads"
    with AdminServer() as server:
        register_package(
            str(tmp_path / "pkg.tgz"),
            endpoint=server.address,
            project="proj",
            domain="dev",
            insecure=True,
            source_upload_path=str(uploads),
            echo=lambda line: None,
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
    write_program(
        tmp_path,
        """
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
""",
    )
    completed = loom(
        "serialize",
        "pipeline",
        "--image",
        "ghcr.io/acme/base:1",
        "--image",
        "trainer=reg:5000/acme/trainer:3.1",
        "-o",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    templates = {
        m.template.id.name: m.template for m in parse(tmp_path / "out").values() if isinstance(m, task_pb2.TaskSpec)
    }
    assert templates["pipeline.flows.fit"].container.image == "reg:5000/acme/trainer:3.1"
    assert templates["pipeline.flows.plain"].container.image == "ghcr.io/acme/base:1"
    env = {item.key: item.value for item in templates["pipeline.flows.fit"].container.env}
    assert env["TASKLOOM_IMAGES"] == '{"trainer": "reg:5000/acme/trainer:3.1"}'  # for a dynamic task's children
    missing = loom("serialize", "pipeline", "-o", str(tmp_path / "out2"), cwd=tmp_path)
    assert missing.returncode != 0
    assert (
        "'trainer'" in missing.stderr
        and "--image trainer=IMAGE" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_a_pod_template_task_gets_the_command_line_in_its_primary_container(tmp_path):
    write_program(
        tmp_path,
        """
from taskloom import task


@task(pod_template={"containers": [{"name": "primary", "securityContext": {"runAsUser": 1000}}]})
def podded(x: int) -> int:
    return x
""",
    )
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


# --- fast packages and symbolic links ----------------------------------------------------------

LINKED_PROGRAM = '''
from taskloom import task

from pipeline.shared.words import WORD


@task
def read_all(names: list[str]) -> str:
    """Reads files through the project's links, relative to the directory the code is unpacked in."""
    texts = []
    for name in names:
        with open(name) as handle:
            texts.append(handle.read().strip())
    return "|".join([*texts, WORD])
'''

#: Paths the task reads, each through a link of the project, and what each holds.
READ_THROUGH_LINKS = {
    "data/alias.txt": "real",  # relative link to a file
    "data/absolute.txt": "real",  # absolute link to a file inside the project
    "data/settings/settings.txt": "settings",  # absolute link to a directory
    "data/nested/inner.txt": "real",  # relative link to a directory holding a relative link to a file
}


def write_linked_project(root: Path) -> Path:
    """A project whose code and data are reached through relative and absolute links, all inside it."""
    write_program(root, LINKED_PROGRAM)
    (root / "common").mkdir()
    (root / "common" / "__init__.py").write_text("")
    (root / "common" / "words.py").write_text('WORD = "linked"\n')
    (root / "pipeline" / "shared").symlink_to("../common")  # a package imported through a link
    (root / "data" / "config").mkdir(parents=True)
    (root / "data" / "real.txt").write_text("real\n")
    (root / "data" / "config" / "settings.txt").write_text("settings\n")
    (root / "data" / "alias.txt").symlink_to("real.txt")
    (root / "data" / "absolute.txt").symlink_to(root / "data" / "real.txt")
    (root / "data" / "settings").symlink_to(root / "data" / "config")
    (root / "data2").mkdir()
    (root / "data2" / "inner.txt").symlink_to("../data/real.txt")
    (root / "data" / "nested").symlink_to("../data2")
    return root


def fast_execute(spec: task_pb2.TaskSpec, tarball: Path, work: Path, inputs: Path) -> subprocess.CompletedProcess:
    """Run a fast-registered task's container command line as a propeller fills it in (as test_entrypoint.py does)."""
    filled = {
        "{{ .remote_package_path }}": str(tarball),
        "{{ .dest_dir }}": ".",
        "{{.input}}": str(inputs),
        "{{.outputPrefix}}": str(work / "outputs"),
        "{{.rawOutputDataPrefix}}": str(work / "raw"),
        "{{.checkpointOutputPrefix}}": str(work / "checkpoint"),
        "{{.prevCheckpointPrefix}}": "",
    }
    args = [filled.get(arg, arg) for arg in spec.template.container.args]
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment["PATH"] = os.pathsep.join([str(BIN), environment.get("PATH", "")])
    environment.update({item.key: item.value for item in spec.template.container.env})
    container = work / "container"  # the image's working directory, where --dest-dir . unpacks the code
    container.mkdir()
    return subprocess.run(args, capture_output=True, text=True, cwd=container, env=environment, timeout=120)


@pytest.mark.parametrize("with_git", [True, False])
def test_a_fast_package_holds_what_links_inside_the_project_point_to_and_its_task_reads_through_them(
    tmp_path, with_git
):
    from taskloom.core.type_engine import TypeEngine
    from taskloom_flyte.codec import literal_map_from_bytes, literal_map_to_bytes

    root = write_linked_project(tmp_path / "project")
    if with_git:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    completed = loom("package", "pipeline", "--fast", "-o", str(tmp_path / "pkg.tgz"), cwd=root)
    assert completed.returncode == 0, completed.stderr
    with tarfile.open(tmp_path / "pkg.tgz") as archive:
        members = {member.name: archive.extractfile(member).read() for member in archive.getmembers()}
    tarball_name = next(name for name in members if name.startswith("fast"))
    (tmp_path / tarball_name).write_bytes(members[tarball_name])
    with tarfile.open(tmp_path / tarball_name) as code:
        kinds = {member.name: member.type for member in code.getmembers()}
    assert set(kinds.values()) == {tarfile.REGTYPE}  # links became what they point to
    assert {"pipeline/shared/words.py", *READ_THROUGH_LINKS} <= set(kinds)
    (spec_name,) = [name for name in members if name.endswith("_1.pb")]
    spec = task_pb2.TaskSpec()
    spec.ParseFromString(members[spec_name])

    work = tmp_path / "run"
    work.mkdir()
    inputs = work / "inputs.pb"
    names = list(READ_THROUGH_LINKS)
    inputs.write_bytes(
        literal_map_to_bytes(TypeEngine.dict_to_literal_map(None, {"names": names}, {"names": list[str]}))
    )
    ran = fast_execute(spec, tmp_path / tarball_name, work, inputs)
    assert ran.returncode == 0, ran.stderr
    assert not (work / "outputs" / "error.pb").exists(), (work / "outputs" / "error.pb").read_bytes()
    outputs = literal_map_from_bytes((work / "outputs" / "outputs.pb").read_bytes())
    result = TypeEngine.literal_map_to_kwargs(None, outputs, {"o0": str})["o0"]
    assert result == "|".join([*READ_THROUGH_LINKS.values(), "linked"])


@pytest.mark.parametrize("with_git", [True, False])
@pytest.mark.parametrize(
    ("link", "target", "message"),
    [
        ("data/outside.txt", "{elsewhere}/secret.txt", "outside the project"),
        ("data/outside", "{elsewhere}", "outside the project"),
        ("data/up", "../../elsewhere", "outside the project"),
        ("data/loop", "..", "contains the link itself"),
        ("data/gone.txt", "missing.txt", "does not exist"),
        ("data/hidden.txt", "../secrets/key", "excluded"),
    ],
    ids=["absolute-file", "absolute-directory", "relative-directory", "cycle", "dangling", "ignored-target"],
)
def test_a_link_that_cannot_be_packaged_is_refused_naming_it_and_its_target(tmp_path, with_git, link, target, message):
    from taskloom_flyte.package import PackagingError, source_tarball

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("not part of the project")
    root = tmp_path / "project"
    write_program(root)
    (root / "data").mkdir()
    (root / "secrets").mkdir()
    (root / "secrets" / "key").write_text("hidden")
    (root / ".gitignore").write_text("secrets/\n")
    target = target.format(elsewhere=elsewhere)
    (root / link).symlink_to(target)
    if with_git:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    with pytest.raises(PackagingError) as raised:
        source_tarball(str(root))
    text = str(raised.value)
    assert link in text and target in text and message in text and "\n" not in text


def test_loom_package_refuses_a_link_outside_the_project_in_one_line(tmp_path):
    root = tmp_path / "project"
    write_program(root)
    (tmp_path / "elsewhere.txt").write_text("not part of the project")
    (root / "pipeline" / "notes.txt").symlink_to(tmp_path / "elsewhere.txt")
    completed = loom("package", "pipeline", "--fast", "-o", str(tmp_path / "pkg.tgz"), cwd=root)
    assert_one_line_error(completed, "pipeline/notes.txt", str(tmp_path / "elsewhere.txt"), "outside the project")
    assert not list(tmp_path.glob("pkg.tgz*"))


# --- where the package is written --------------------------------------------------------------


def assert_one_line_error(completed: subprocess.CompletedProcess, *fragments: str) -> None:
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], completed.stderr


def run_as_root_with(command: list[str]) -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(command, capture_output=True).returncode == 0


@pytest.fixture
def read_only_directory(tmp_path):
    """A directory mounted read-only (a bind mount: chmod does not stop root)."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    if not run_as_root_with(["mount", "--bind", str(directory), str(directory)]):
        pytest.skip("needs root and mount to make a read-only directory")
    try:
        if not run_as_root_with(["mount", "-o", "remount,bind,ro", str(directory)]):
            pytest.skip("cannot remount the bind mount read-only")
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs: a disk that fills up while the package is written."""
    directory = tmp_path / "tiny-disk"
    directory.mkdir()
    if not run_as_root_with(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(directory)]):
        pytest.skip("needs root and mount to make a tiny tmpfs")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def write_big_project(root: Path) -> None:
    """A program whose fast tarball (incompressible data) does not fit on the tiny disk."""
    write_program(root)
    (root / "blob.bin").write_bytes(os.urandom(200_000))


def leftovers(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing/deeper/pkg.tgz", "does not exist"),
        ("a-file/pkg.tgz", "is not a directory"),
        ("a-directory", "is a directory"),
    ],
)
@pytest.mark.parametrize("force", [False, True])
def test_loom_package_to_an_output_path_it_cannot_write_is_one_line_and_leaves_nothing(
    tmp_path, output, message, force
):
    write_program(tmp_path / "project")
    (tmp_path / "a-file").write_text("a regular file")
    (tmp_path / "a-directory").mkdir()
    before = leftovers(tmp_path)
    completed = loom(
        "package", "pipeline", "-o", str(tmp_path / output), *(["--force"] if force else []), cwd=tmp_path / "project"
    )
    assert_one_line_error(completed, str(tmp_path / output), message)
    assert leftovers(tmp_path) == before


def test_loom_package_to_a_read_only_directory_is_one_line_and_leaves_nothing(tmp_path, read_only_directory):
    write_program(tmp_path / "project")
    completed = loom("package", "pipeline", "-o", str(read_only_directory / "pkg.tgz"), cwd=tmp_path / "project")
    assert_one_line_error(completed, str(read_only_directory / "pkg.tgz"), "Read-only file system")
    assert leftovers(read_only_directory) == []


def test_loom_package_on_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, tiny_disk):
    write_big_project(tmp_path / "project")
    completed = loom("package", "pipeline", "--fast", "-o", str(tiny_disk / "pkg.tgz"), cwd=tmp_path / "project")
    assert_one_line_error(completed, str(tiny_disk / "pkg.tgz"), "No space left on device")
    assert leftovers(tiny_disk) == []


@pytest.mark.parametrize(
    ("output", "message"),
    [("a-file", "is not a directory"), ("a-file/out", "is not a directory")],
)
def test_loom_serialize_to_an_output_path_it_cannot_write_is_one_line_and_leaves_nothing(tmp_path, output, message):
    write_program(tmp_path / "project")
    (tmp_path / "a-file").write_text("a regular file")
    before = leftovers(tmp_path)
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / output), cwd=tmp_path / "project")
    assert_one_line_error(completed, message)
    assert leftovers(tmp_path) == before and (tmp_path / "a-file").read_text() == "a regular file"


def test_loom_serialize_creates_a_missing_output_directory(tmp_path):
    write_program(tmp_path / "project")
    completed = loom("serialize", "pipeline", "-o", str(tmp_path / "missing" / "deeper"), cwd=tmp_path / "project")
    assert completed.returncode == 0, completed.stderr
    assert parse(tmp_path / "missing" / "deeper")


def test_loom_serialize_to_a_read_only_directory_is_one_line_and_leaves_nothing(tmp_path, read_only_directory):
    write_program(tmp_path / "project")
    completed = loom("serialize", "pipeline", "-o", str(read_only_directory / "out"), cwd=tmp_path / "project")
    assert_one_line_error(completed, str(read_only_directory / "out"), "Read-only file system")
    assert leftovers(read_only_directory) == []


@pytest.mark.parametrize("existing", [False, True], ids=["new-directory", "existing-directory"])
def test_loom_serialize_on_a_full_disk_is_one_line_and_leaves_no_file_behind(tmp_path, tiny_disk, existing):
    write_big_project(tmp_path / "project")
    if existing:
        (tiny_disk / "out").mkdir()
    completed = loom("serialize", "pipeline", "--fast", "-o", str(tiny_disk / "out"), cwd=tmp_path / "project")
    assert_one_line_error(completed, str(tiny_disk / "out"), "No space left on device")
    assert leftovers(tiny_disk) == (["out"] if existing else [])


# --- a user's file that does not import ----------------------------------------------------------

BROKEN_PROGRAMS = {
    "syntax-error": (
        "from taskloom import task\n\n@task\ndef f(x: int) -> int\n    return x\n",
        ["SyntaxError", "flows.py", "line 4"],
    ),
    "raises-at-import": (
        "import os\n\nraise RuntimeError('no config')\n",
        ["RuntimeError: no config", "flows.py, line 3"],
    ),
    "missing-import": (
        "import numpy_that_is_not_installed\n",
        ["No module named 'numpy_that_is_not_installed'", "flows.py, line 1"],
    ),
    "exits-at-import": ("import sys\n\nsys.exit(3)\n", ["sys.exit(3)", "flows.py, line 3", "__main__"]),
    "fails-to-compile": (
        "from taskloom import task, workflow\n\n@task\ndef f(x: int) -> int:\n    return x\n\n"
        "@workflow\ndef wf(x: str) -> int:\n    return f(x=x)\n",
        ["input 'x' expects int", "flows.py, line 9"],
    ),
}


@pytest.mark.parametrize("command", ["package", "serialize"])
@pytest.mark.parametrize("program", list(BROKEN_PROGRAMS))
def test_a_program_that_does_not_import_is_one_line_naming_the_module_and_where(tmp_path, command, program):
    text, fragments = BROKEN_PROGRAMS[program]
    write_program(tmp_path, text)
    completed = loom(command, "pipeline", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert_one_line_error(completed, "cannot import 'pipeline.flows'", *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["package", "serialize"])
def test_a_single_file_that_does_not_import_is_one_line_too(tmp_path, command):
    (tmp_path / "flows.py").write_text("import numpy_that_is_not_installed\n")
    completed = loom(command, "flows.py", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert_one_line_error(completed, "cannot import 'flows'", "No module named 'numpy_that_is_not_installed'")


# --- values nested deeper than protobuf's parsers read -------------------------------------------

DEEP_DEFAULT_PROGRAM = """
from taskloom import task, workflow

DEEP = int
DEFAULT = 1
for _ in range({lists}):
    DEEP, DEFAULT = list[DEEP], [DEFAULT]


@task
def count(x: DEEP) -> int:
    return 1


@workflow
def wf(x: DEEP = DEFAULT) -> int:
    return count(x=x)
"""


def test_a_default_input_nested_as_deep_as_a_launch_plan_file_reads_back_is_packaged_and_one_more_is_refused(tmp_path):
    from taskloom_flyte.register import read_package

    # A launch plan's default sits at LaunchPlan > spec > default_inputs > entry > Parameter >
    # Literal: 46 lists end with their Primitive at level 7 + 2 * 46 = 100, protobuf's limit.
    write_program(tmp_path, DEEP_DEFAULT_PROGRAM.format(lists=46))
    completed = loom("package", "pipeline", "-o", str(tmp_path / "deepest.tgz"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    (plan,) = read_package(str(tmp_path / "deepest.tgz")).launch_plans
    default = plan.spec.default_inputs.parameters["x"].default
    for _ in range(46):
        default = default.collection.literals[0]
    assert default.scalar.primitive.integer == 1

    write_program(tmp_path, DEEP_DEFAULT_PROGRAM.format(lists=47))
    completed = loom("package", "pipeline", "-o", str(tmp_path / "deeper.tgz"), cwd=tmp_path)
    assert_one_line_error(completed, "launch plan 'pipeline.flows.wf'", "level 101", "stop at 100 levels")
    assert not list(tmp_path.glob("deeper.tgz*"))
