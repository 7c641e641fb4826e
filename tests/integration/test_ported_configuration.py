"""flytekit's configuration names in ported programs and tests (issue 21, point 2 of the context part):
``SerializationSettings(image_config=...)``, ``ImageConfig``, ``Image`` and
``taskloom.tools.translator.get_serializable``, compared with flytekit 1.16 where both answer.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from collections import OrderedDict
from pathlib import Path

import pytest

from taskloom.configuration import DEFAULT_IMAGE, Image, ImageConfig, SerializationSettings, resolve_image
from taskloom.exceptions.user import ValidationError
from taskloom.tools.translator import TaskSpec, WorkflowSpec, get_serializable

ROOT = Path(__file__).resolve().parents[2]
FLYTEKIT_PYTHON = ROOT / ".venvs" / "flytekit-1.16" / "bin" / "python"

# A flytekit unit test's way to look at what entities become; the facts it prints are compared.
PROGRAM = """
import json
import typing
from collections import OrderedDict

from flytekit import LaunchPlan, task, workflow
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.tools.translator import get_serializable

serialization_settings = SerializationSettings(
    project="proj",
    domain="dom",
    version="123",
    image_config=ImageConfig(default_image=Image(name="default", fqn="asdf/fdsa", tag="123")),
    env={"FOO": "bar"},
)


@task(retries=3)
def t1(a: int) -> typing.NamedTuple("OutputsBC", t1_int_output=int, c=str):
    return a + 2, "world"


@task(container_image="{{.image.trainer.fqn}}:{{.image.trainer.version}}")
def train(a: int) -> int:
    return a


@workflow
def sub(a: int) -> int:
    x, _ = t1(a=a)
    return x


@workflow
def my_wf(a: int, b: str) -> typing.Tuple[int, str]:
    x, y = t1(a=a)
    return sub(a=x), b


facts = {}
task_spec = get_serializable(OrderedDict(), serialization_settings, t1)
template = task_spec.template
facts["task_id"] = [template.id.project, template.id.domain, template.id.name.rsplit(".", 1)[-1], template.id.version]
facts["image"] = template.container.image
facts["retries"] = template.metadata.retries.retries
args = list(template.container.args)
facts["args"] = args[1:args.index("--resolver")] + args[args.index("--"):]
images = ImageConfig.from_images("asdf/fdsa:123", {"trainer": "ghcr.io/acme/trainer:7"})
with_images = SerializationSettings(project="proj", domain="dom", version="123", image_config=images)
facts["trainer_image"] = get_serializable(OrderedDict(), with_images, train).template.container.image
mapping = OrderedDict()
workflow_spec = get_serializable(mapping, serialization_settings, my_wf)
facts["workflow"] = [workflow_spec.template.id.name.rsplit(".", 1)[-1], len(workflow_spec.template.nodes)]
facts["sub_workflows"] = [spec.id.name.rsplit(".", 1)[-1] for spec in workflow_spec.sub_workflows]
facts["mapped"] = sorted(type(value).__name__ for value in mapping.values() if type(value).__name__.endswith("Spec"))
plan = LaunchPlan.get_or_create(my_wf, name="my_plan", default_inputs={"b": "x"})
plan_spec = get_serializable(OrderedDict(), serialization_settings, plan)
facts["plan"] = [plan_spec.id.name, plan_spec.spec.workflow_id.name.rsplit(".", 1)[-1]]
config = ImageConfig.validate_image(None, "image", ("ghcr.io/acme/app:1", "spark=registry:5000/spark@sha256:ab"))
facts["validated"] = [(image.name, image.fqn, image.tag, image.digest, image.full) for image in config.images]
facts["found"] = config.find_image("spark").version
facts["look_up"] = Image.look_up_image_info("x", "registry:5000/team/app:3.1").full
print(json.dumps(facts))
"""


def _facts(python: Path | str, program: str, directory: Path) -> dict:
    # The same module name on both sides: it is part of the container's arguments.
    directory.mkdir()
    (directory / "serialized_program.py").write_text(textwrap.dedent(program))
    done = subprocess.run(
        [str(python), "-c", "import serialized_program"], cwd=directory, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_flytekit_serialization_test_ports(tmp_path):
    ported = _facts(sys.executable, PROGRAM.replace("from flytekit", "from taskloom"), tmp_path / "ported")
    assert ported["task_id"] == ["proj", "dom", "t1", "123"]
    assert ported["image"] == "asdf/fdsa:123"
    assert ported["retries"] == 3
    assert ported["trainer_image"] == "ghcr.io/acme/trainer:7"
    assert ported["sub_workflows"] == ["sub"]
    assert ported["mapped"] == ["TaskSpec", "WorkflowSpec", "WorkflowSpec"]
    assert ported["plan"] == ["my_plan", "my_wf"]


@pytest.mark.slow
def test_a_ported_serialization_test_reads_what_it_reads_under_flytekit(tmp_path):
    if not FLYTEKIT_PYTHON.exists():
        pytest.skip(f"flytekit 1.16 is not installed at {FLYTEKIT_PYTHON}: the comparison needs it")
    ported = _facts(sys.executable, PROGRAM.replace("from flytekit", "from taskloom"), tmp_path / "ported")
    reference = _facts(FLYTEKIT_PYTHON, PROGRAM, tmp_path / "reference")
    assert ported == reference


def test_flytekit_constructor_gives_the_images_the_translator_reads():
    settings = SerializationSettings(
        image_config=ImageConfig.auto_default_image(), project="p", domain="d", version="v", env={"A": "1"}
    )
    assert settings.default_image == DEFAULT_IMAGE
    assert settings.image_config.default_image == Image(
        name="default", fqn=DEFAULT_IMAGE.rsplit(":", 1)[0], tag="py3.11-latest"
    )
    named = SerializationSettings(image_config=ImageConfig.from_images("a/b:1", {"gpu": "a/gpu:2"}))
    assert resolve_image("{{.image.gpu}}", named) == "a/gpu:2"
    assert resolve_image(None, named) == "a/b:1"


def test_taskloom_spelling_gives_an_image_config_that_follows_replace():
    settings = SerializationSettings(default_image="registry:5000/app", images={"t": "r/t:3"})
    assert settings.image_config.default_image.full == "registry:5000/app"
    assert settings.image_config.find_image("t").tag == "3"
    changed = dataclasses.replace(settings, default_image="other:9")
    assert changed.image_config.default_image.full == "other:9"
    assert SerializationSettings.for_image("img:1", "v1", "p", "d").default_image == "img:1"


def test_image_errors_match_flytekit():
    with pytest.raises(AssertionError, match="no tag or digest"):
        Image.look_up_image_info("default", "ghcr.io/acme/app")
    with pytest.raises(ValueError, match="not both"):
        Image(name="x", fqn="a", tag="1", digest="sha256:ab")
    with pytest.raises(ValueError, match="only one default image"):
        ImageConfig.validate_image(None, "image", ("a:1", "default=b:2"))


def test_image_config_auto_reads_the_images_table_of_the_configuration_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[images]\ntrainer = "ghcr.io/acme/trainer:3"\n')
    config = ImageConfig.auto(config_file=str(path), img_name="ghcr.io/acme/app:1")
    assert config.default_image.full == "ghcr.io/acme/app:1"
    assert config.find_image("trainer").full == "ghcr.io/acme/trainer:3"
    with pytest.raises(ValidationError, match="does not exist"):
        ImageConfig.auto(config_file=str(tmp_path / "missing.toml"))


def test_get_serializable_returns_taskloom_contracts_and_refuses_what_it_cannot_honour():
    from taskloom import task, workflow

    @task
    def double(x: int) -> int:
        return 2 * x

    @workflow
    def wf(x: int) -> int:
        return double(x=double(x=x))

    settings = SerializationSettings(project="p", domain="d", version="1")
    mapping: OrderedDict = OrderedDict()
    spec = get_serializable(mapping, settings, wf)
    assert isinstance(spec, WorkflowSpec) and len(spec.template.nodes) == 2
    assert isinstance(mapping[double], TaskSpec) and list(mapping) == [double, wf]
    assert get_serializable(mapping, settings, wf) is spec  # already in the mapping: not made again
    with pytest.raises(ValidationError, match="options are not supported"):
        get_serializable(OrderedDict(), settings, double, options=object())
    with pytest.raises(ValidationError, match="expected a task, workflow or launch plan"):
        get_serializable(OrderedDict(), settings, "double")


# --- Config ----------------------------------------------------------------------------------------


def test_config_for_sandbox_and_for_endpoint_as_flytekit_builds_them():
    from taskloom.configuration import Config

    sandbox = Config.for_sandbox()
    assert (sandbox.platform.endpoint, sandbox.platform.insecure) == ("localhost:30080", True)
    assert sandbox.data_config.s3.endpoint == "http://localhost:30002"
    assert sandbox.data_config.s3.environment() == {
        "AWS_ENDPOINT_URL_S3": "http://localhost:30002",
        "AWS_ACCESS_KEY_ID": "minio",
        "AWS_SECRET_ACCESS_KEY": "miniostorage",
    }
    remote = Config.for_endpoint("flyte.example.com:443")
    assert (remote.platform.endpoint, remote.platform.insecure) == ("flyte.example.com:443", False)


def test_config_auto_reads_flytekit_variables_before_the_configuration_file(tmp_path, monkeypatch):
    from taskloom.configuration import Config

    path = tmp_path / "config.toml"
    path.write_text(
        '[platform]\nurl = "dns:///admin.internal:81"\ninsecure = true\n[s3]\nendpoint_url = "http://minio:9000"\n'
    )
    for variable in ("FLYTE_PLATFORM_URL", "FLYTE_PLATFORM_INSECURE", "FLYTE_AWS_ENDPOINT", "FLYTE_SDK_LOCAL_SANDBOX"):
        monkeypatch.delenv(variable, raising=False)
    config = Config.auto(config_file=str(path))
    assert (config.platform.endpoint, config.platform.insecure) == ("admin.internal:81", True)
    assert config.data_config.s3.endpoint == "http://minio:9000"
    monkeypatch.setenv("FLYTE_PLATFORM_URL", "other:82")
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "False")
    monkeypatch.setenv("FLYTE_SDK_LOCAL_SANDBOX", str(tmp_path))
    config = Config.auto(config_file=str(path))
    assert (config.platform.endpoint, config.platform.insecure) == ("other:82", False)
    assert config.local_sandbox_path == str(tmp_path)
    kept = Config.for_endpoint("third:83", insecure=True, config_file=str(path))
    assert (kept.platform.endpoint, kept.platform.insecure) == ("third:83", True)
    assert kept.data_config.s3.endpoint == "http://minio:9000"
