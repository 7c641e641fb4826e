"""``loom register`` and :func:`taskloom_flyte.register.register_package` against a gRPC AdminService.

No Flyte admin service can run here, so the server these tests talk to is the tests' own
implementation of the AdminService calls registration makes (:mod:`admin_server`: CreateTask,
CreateWorkflow, CreateLaunchPlan, UpdateLaunchPlan, with the admin's ALREADY_EXISTS, NOT_FOUND,
INVALID_ARGUMENT and UNAUTHENTICATED answers), served over a real socket on 127.0.0.1, in
plaintext or TLS. Packages are built here from flyteidl messages, laid out as ``pyflyte package``
lays them out.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tarfile

import grpc
import pytest
from flyteidl.admin import launch_plan_pb2, schedule_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2, tasks_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from plugins.flyte.tests.admin_server import AdminServer, make_certificate
from taskloom.exceptions.user import UserValueError
from taskloom_flyte.register import (
    AdminAuthenticationError,
    AdminUnavailableError,
    InvalidPackageError,
    RegistrationError,
    register_package,
)

LOOM = [sys.executable, "-m", "taskloom.cli"]
SETTINGS_ENV = (
    "FLYTE_PLATFORM_URL",
    "FLYTE_PLATFORM_INSECURE",
    "FLYTE_PLATFORM_CA_CERT_FILE_PATH",
    "FLYTE_DEFAULT_PROJECT",
    "FLYTE_DEFAULT_DOMAIN",
    "TASKLOOM_ADMIN_TOKEN",
)
OPEN = {"project": "", "domain": "", "version": ""}  # what `pyflyte package` leaves
PLACEHOLDERS = {
    "project": "{{ registration.project }}",
    "domain": "{{ registration.domain }}",
    "version": "{{ registration.version }}",
}


@pytest.fixture(autouse=True)
def no_user_settings(monkeypatch):
    for variable in SETTINGS_ENV:
        monkeypatch.delenv(variable, raising=False)


# ---- building packages -------------------------------------------------------------------------


def ident(resource_type, name, fields=OPEN):
    return identifier_pb2.Identifier(resource_type=resource_type, name=name, **fields)


def task_node(node_id, task, fields=OPEN):
    return core_workflow_pb2.Node(
        id=node_id, task_node=core_workflow_pb2.TaskNode(reference_id=ident(identifier_pb2.TASK, task, fields))
    )


def task_spec(name, fields=PLACEHOLDERS, args=("loom-execute", "--inputs", "{{.input}}")):
    template = tasks_pb2.TaskTemplate(
        id=ident(identifier_pb2.TASK, name, fields),
        type="python-task",
        container=tasks_pb2.Container(image="ghcr.io/taskloom/taskloom:py3.11-latest", args=list(args)),
    )
    return task_pb2.TaskSpec(template=template)


def workflow_spec(fields=OPEN):
    """``flows.pipeline``: a task node, a branch, an array node, a sub-workflow node and a failure node."""
    branch = core_workflow_pb2.Node(
        id="n1",
        branch_node=core_workflow_pb2.BranchNode(
            if_else=core_workflow_pb2.IfElseBlock(
                case=core_workflow_pb2.IfBlock(then_node=task_node("n1-0", "flows.clean", fields)),
                other=[core_workflow_pb2.IfBlock(then_node=task_node("n1-1", "flows.report", fields))],
                else_node=task_node("n1-2", "flows.clean", fields),
            )
        ),
    )
    array = core_workflow_pb2.Node(
        id="n2", array_node=core_workflow_pb2.ArrayNode(node=task_node("n2-0", "flows.clean", fields), parallelism=2)
    )
    sub_workflow_node = core_workflow_pb2.Node(
        id="n3",
        workflow_node=core_workflow_pb2.WorkflowNode(
            sub_workflow_ref=ident(identifier_pb2.WORKFLOW, "flows.sub", fields)
        ),
    )
    template = core_workflow_pb2.WorkflowTemplate(
        id=ident(identifier_pb2.WORKFLOW, "flows.pipeline", fields),
        nodes=[task_node("n0", "flows.clean", fields), branch, array, sub_workflow_node],
        failure_node=task_node("fn0", "flows.report", fields),
    )
    sub_workflow = core_workflow_pb2.WorkflowTemplate(
        id=ident(identifier_pb2.WORKFLOW, "flows.sub", fields), nodes=[task_node("s0", "flows.report", fields)]
    )
    return workflow_pb2.WorkflowSpec(template=template, sub_workflows=[sub_workflow])


def launch_plan(name, cron=None, fields=OPEN):
    spec = launch_plan_pb2.LaunchPlanSpec(workflow_id=ident(identifier_pb2.WORKFLOW, "flows.pipeline", fields))
    if cron is not None:
        spec.entity_metadata.schedule.CopyFrom(schedule_pb2.Schedule(cron_expression=cron))
    return launch_plan_pb2.LaunchPlan(id=ident(identifier_pb2.LAUNCH_PLAN, name, fields), spec=spec)


def package_files(fields=OPEN, task_fields=PLACEHOLDERS):
    """``pyflyte package``'s files for two tasks, a workflow, its default launch plan and a scheduled one."""
    return {
        "0_flows.clean_1.pb": task_spec("flows.clean", task_fields),
        "1_flows.report_1.pb": task_spec("flows.report", task_fields),
        "2_flows.pipeline_2.pb": workflow_spec(fields),
        "3_flows.pipeline_3.pb": launch_plan("flows.pipeline", fields=fields),
        "4_flows.nightly_3.pb": launch_plan("flows.nightly", cron="0 3 * * *", fields=fields),
    }


def write_directory(directory, files):
    directory.mkdir()
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.SerializeToString()
        (directory / name).write_bytes(data)
    return str(directory)


def write_tgz(path, files):
    source = write_directory(path.parent / (path.name + ".d"), files)
    with tarfile.open(path, "w:gz") as archive:
        for name in sorted(files):
            archive.add(os.path.join(source, name), arcname=name)
    return str(path)


@pytest.fixture
def package(tmp_path):
    return write_directory(tmp_path / "package", package_files())


@pytest.fixture
def admin():
    with AdminServer() as server:
        yield server


def register(path, server, **options):
    settings = {"project": "flytesnacks", "domain": "development", "version": "v1", "insecure": True, "echo": None}
    settings.update(options)
    lines = []
    if settings["echo"] is None:
        settings["echo"] = lines.append
    result = register_package(path, endpoint=server.address, **settings)
    return result, lines


def loom(*arguments, env=None):
    environment = {key: value for key, value in os.environ.items() if key not in SETTINGS_ENV}
    environment.update(env or {})
    return subprocess.run([*LOOM, *arguments], capture_output=True, text=True, env=environment, timeout=60, check=False)


def columns(line):
    return re.split(r" {2,}", line.strip())


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- what arrives ------------------------------------------------------------------------------


def test_open_identifiers_get_the_given_project_domain_and_version_everywhere(package, admin):
    register(package, admin, project="acme", domain="staging", version="v42")

    requests = {call.request.id.name: call.request for call in admin.calls if call.method.startswith("Create")}
    expected = ("acme", "staging", "v42")

    def triple(identifier):
        return identifier.project, identifier.domain, identifier.version

    assert triple(requests["flows.clean"].id) == expected  # placeholders were replaced
    assert requests["flows.clean"].id.resource_type == identifier_pb2.TASK
    assert triple(requests["flows.clean"].spec.template.id) == expected
    workflow = next(call.request for call in admin.calls if call.method == "CreateWorkflow")
    template = workflow.spec.template
    assert triple(workflow.id) == expected and triple(template.id) == expected
    n0, branch, array, sub = template.nodes
    assert triple(n0.task_node.reference_id) == expected
    if_else = branch.branch_node.if_else
    for node in (if_else.case.then_node, if_else.other[0].then_node, if_else.else_node):
        assert triple(node.task_node.reference_id) == expected
    assert triple(array.array_node.node.task_node.reference_id) == expected
    assert triple(sub.workflow_node.sub_workflow_ref) == expected
    assert triple(template.failure_node.task_node.reference_id) == expected
    assert triple(workflow.spec.sub_workflows[0].id) == expected
    assert triple(workflow.spec.sub_workflows[0].nodes[0].task_node.reference_id) == expected
    plans = [call.request for call in admin.calls if call.method == "CreateLaunchPlan"]
    assert [(plan.id.name, triple(plan.id), triple(plan.spec.workflow_id)) for plan in plans] == [
        ("flows.pipeline", expected, expected),
        ("flows.nightly", expected, expected),
    ]


def test_tasks_then_workflows_then_launch_plans_then_activations_whatever_the_file_order(tmp_path, admin):
    files = package_files()
    # Name the files so that name order puts launch plans first and tasks last.
    reordered = {f"{9 - index}_{name.split('_', 1)[1]}": spec for index, (name, spec) in enumerate(files.items())}
    path = write_directory(tmp_path / "package", reordered)

    result, _ = register(path, admin)

    assert admin.methods() == [
        "CreateTask",
        "CreateTask",
        "CreateWorkflow",
        "CreateLaunchPlan",
        "CreateLaunchPlan",
        "UpdateLaunchPlan",
    ]
    assert [entity.kind for entity in result.entities] == ["task", "task", "workflow", "launch plan", "launch plan"]


def test_launch_plans_with_a_schedule_are_activated_and_every_one_with_activate_launchplans(package, admin):
    result, lines = register(package, admin, version="v1")
    assert [entity.name for entity in result.activated] == ["flows.nightly"]
    update = next(call.request for call in admin.calls if call.method == "UpdateLaunchPlan")
    assert (update.id.name, update.id.version, update.state) == ("flows.nightly", "v1", launch_plan_pb2.ACTIVE)
    assert columns(lines[-1]) == ["launch plan", "flows.nightly", "v1", "activated"]

    result, _ = register(package, admin, version="v2", activate_launchplans=True)
    assert {entity.name for entity in result.activated} == {"flows.pipeline", "flows.nightly"}
    assert {(key[3], key[4]) for key in admin.active} == {("flows.pipeline", "v2"), ("flows.nightly", "v2")}


def test_identifiers_the_package_fixes_are_kept_and_need_no_version(tmp_path, admin):
    fixed = {"project": "analytics", "domain": "production", "version": "2024.1"}
    path = write_directory(tmp_path / "package", package_files(fields=fixed, task_fields=fixed))

    result, _ = register(path, admin, project="flytesnacks", domain="development", version=None)

    assert {(entity.project, entity.domain, entity.version) for entity in result.entities} == {
        ("analytics", "production", "2024.1")
    }


def test_an_open_version_without_version_is_an_error_before_anything_is_sent(package, admin):
    with pytest.raises(InvalidPackageError, match=r"^task 'flows.clean' has no version; give one with --version$"):
        register(package, admin, version=None)
    assert admin.calls == []


def test_a_directory_without_entities_is_an_invalid_package(tmp_path, admin):
    path = write_directory(tmp_path / "empty", {"README.md": b"nothing here"})
    with pytest.raises(InvalidPackageError, match="holds no task, workflow or launch plan"):
        register(path, admin)


# ---- ALREADY_EXISTS ----------------------------------------------------------------------------


def test_registering_the_same_version_again_reports_already_registered_and_succeeds(tmp_path, admin):
    path = write_tgz(tmp_path / "flows.tgz", package_files())
    first, _ = register(path, admin)
    assert len(first.registered) == 5

    done = loom("register", path, "--endpoint", admin.address, "--insecure", "--version", "v1")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [columns(line)[-1] for line in lines[:5]] == ["already registered"] * 5
    assert columns(lines[0]) == ["task", "flows.clean", "v1", "already registered"]
    assert "0 registered, 5 already registered; 1 launch plan activated" in lines[-1]
    answered = [call.status for call in admin.calls if call.method.startswith("Create")]
    assert answered[5:] == [grpc.StatusCode.ALREADY_EXISTS] * 5


def test_a_changed_entity_under_a_registered_version_is_an_error_naming_it(tmp_path, admin):
    register(write_directory(tmp_path / "first", package_files()), admin)
    changed = package_files()
    changed["0_flows.clean_1.pb"] = task_spec("flows.clean", args=("loom-execute", "--changed"))

    with pytest.raises(RegistrationError, match=r"refused to register task 'flows.clean' \(version 'v1'\).*different"):
        register(write_directory(tmp_path / "second", changed), admin)


# ---- the command line --------------------------------------------------------------------------


def test_loom_register_sends_a_tgz_with_the_token_and_prints_one_line_per_entity(tmp_path):
    path = write_tgz(tmp_path / "flows.tgz", package_files())
    with AdminServer(token="s3cret") as admin:
        done = loom(
            "register",
            path,
            "-p",
            "acme",
            "-d",
            "staging",
            "--version",
            "v3",
            "--insecure",
            "--allow-insecure-token",
            env={"FLYTE_PLATFORM_URL": admin.address, "TASKLOOM_ADMIN_TOKEN": "s3cret"},
        )

    assert done.returncode == 0, done.stderr
    assert [columns(line) for line in done.stdout.splitlines()[:6]] == [
        ["task", "flows.clean", "v3", "registered"],
        ["task", "flows.report", "v3", "registered"],
        ["workflow", "flows.pipeline", "v3", "registered"],
        ["launch plan", "flows.pipeline", "v3", "registered"],
        ["launch plan", "flows.nightly", "v3", "registered"],
        ["launch plan", "flows.nightly", "v3", "activated"],
    ]
    assert {call.metadata.get("authorization") for call in admin.calls} == {"Bearer s3cret"}
    assert all(key[1:3] == ("acme", "staging") for key in admin.registered)
    # The opt-in is said on standard error, once, without the token.
    (warning,) = done.stderr.strip().splitlines()
    assert warning.startswith("warning: ") and "unencrypted" in warning and admin.address in warning
    assert "s3cret" not in warning


@pytest.mark.parametrize(
    ("arguments", "env", "config"),
    [
        ([], {"FLYTE_PLATFORM_INSECURE": "true"}, ""),
        ([], {}, "[flyte]\ninsecure = true\n"),
        (["--insecure"], {}, ""),
        (["--allow-insecure-token"], {"FLYTE_PLATFORM_INSECURE": "true"}, ""),
    ],
    ids=[
        "insecure-from-the-environment",
        "insecure-from-the-config-file",
        "insecure-without-opt-in",
        "opt-in-without-insecure",
    ],
)
def test_loom_register_never_sends_a_token_in_plaintext_without_both_flags(tmp_path, arguments, env, config):
    (tmp_path / "config.toml").write_text(config)
    with AdminServer(token="s3cret") as admin:
        done = loom(
            "register",
            write_tgz(tmp_path / "flows.tgz", package_files()),
            "--endpoint",
            admin.address,
            "--version",
            "v1",
            *arguments,
            env={"TASKLOOM_ADMIN_TOKEN": "s3cret", "TASKLOOM_CONFIG": str(tmp_path / "config.toml"), **env},
        )
        calls = list(admin.calls)

    assert done.returncode == 1
    (error,) = done.stderr.strip().splitlines()
    assert error.startswith("Error: ") and "plaintext" in error
    assert "--insecure --allow-insecure-token" in error and "--tls" in error and "s3cret" not in error
    assert calls == []  # nothing reached the server, the token least of all


def test_tls_from_the_command_line_wins_over_an_insecure_environment_and_keeps_the_token(package, certificate):
    with tls_server(certificate, token="s3cret") as admin:
        done = loom(
            "register",
            package,
            "--endpoint",
            admin.address,
            "--version",
            "v1",
            "--tls",
            "--ca-cert",
            certificate[0],
            env={"TASKLOOM_ADMIN_TOKEN": "s3cret", "FLYTE_PLATFORM_INSECURE": "true"},
        )
        assert done.returncode == 0, done.stderr
        assert {call.metadata.get("authorization") for call in admin.calls} == {"Bearer s3cret"}
    assert "warning" not in done.stderr


def test_register_package_refuses_a_token_in_plaintext_unless_allowed(package):
    with AdminServer(token="s3cret") as admin:
        with pytest.raises(UserValueError, match=r"plaintext.*allow_insecure_token=True"):
            register(package, admin, token="s3cret")
        assert admin.calls == []
        result, _ = register(package, admin, token="s3cret", allow_insecure_token=True)
    assert result.registered


def test_loom_register_without_a_token_exits_non_zero_with_a_clear_error(package):
    with AdminServer(token="s3cret") as admin:
        done = loom("register", package, "--endpoint", admin.address, "--insecure", "--version", "v1")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith(f"Error: the Flyte admin service at {admin.address} refused to register task 'flows.clean'")
    assert "UNAUTHENTICATED" in error and "--token or $TASKLOOM_ADMIN_TOKEN" in error
    assert admin.registered == {}


def test_a_wrong_token_is_an_authentication_error_naming_the_endpoint(package):
    with AdminServer(token="s3cret") as admin:
        expected = rf"{admin.address} .*invalid bearer token; check the bearer token"
        with pytest.raises(AdminAuthenticationError, match=expected):
            register(package, admin, token="guess", allow_insecure_token=True)


def test_loom_register_to_an_unreachable_endpoint_exits_non_zero_with_a_clear_error(package):
    endpoint = f"127.0.0.1:{free_port()}"

    done = loom("register", package, "--endpoint", endpoint, "--insecure", "--version", "v1")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"Error: could not reach the Flyte admin service at {endpoint}" in done.stderr


def test_loom_register_without_an_endpoint_says_how_to_give_one(package):
    done = loom("register", package, "--version", "v1")
    assert done.returncode == 2
    assert "give --endpoint host:port or set $FLYTE_PLATFORM_URL" in done.stderr


# ---- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(str(tmp_path_factory.mktemp("tls")))


def tls_server(certificate, **options):
    certificate_path, key_path = certificate
    with open(certificate_path, "rb") as handle:
        pem = handle.read()
    with open(key_path, "rb") as handle:
        key = handle.read()
    return AdminServer(certificate=pem, private_key=key, **options)


def test_tls_with_a_bearer_token_registers_and_sends_the_token_as_call_credentials(package, certificate):
    with tls_server(certificate, token="s3cret") as admin:
        result, _ = register(package, admin, insecure=False, ca_cert=certificate[0], token="s3cret")

    assert len(result.registered) == 5
    assert admin.methods().count("CreateTask") == 2
    assert {call.metadata.get("authorization") for call in admin.calls} == {"Bearer s3cret"}


def test_tls_to_a_certificate_nobody_trusts_is_a_clear_error(package, certificate):
    with tls_server(certificate) as admin:
        expected = rf"could not reach the Flyte admin service at {admin.address}.*--ca-cert"
        with pytest.raises(AdminUnavailableError, match=expected):
            register(package, admin, insecure=False)
    assert admin.calls == []


# ---- fast packages -----------------------------------------------------------------------------


def test_a_fast_package_uploads_its_sources_and_fills_the_task_arguments(tmp_path, admin):
    fast_args = ("loom-fast-execute", "--additional-distribution", "{{ .remote_package_path }}", "--dest-dir",
                 "{{ .dest_dir }}", "--", "loom-execute")  # fmt: skip
    files = package_files()
    files["0_flows.clean_1.pb"] = task_spec("flows.clean", args=fast_args)
    files["fastabc123.tar.gz"] = b"sources of the flows"
    path = write_tgz(tmp_path / "fast.tgz", files)

    with pytest.raises(InvalidPackageError, match="give --source-upload-path"):
        register(path, admin)
    uploads = tmp_path / "uploads"
    result, _ = register(path, admin, source_upload_path=str(uploads), destination_dir="/root")

    sent = next(call.request for call in admin.calls if call.request.id.name == "flows.clean")
    arguments = list(sent.spec.template.container.args)
    assert arguments[2] == result.source_uri and arguments[4] == "/root"
    assert result.source_uri.startswith(str(uploads)) and result.source_uri.endswith("/fastabc123.tar.gz")
    with open(result.source_uri, "rb") as handle:
        assert handle.read() == b"sources of the flows"


def test_loom_register_over_tls_to_a_plaintext_admin_fails_in_one_line_suggesting_insecure(package, admin):
    done = loom("register", package, "--endpoint", admin.address, "--version", "v1")

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr  # gRPC's own handshake log is kept quiet
    assert done.stderr.startswith(f"Error: could not reach the Flyte admin service at {admin.address}")
    assert "(--insecure)" in done.stderr
