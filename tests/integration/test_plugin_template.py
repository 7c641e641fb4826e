"""plugin-template/ and ``loom plugin new`` (issue 22, points 1 and 2).

The quick tests render the template with the kernel of this tree and check what comes out: the files and names a
plugin needs, and that the rendered plugin passes ruff, mypy and its own tests as rendered. The slow test is the
user story end to end: a fresh virtual environment, the kernel installed (not editable) from this tree, a plugin
rendered by that installed kernel's ``loom plugin new``, installed, tested, run, packaged and listed; then copies
broken on purpose, each reported by name while workflows still run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from taskloom.plugin_template import TEMPLATE, PluginTemplateError, render_plugin
from taskloom.plugins import PLUGIN_API
from tests.integration.installing import install_command
from tests.integration.subprocesses import packaged_templates

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def loom(*arguments: str) -> list[str]:
    return [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments]


def run(command: list[str], cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    # Not the TOX_* variables of a tox session running this test (`tox -e template`): the rendered plugin's
    # own tox would take TOX_WORK_DIR and make its environments in the outer session's directory.
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOX_")}
    env.update(environment)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_kernel_s_template_is_the_repository_s_plugin_template():
    assert (TEMPLATE / "copier.yml").samefile(ROOT / "plugin-template" / "copier.yml")


def test_loom_plugin_new_renders_a_plugin_distribution_named_after_its_argument(tmp_path):
    done = run(loom("plugin", "new", "geo_shapes", "--path", "out", "--author", "Ana"), tmp_path)
    assert done.returncode == 0, done.stderr
    plugin = tmp_path / "out"
    project = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    assert project["name"] == "taskloom-geo-shapes"
    assert project["authors"] == [{"name": "Ana"}]
    assert project["dependencies"] == ["taskloom-kernel>=0.1.0,<0.2"]
    assert project["entry-points"]["taskloom.plugins"] == {"geo_shapes": "taskloom_geo_shapes.hooks"}
    assert project["entry-points"]["taskloom.names"] == {
        "Money": "taskloom_geo_shapes.money:Money",
        "Audited": "taskloom_geo_shapes.audited:Audited",
    }
    package = plugin / "taskloom_geo_shapes"
    assert (package / "py.typed").is_file()
    assert f'TASKLOOM_API = "{PLUGIN_API}"' in (package / "hooks.py").read_text()
    for name in ("README.md", "tox.ini", ".pre-commit-config.yaml", ".gitignore", "tests/test_geo_shapes.py"):
        assert (plugin / name).is_file(), name
    assert "taskloom-kernel==0.1.0" in (plugin / "tox.ini").read_text()
    answers = (plugin / ".copier-answers.yml").read_text()
    assert "name: geo_shapes" in answers and "kernel_min: 0.1.0" in answers
    assert not list(plugin.rglob("*.jinja"))


def test_the_default_directory_is_the_distribution_s_name(tmp_path):
    done = run(loom("plugin", "new", "geo"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "taskloom-geo" / "taskloom_geo" / "hooks.py").is_file()


@pytest.mark.parametrize("name", ["Geo", "2d", "geo-shapes", "geo shapes", ""])
def test_a_name_that_cannot_be_a_package_is_refused_naming_it(tmp_path, name):
    with pytest.raises(PluginTemplateError, match=f"NAME expects lower-case letters.*got {name!r}"):
        render_plugin(name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_invalid_lowest_kernel_version_is_refused_naming_it(tmp_path):
    with pytest.raises(PluginTemplateError, match="write a version such as 0.1.0 .got 'latest'"):
        render_plugin("geo", tmp_path / "out", kernel_min="latest")
    assert not (tmp_path / "out").exists()


def test_a_directory_that_is_not_empty_is_left_alone(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    done = run(loom("plugin", "new", "geo", "--path", str(tmp_path)), tmp_path)
    assert done.returncode == 1
    assert "exists and is not empty" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mine.txt"]


def test_without_copier_the_command_names_what_to_install(tmp_path):
    # copier made unimportable, as in an environment with the kernel alone.
    program = "import sys; sys.modules['copier'] = None; from taskloom.cli import main; main()"
    done = run([sys.executable, "-c", program, "plugin", "new", "geo"], tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: loom plugin new needs copier: pip install 'taskloom-kernel[template]'"


def test_the_lowest_kernel_version_sets_the_dependency_range_and_the_tox_floor(tmp_path):
    plugin = render_plugin("geo", tmp_path / "out", kernel_min="1.4")
    assert tomllib.loads((plugin / "pyproject.toml").read_text())["project"]["dependencies"] == [
        "taskloom-kernel>=1.4,<2"
    ]
    assert "deps = taskloom-kernel==1.4\n" in (plugin / "tox.ini").read_text()


def test_the_rendered_plugin_passes_ruff_mypy_and_its_own_tests(tmp_path):
    plugin = render_plugin("ledger", tmp_path / "taskloom-ledger")
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        done = run([str(BIN / command[0]), *command[1:]], plugin)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    # Not installed here: its package comes from the path, its hooks from the test's own registration.
    done = run([sys.executable, "-m", "pytest", "-q"], plugin, PYTHONPATH=str(plugin))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b7 passed\b", done.stdout), done.stdout


# --- end to end: a fresh virtual environment, nothing editable ------------------------------------------------

WORKFLOW = """\
from taskloom import task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def twice(x: int) -> int:
    return inc(x=inc(x=x))
"""


class Venv:
    """A fresh virtual environment and a work directory, with the environment variables its commands run under."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "venv" / "bin"
        self.work = root / "work"
        self.work.mkdir()
        self.environment = {
            # the developer's editable checkout must not leak into the fresh environment
            "PYTHONPATH": "",
            "VIRTUAL_ENV": str(root / "venv"),
            "XDG_CACHE_HOME": str(root / "cache"),
            "TASKLOOM_DATA_DIR": str(root / "data"),
        }

    def run(self, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        program = str(self.bin / command[0]) if (self.bin / command[0]).exists() else command[0]
        return run([program, *command[1:]], cwd or self.work, **self.environment)

    def check(self, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        done = self.run(*command, cwd=cwd)
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
        return done

    def plugins(self) -> dict[str, dict[str, object]]:
        return {row["name"]: row for row in json.loads(self.check("loom", "plugins", "--json").stdout)}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """The kernel, types, local and flyte installed from this tree as wheels, and a plugin rendered by that kernel.

    The environment lives under the temporary directory, where stevedore keeps no entry-point cache (DESIGN §3):
    every command reads the installed metadata afresh, as after a ``pip install``.
    """
    environment = Venv(tmp_path_factory.mktemp("fresh"))
    venv.EnvBuilder(with_pip=True).create(environment.root / "venv")
    wheels = environment.root / "wheels"
    sources = [ROOT / "kernel", *(ROOT / "plugins" / name for name in ("types", "local", "flyte"))]
    # One setuptools for every build instead of an isolated build environment per distribution (minutes saved).
    install = install_command(str(environment.bin / "python"))
    environment.check(*install, "setuptools>=77", "wheel")
    build = ("--no-build-isolation",)
    environment.check("python", "-m", "pip", "wheel", "-q", *build, "--no-deps", "-w", str(wheels), *map(str, sources))
    kernel = next(wheels.glob("taskloom_kernel-*.whl"))
    others = sorted(str(path) for path in wheels.glob("*.whl") if path != kernel)
    environment.check(*install, f"{kernel}[template]", *others)
    # The installed kernel renders its own copy of the template (package data), not this checkout's.
    environment.check("loom", "plugin", "new", "ledgerx", "--author", "Ana")
    plugin = environment.work / "taskloom-ledgerx"
    environment.check(*install, *build, f"{plugin}[testing]")
    return environment, plugin


@pytest.mark.slow
def test_the_installed_kernel_renders_the_template_from_its_package_data(fresh):
    environment, plugin = fresh
    answers = (plugin / ".copier-answers.yml").read_text()
    assert f"_src_path: {environment.root / 'venv'}" in answers, answers
    located = environment.check("python", "-c", "import taskloom_ledgerx; print(taskloom_ledgerx.__file__)")
    assert "site-packages" in located.stdout


@pytest.mark.slow
def test_the_rendered_plugin_s_own_tests_pass_against_the_installed_kernel(fresh):
    environment, plugin = fresh
    # The pytest script, not `python -m pytest`: the directory must not shadow the installed package.
    done = environment.check("pytest", "-q", cwd=plugin)
    assert re.search(r"\b7 passed\b", done.stdout), done.stdout


@pytest.mark.slow
def test_loom_run_uses_the_plugin_s_task_type_and_parses_its_type_from_text(fresh):
    environment, plugin = fresh
    done = environment.check(
        "loom", "run", "examples/ledger.py", "bill", "--item", "tea", "--tip", "0.50 EUR", cwd=plugin
    )
    assert done.stdout.strip() == "Money(amount=Decimal('3.70'), currency='EUR')"
    assert re.search(r"audit: \S*total run for ana", done.stderr), done.stderr
    refused = environment.run("loom", "run", "examples/ledger.py", "bill", "--item", "tea", "--tip", "lots", cwd=plugin)
    assert refused.returncode == 2
    assert "input 'tip'" in refused.stderr and "expected an amount such as '12.50 EUR', got 'lots'" in refused.stderr


@pytest.mark.slow
def test_loom_package_writes_the_plugin_s_task_type_as_flyteidl_reads_it(fresh):
    from google.protobuf.json_format import MessageToDict

    environment, plugin = fresh
    environment.check("loom", "package", "examples/ledger.py", "-o", "ledger.tgz", cwd=plugin)
    templates = packaged_templates(plugin / "ledger.tgz")
    total = templates["ledger.total"]
    assert total.type == "audited"
    assert MessageToDict(total.custom) == {"owner": "ana"}
    assert MessageToDict(total.interface)["inputs"]["variables"]["b"]["type"] == {"simple": "STRING"}
    assert templates["ledger.price"].type == "python-task"


@pytest.mark.slow
def test_loom_plugins_lists_the_installed_plugin_with_its_hooks(fresh):
    environment, _plugin = fresh
    row = environment.plugins()["ledgerx"]
    assert (row["distribution"], row["version"], row["state"], row["error"]) == (
        "taskloom-ledgerx",
        "0.1.0",
        "loaded",
        None,
    )
    assert set(row["hooks"]) == {"taskloom_type_transformers", "taskloom_task_class", "taskloom_node_finished"}


@pytest.mark.slow
def test_the_rendered_tox_ini_tests_the_plugin_against_the_lowest_and_the_latest_kernel(fresh):
    environment, plugin = fresh
    environment.check(*install_command(str(environment.bin / "python")), "tox>=4")
    # taskloom-kernel is not on the index here: the wheels of this tree stand in for it, as the tox.ini says.
    wheels = environment.root / "wheels"
    done = environment.run("tox", "-q", "-e", "kernel-lowest,kernel-latest", cwd=plugin)
    assert done.returncode != 0 and "taskloom-kernel" in done.stdout + done.stderr  # not found without them
    environment.environment["PIP_FIND_LINKS"] = str(wheels)
    try:
        done = environment.check("tox", "-e", "kernel-lowest,kernel-latest", cwd=plugin)
    finally:
        del environment.environment["PIP_FIND_LINKS"]
    assert re.search(r"kernel-lowest: OK", done.stdout) and re.search(r"kernel-latest: OK", done.stdout), done.stdout
    assert len(re.findall(r"\b7 passed\b", done.stdout)) == 2, done.stdout
    lowest = environment.check(str(plugin / ".tox" / "kernel-lowest" / "bin" / "python"), "-m", "pip", "list")
    assert re.search(r"^taskloom-kernel +0\.1\.0$", lowest.stdout, re.MULTILINE), lowest.stdout


@pytest.mark.slow
def test_the_rendered_pre_commit_configuration_is_valid(fresh):
    environment, plugin = fresh
    environment.check(*install_command(str(environment.bin / "python")), "pre-commit")
    environment.check("pre-commit", "validate-config", ".pre-commit-config.yaml", cwd=plugin)
    broken = plugin.parent / "broken-pre-commit.yaml"
    broken.write_text((plugin / ".pre-commit-config.yaml").read_text().replace("hooks:", "hookz:", 1))
    assert environment.run("pre-commit", "validate-config", str(broken), cwd=plugin).returncode != 0


def break_copy(environment: Venv, name: str, breakage: tuple[str, str, str]) -> Path:
    """Render the template as ``name``, replace one line of its hooks module, and drop its ``taskloom.names``."""
    environment.check("loom", "plugin", "new", name)
    copy = environment.work / f"taskloom-{name.replace('_', '-')}"
    path, old, new = breakage
    source = (copy / path).read_text()
    assert old in source, f"the template no longer has {old!r} in {path}"
    (copy / path).write_text(source.replace(old, new))
    # Its names would be duplicates of the working plugin's (Money, Audited): the first one installed wins.
    pyproject = (copy / "pyproject.toml").read_text()
    pyproject = re.sub(r'\[project\.entry-points\."taskloom\.names"\]\n(.+\n)+', "", pyproject)
    (copy / "pyproject.toml").write_text(pyproject)
    return copy


@pytest.mark.slow
def test_broken_plugins_are_reported_by_name_while_workflows_still_run(fresh):
    environment, plugin = fresh
    copies = [
        break_copy(
            environment,
            "broken_import",
            (
                "taskloom_broken_import/hooks.py",
                "from taskloom.extend import hookimpl\n",
                "from taskloom.extend import hookimpl\nimport taskloom_no_such_module\n",
            ),
        ),
        break_copy(
            environment,
            "broken_hook",
            (
                "taskloom_broken_hook/hooks.py",
                "def taskloom_node_finished(event: NodeEvent)",
                "def taskloom_node_finished(event: NodeEvent, node: str)",
            ),
        ),
        break_copy(
            environment,
            "broken_api",
            ("taskloom_broken_api/hooks.py", f'TASKLOOM_API = "{PLUGIN_API}"', 'TASKLOOM_API = "99.0"'),
        ),
    ]
    environment.check(
        *install_command(str(environment.bin / "python")), "--no-build-isolation", "--no-deps", *map(str, copies)
    )

    rows = environment.plugins()
    assert rows["ledgerx"]["state"] == "loaded"
    failed = {name: str(row["error"]) for name, row in rows.items() if row["state"] == "failed"}
    assert set(failed) == {"broken_import", "broken_hook", "broken_api"}, rows
    assert "ModuleNotFoundError" in failed["broken_import"] and "taskloom_no_such_module" in failed["broken_import"]
    assert "taskloom_node_finished" in failed["broken_hook"] and "node" in failed["broken_hook"]
    assert "needs plugin API 99.0" in failed["broken_api"]
    listing = environment.check("loom", "plugins").stdout
    for name in failed:
        distribution = f"taskloom-{name.replace('_', '-')}"
        assert re.search(rf"^  {name} \({distribution} 0\.1\.0\): \S", listing, re.MULTILINE), listing

    ran = environment.check("loom", "run", "examples/ledger.py", "bill", "--item", "cake", "--tip", "1 EUR", cwd=plugin)
    assert ran.stdout.strip() == "Money(amount=Decimal('5.50'), currency='EUR')"
    (environment.work / "other.py").write_text(WORKFLOW)
    assert environment.check("loom", "run", "other.py", "twice", "--x", "1").stdout.strip() == "3"


def git(*arguments: str, cwd: Path) -> None:
    identity = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    done = run(["git", *arguments], cwd, **identity)
    assert done.returncode == 0, done.stderr


def test_a_rendered_plugin_takes_a_later_template_with_copier_update_keeping_its_own_changes(tmp_path):
    import copier

    # The template published as a repository of its own (`git subtree split --prefix plugin-template`), tagged.
    published = tmp_path / "template"
    shutil.copytree(ROOT / "plugin-template", published)
    git("init", "-q", "-b", "main", cwd=published)
    git("add", "-A", cwd=published)
    git("commit", "-q", "-m", "v1", cwd=published)
    git("tag", "v1", cwd=published)

    plugin = render_plugin("geo", tmp_path / "taskloom-geo")
    # What docs/writing-a-plugin.md tells an author to do once: point the answers at the published template.
    answers = plugin / ".copier-answers.yml"
    answers.write_text(
        re.sub(r"^_src_path: .*$", f"_commit: v1\n_src_path: {published}", answers.read_text(), flags=re.MULTILINE)
    )
    (plugin / "taskloom_geo" / "audited.py").write_text(
        (plugin / "taskloom_geo" / "audited.py").read_text().replace('task_type="audited"', 'task_type="geo-audited"')
    )
    git("init", "-q", "-b", "main", cwd=plugin)
    git("add", "-A", cwd=plugin)
    git("commit", "-q", "-m", "rendered", cwd=plugin)

    ignore = published / "template" / ".gitignore"
    ignore.write_text(ignore.read_text() + "*.tgz\n")
    git("commit", "-q", "-am", "v2", cwd=published)
    git("tag", "v2", cwd=published)

    copier.run_update(str(plugin), defaults=True, overwrite=True, quiet=True, unsafe=False)
    assert "*.tgz" in (plugin / ".gitignore").read_text()
    assert 'task_type="geo-audited"' in (plugin / "taskloom_geo" / "audited.py").read_text()
    assert "_commit: v2" in answers.read_text()
