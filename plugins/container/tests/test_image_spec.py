"""ImageSpec: flytekit's fields, flytekit's tag, is_container(), and the image name tasks' templates carry."""

from __future__ import annotations

import json
import subprocess

import pytest
from plugins.flyte.tests.flytekit_reference import flytekit_python
from taskloom import SerializationSettings, task
from taskloom.extend import ExecutionState, FlyteContextManager, ValidationError

from taskloom_container.container_task import ContainerTask
from taskloom_container.image_spec import ImageSpec

# Specs as a flytekit program writes them: the keyword arguments of each.
SPECS = [
    {},
    {"name": "My-Image", "registry": "localhost:30000"},
    {
        "name": "trainer",
        "packages": ["pandas==2.2.3", "scikit-learn"],
        "apt_packages": ["git", "curl"],
        "python_version": "3.11",
        "registry": "ghcr.io/Example",
        "env": {"A": "1", "B": "two"},
        "commands": ["echo hi", "mkdir /data"],
        "base_image": "localhost/base:1",
    },
    {"name": "formatted", "tag_format": "v1-{spec_hash}", "pip_index": "https://pypi.example/simple"},
    {"name": "child", "base_image": {"name": "parent", "packages": ["numpy"], "registry": "localhost:5000"}},
    {"name": "with-requirements", "requirements": "REQUIREMENTS"},
    {"name": "secrets-do-not-count", "pip_secret_mounts": [("a", "/b")], "builder": "envd"},
]

_FLYTEKIT_SIDE = """
import json, sys
from flytekit import ImageSpec

def build(arguments):
    base = arguments.get("base_image")
    if isinstance(base, dict):
        arguments = {**arguments, "base_image": ImageSpec(**base)}
    if "pip_secret_mounts" in arguments:
        arguments["pip_secret_mounts"] = [tuple(pair) for pair in arguments["pip_secret_mounts"]]
    return ImageSpec(**arguments)

specs = [build(arguments) for arguments in json.loads(sys.argv[1])]
print(json.dumps([[spec.id, spec.tag, spec.image_name()] for spec in specs]))
"""


def _ours(arguments: dict) -> ImageSpec:
    base = arguments.get("base_image")
    if isinstance(base, dict):
        arguments = {**arguments, "base_image": ImageSpec(**base)}
    if "pip_secret_mounts" in arguments:
        arguments = {**arguments, "pip_secret_mounts": [tuple(pair) for pair in arguments["pip_secret_mounts"]]}
    return ImageSpec(**arguments)


def _with_requirements(tmp_path) -> list[dict]:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pandas==2.2.3\nrequests\n\n")
    return [
        {**spec, "requirements": str(requirements)} if spec.get("requirements") == "REQUIREMENTS" else spec
        for spec in SPECS
    ]


@pytest.mark.slow  # flytekit computes its side in its own virtual environment
def test_ids_tags_and_image_names_are_flytekits(tmp_path):
    specs = _with_requirements(tmp_path)
    done = subprocess.run(
        [str(flytekit_python()), "-c", _FLYTEKIT_SIDE, json.dumps(specs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout.strip().splitlines()[-1])
    actual = [[spec.id, spec.tag, spec.image_name()] for spec in map(_ours, specs)]
    assert actual == expected


def test_the_tag_changes_with_the_content_and_not_with_the_registry_config(tmp_path):
    spec = ImageSpec(name="x", packages=["a"], registry="localhost:30000")
    assert spec.tag == ImageSpec(name="x", packages=["a"], registry="localhost:30000").tag
    assert spec.tag != ImageSpec(name="x", packages=["a", "b"], registry="localhost:30000").tag
    assert spec.tag == ImageSpec(name="x", packages=["a"], registry="localhost:30000", registry_config="c.json").tag
    assert spec.with_packages("b").tag == ImageSpec(name="x", packages=["a", "b"], registry="localhost:30000").tag
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("a\n")
    first = ImageSpec(name="x", requirements=str(requirements)).tag
    requirements.write_text("a\nb\n")
    assert ImageSpec(name="x", requirements=str(requirements)).tag != first


def test_the_image_name_is_registry_name_and_tag_lower_cased():
    spec = ImageSpec(name="Trainer", registry="GHCR.io/Team", tag_format="{spec_hash}-gpu")
    assert spec.image_name() == f"ghcr.io/team/trainer:{spec.tag}"
    assert spec.tag.endswith("-gpu")


def test_an_invalid_registry_or_list_field_is_refused_naming_it():
    with pytest.raises(ValidationError, match=r"ImageSpec 'x': registry 'not a registry'"):
        ImageSpec(name="x", registry="not a registry")
    with pytest.raises(ValidationError, match=r"ImageSpec 'x': packages expects a list of str"):
        ImageSpec(name="x", packages="pandas")  # type: ignore[arg-type]


def test_copying_sources_is_refused_rather_than_tagged_unlike_flytekit(tmp_path):
    spec = ImageSpec(name="x", source_root=str(tmp_path))
    with pytest.raises(ValidationError, match="source_root and copy"):
        spec.image_name()


def test_is_container_is_true_locally_and_inside_a_container_only_for_its_own_image(monkeypatch):
    spec = ImageSpec(name="x", packages=["a"])
    assert spec.is_container()
    context = FlyteContextManager.current_context()
    in_a_container = context.with_execution_state(
        context.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION)
    )
    with FlyteContextManager.with_context(in_a_container):
        monkeypatch.setenv("_F_IMG_ID", "another image's id")
        assert not spec.is_container()
        monkeypatch.setenv("_F_IMG_ID", spec.id)
        assert spec.is_container()


def test_a_task_s_template_names_the_spec_s_image():
    spec = ImageSpec(name="trainer", packages=["numpy"], registry="localhost:30000")

    @task(container_image=spec)
    def train(x: int) -> int:
        return x

    settings = SerializationSettings.for_image("ghcr.io/example/image:1", "v1")
    assert train.to_task_template(settings).container.image == f"localhost:30000/trainer:{spec.tag}"
    raw = ContainerTask(name="raw", image=spec, command=["true"])
    assert raw.to_task_template(settings).container.image == f"localhost:30000/trainer:{spec.tag}"
