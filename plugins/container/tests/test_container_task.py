"""ContainerTask run locally in podman: inputs in as files, outputs back with type checks, errors that say why."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from plugins.container.tests import podman_setup
from taskloom import FlyteDirectory, FlyteFile, Resources, TaskMetadata, kwtypes, workflow
from taskloom.extend import TypeTransformerFailedError, UserTimeoutError, ValidationError, hookimpl

from taskloom_container.container_task import ContainerTask
from taskloom_container.runtime import ContainerError, ContainerRuntimeMissingError

IMAGE = podman_setup.BUSYBOX_IMAGE


def _task(name: str, script: str, **kwargs):
    kwargs.setdefault("input_data_dir", "/var/inputs")
    kwargs.setdefault("output_data_dir", "/var/outputs")
    return ContainerTask(name=name, image=IMAGE, command=["sh", "-c", script], **kwargs)


# --- files in, files out ---------------------------------------------------------------------------


def test_each_input_is_a_file_named_after_it_and_outputs_are_read_back_typed(podman):
    square = _task(
        "square",
        "echo $(( $(cat /var/inputs/val) * $(cat /var/inputs/val) )) > /var/outputs/out;"
        " cat /var/inputs/name > /var/outputs/greeting; echo ' ok' >> /var/outputs/greeting;"
        " echo 2.5 > /var/outputs/half; echo TRUE > /var/outputs/flag",
        inputs=kwtypes(val=int, name=str),
        outputs=kwtypes(out=int, greeting=str, half=float, flag=bool),
    )
    assert square(val=7, name="ana") == (49, "ana ok\n", 2.5, True)


def test_the_json_metadata_file_holds_every_input(podman):
    echo = _task(
        "echo_json",
        "cat /var/inputs/inputs.json > /var/outputs/metadata",
        inputs=kwtypes(a=int, b=str, c=bool, d=float, when=dt.datetime),
        outputs=kwtypes(metadata=str),
    )
    when = dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)
    written = json.loads(echo(a=1, b="x y", c=False, d=0.5, when=when))
    assert written == {"a": 1, "b": "x y", "c": False, "d": 0.5, "when": when.isoformat()}


def test_the_yaml_metadata_file_holds_every_input_and_no_json_is_written(podman):
    echo = _task(
        "echo_yaml",
        "cat /var/inputs/inputs.yaml > /var/outputs/metadata; ls /var/inputs > /var/outputs/listing",
        inputs=kwtypes(a=int, b=str),
        outputs=kwtypes(metadata=str, listing=str),
        metadata_format=ContainerTask.MetadataFormat.YAML,
    )
    metadata, listing = echo(a=3, b="hello")
    assert yaml.safe_load(metadata) == {"a": 3, "b": "hello"}
    assert listing.split() == ["a", "b", "inputs.yaml"]


def test_inputs_in_the_command_line_are_replaced_anywhere_in_an_argument(podman):
    # FlytePropeller's rule (flytekit's local run replaces only a whole argument).
    multiply = ContainerTask(
        name="multiply",
        image=IMAGE,
        command=["sh", "-c", "echo $(( {{.inputs.x}} * {{ .Inputs.y }} )) > /var/outputs/product"],
        inputs=kwtypes(x=int, y=int),
        outputs=kwtypes(product=int),
        output_data_dir="/var/outputs",
    )
    assert multiply(x=6, y=7) == 42


def test_arguments_follow_the_command(podman):
    first = ContainerTask(
        name="first_argument",
        image=IMAGE,
        command=["sh", "-c", 'echo "$1" > /var/outputs/out', "sh"],
        arguments=["{{.inputs.word}}", "ignored"],
        inputs=kwtypes(word=str),
        outputs=kwtypes(out=str),
        output_data_dir="/var/outputs",
    )
    assert first(word="two words") == "two words\n"


def test_files_and_directories_go_in_and_come_out(podman, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("line 1\nline 2\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a").write_text("A")
    (folder / "b").write_text("B")
    copy = _task(
        "copy_files",
        "wc -l < /var/inputs/data > /var/outputs/lines; mkdir /var/outputs/listing;"
        " for f in /var/inputs/folder/*; do cat $f >> /var/outputs/listing/all; done;"
        " cp /var/inputs/data /var/outputs/copy",
        inputs=kwtypes(data=FlyteFile, folder=FlyteDirectory),
        outputs=kwtypes(lines=int, listing=FlyteDirectory, copy=FlyteFile),
    )
    lines, listing, copied = copy(data=FlyteFile(str(source)), folder=FlyteDirectory(str(folder)))
    assert lines == 2
    assert Path(listing.path, "all").read_text() == "AB"
    assert Path(copied.path).read_text() == "line 1\nline 2\n"


def test_a_container_task_runs_inside_a_workflow(podman):
    double = _task(
        "double",
        "echo $(( $(cat /var/inputs/n) * 2 )) > /var/outputs/n",
        inputs=kwtypes(n=int),
        outputs=kwtypes(n=int),
    )

    @workflow
    def twice(n: int = 3) -> int:
        return double(n=double(n=n))

    assert twice(n=5) == 20


def test_the_environment_reaches_the_container(podman):
    show = _task(
        "show_env", 'echo "$GREETING" > /var/outputs/out', outputs=kwtypes(out=str), environment={"GREETING": "hej"}
    )
    assert show() == "hej\n"


# --- what a container writes is checked ------------------------------------------------------------


def test_an_output_that_is_not_of_its_type_names_the_task_output_and_text(podman):
    wrong = _task("wrong_output", "echo abc > /var/outputs/n", outputs=kwtypes(n=int))
    with pytest.raises(
        TypeTransformerFailedError, match=r"task 'wrong_output': output 'n' expects int, got the text 'abc\\n'"
    ):
        wrong()


def test_a_bool_output_must_say_true_or_false(podman):
    typo = _task("typo_bool", "echo ture > /var/outputs/ok", outputs=kwtypes(ok=bool))
    with pytest.raises(TypeTransformerFailedError, match="output 'ok' expects bool"):
        typo()


def test_a_missing_output_file_names_the_path_in_the_container(podman):
    silent = _task("silent", "true", outputs=kwtypes(n=int))
    with pytest.raises(
        TypeTransformerFailedError,
        match=r"task 'silent': output 'n' expects a file at /var/outputs/n; the container left nothing",
    ):
        silent()


# --- declaration ----------------------------------------------------------------------------------


def test_types_no_file_can_carry_are_refused_where_the_task_is_declared():
    with pytest.raises(ValidationError, match=r"task 'lists': input 'xs' has type list\[int\]"):
        ContainerTask(name="lists", image=IMAGE, command=["true"], inputs=kwtypes(xs=list[int]), input_data_dir="/in")


def test_outputs_without_an_output_directory_are_refused():
    with pytest.raises(ValidationError, match="task 'nowhere': outputs n need output_data_dir"):
        ContainerTask(name="nowhere", image=IMAGE, command=["true"], outputs=kwtypes(n=int))


def test_resources_and_requests_together_are_refused():
    with pytest.raises(ValidationError, match="task 'both'"):
        ContainerTask(
            name="both", image=IMAGE, command=["true"], requests=Resources(cpu="1"), resources=Resources(cpu="1")
        )


def test_a_command_line_naming_an_undeclared_input_is_an_error(podman):
    typo = ContainerTask(name="typo_input", image=IMAGE, command=["echo", "{{.inputs.vale}}"], inputs=kwtypes(val=int))
    with pytest.raises(ValidationError, match=r"task 'typo_input': the command line refers to input 'vale'"):
        typo(val=1)


def test_proto_metadata_is_refused_locally_naming_the_task(podman):
    proto = _task("proto", "true", inputs=kwtypes(a=int), metadata_format=ContainerTask.MetadataFormat.PROTO)
    with pytest.raises(Exception, match="task 'proto': metadata_format PROTO"):
        proto(a=1)


# --- the runtime's failures: one error each, with the container's last lines; no container left ----


def test_a_non_zero_exit_names_the_task_the_code_and_the_last_lines(podman):
    failing = _task("failing", "echo starting; echo 'disk on fire' >&2; exit 3")
    with pytest.raises(ContainerError) as raised:
        failing()
    message = str(raised.value)
    assert "task 'failing'" in message
    assert "exit code 3" in message
    assert "disk on fire" in message and "starting" in message
    assert not [name for name in podman_setup.containers(podman) if name.startswith("taskloom-")]


def test_only_the_last_twenty_lines_are_shown(podman):
    chatty = _task("chatty", "for i in $(seq 1 50); do echo line-$i; done; exit 1")
    with pytest.raises(ContainerError) as raised:
        chatty()
    message = str(raised.value)
    assert "line-50" in message and "line-31" in message
    assert "line-30\n" not in message


def test_a_timeout_stops_and_removes_the_container(podman):
    slow = _task("sleepy", "echo going to sleep; sleep 60", metadata=TaskMetadata(timeout=dt.timedelta(seconds=2)))
    with pytest.raises(UserTimeoutError) as raised:
        slow()
    message = str(raised.value)
    assert "task 'sleepy'" in message and "timeout of 2 s" in message
    assert "going to sleep" in message
    assert not [name for name in podman_setup.containers(podman) if name.startswith("taskloom-")]


def test_a_missing_image_names_the_task_and_the_image(podman):
    # No registry answers here: podman's pull fails (after its own retries, ~3 s).
    missing = ContainerTask(name="no_image", image="localhost:1/taskloom-missing:1", command=["true"])
    with pytest.raises(
        ContainerError,
        match=r"task 'no_image': image 'localhost:1/taskloom-missing:1' is not in podman's image store and could not be pulled",
    ):
        missing()


def test_a_missing_runtime_names_the_task_and_what_was_looked_for(podman, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither podman nor docker on it
    monkeypatch.delenv("TASKLOOM_CONTAINER_RUNTIME")
    lonely = _task("lonely", "true")
    with pytest.raises(ContainerRuntimeMissingError) as raised:
        lonely()
    message = str(raised.value)
    assert "task 'lonely'" in message
    assert "podman is not installed" in message and "docker is not installed" in message


def test_the_runtime_is_asked_of_the_plugins_so_another_plugin_can_offer_one(podman, taskloom_plugins, monkeypatch):
    """Hook taskloom_container_runtime: a runtime another plugin offers (here podman, remembering what it ran)
    runs the container when named; a name no plugin offers is an error naming the task and the name."""
    from taskloom_container.runtime import available_runtime

    ran = []

    class Recording:
        def __init__(self) -> None:
            self.inner = available_runtime("podman")

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def run(self, entity, image, command, **options):
            ran.append((entity, image))
            return self.inner.run(entity, image, command, **options)

    recording = Recording()
    plugin = SimpleNamespace(
        taskloom_container_runtime=hookimpl(lambda name: recording if name == "recording" else None)
    )
    taskloom_plugins.register(plugin, name="recording-runtime")
    monkeypatch.setenv("TASKLOOM_CONTAINER_RUNTIME", "recording")
    assert _task("counted", "echo 3 > /var/outputs/n", outputs=kwtypes(n=int))() == 3
    assert [image for _, image in ran] == [IMAGE]
    monkeypatch.setenv("TASKLOOM_CONTAINER_RUNTIME", "nerdctl")
    with pytest.raises(
        ContainerRuntimeMissingError, match=r"task 'nerd'.*no installed plugin offers the container runtime 'nerdctl'"
    ):
        _task("nerd", "true")()


def test_docker_without_an_engine_is_not_chosen(podman, monkeypatch, tmp_path):
    # A docker CLI whose engine does not answer (as on these machines: /usr/local/bin/docker, no daemon).
    fake = tmp_path / "docker"
    fake.write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("TASKLOOM_CONTAINER_RUNTIME", "docker")
    with pytest.raises(
        ContainerRuntimeMissingError, match=r"docker's engine does not answer \(Cannot connect to the Docker daemon"
    ):
        _task("dockerless", "true")()
