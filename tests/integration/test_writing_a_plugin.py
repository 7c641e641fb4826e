"""docs/writing-a-plugin.md is executed: the page's ``loom plugin new`` renders the template, every file the page
shows must be the file rendered, and the plugin is pip-installed (not editable), tested, run and packaged, with
the output the page shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.subprocesses import packaged_templates

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "writing-a-plugin.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def page_files() -> dict[str, str]:
    """Every code block of the page that starts with ``# file: PATH``, by path."""
    files = {}
    for _language, body in BLOCK.findall(PAGE.read_text()):
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            files[first.removeprefix("# file: ").strip()] = rest
    return files


def page_commands() -> dict[str, str]:
    """Every ``$ command`` the page shows in a text block, with what the page says it prints."""
    shown = {}
    for language, body in BLOCK.findall(PAGE.read_text()):
        if language == "text" and body.startswith("$ "):
            command, _, output = body.partition("\n")
            shown[command.removeprefix("$ ")] = output
    return shown


def page_command(prefix: str) -> tuple[list[str], str]:
    """The page's one command starting with ``prefix``, split as a shell would, and its output."""
    found = [(command, output) for command, output in page_commands().items() if command.startswith(prefix)]
    assert len(found) == 1, f"the page shows {len(found)} commands starting with {prefix!r}"
    command, output = found[0]
    return shlex.split(command), output


def loom(*arguments: str) -> list[str]:
    return [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments]


def run(arguments: list[str], cwd: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(arguments, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The plugin as the page's ``loom plugin new`` renders it, and the environment the page's commands run in."""
    directory = tmp_path_factory.mktemp("writing-a-plugin")
    environment = dict(os.environ)
    environment["XDG_CACHE_HOME"] = str(directory / "cache")
    environment["TASKLOOM_DATA_DIR"] = str(directory / "data")
    command, output = page_command("loom plugin new ")
    done = run(loom(*command[1:]), directory, environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout == output
    return directory / "taskloom-money", environment


@pytest.fixture(scope="module")
def installed(rendered):
    """The rendered plugin pip-installed (not editable) into a directory of its own, put on the path."""
    project, environment = rendered
    site = project.parent / "site"
    done = run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), "."], project, environment
    )
    assert done.returncode == 0, done.stderr
    environment = dict(environment)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), environment.get("PYTHONPATH", "")]))
    return project, environment


def test_the_page_shows_the_whole_plugin():
    assert {
        "pyproject.toml",
        "taskloom_money/hooks.py",
        "taskloom_money/money.py",
        "taskloom_money/audited.py",
        "taskloom_money/events.py",
        "tests/test_money.py",
        "tox.ini",
        "examples/ledger.py",
    } <= set(page_files())


def test_every_file_the_page_shows_is_the_file_the_template_renders(rendered):
    project, _environment = rendered
    for relative, source in page_files().items():
        assert (project / relative).read_text() == source, f"docs/writing-a-plugin.md shows another {relative}"


def test_the_page_s_tree_lists_every_rendered_file(rendered):
    project, _environment = rendered
    tree = next(body for _language, body in BLOCK.findall(PAGE.read_text()) if body.startswith("taskloom-money/\n"))
    listed, directory = set(), ""
    for line in tree.splitlines()[1:]:
        name = line.split()[0]
        if line.startswith("    "):
            listed.add(directory + name)
        elif name.endswith("/"):
            directory = name
        else:
            listed.add(name)
    assert listed == {path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()}


def test_the_installed_plugin_runs_the_page_s_program_with_the_output_it_shows(installed):
    project, environment = installed
    command, output = page_command("python ")
    done = run([sys.executable, *command[1:]], project, environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout == output
    assert re.search(r"audit: \S*\btotal run for ana", done.stderr), done.stderr


def test_loom_run_prints_what_the_page_shows_and_refuses_text_that_is_not_money(installed):
    project, environment = installed
    command, output = page_command('loom run examples/ledger.py bill --item tea --tip "0.50 EUR"')
    done = run(loom(*command[1:]), project, environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout == output
    command, output = page_command("loom run examples/ledger.py bill --item tea --tip lots")
    refused = run(loom(*command[1:]), project, environment)
    assert refused.returncode == 2
    assert refused.stderr == output


def test_loom_plugins_lists_the_plugin_with_its_hooks(installed):
    project, environment = installed
    listed = run(loom("plugins"), project, environment)
    assert listed.returncode == 0, listed.stderr
    assert re.search(
        r"^money +taskloom-money +0\.1\.0 +loaded +taskloom_node_finished, taskloom_task_class, "
        r"taskloom_type_transformers$",
        listed.stdout,
        re.MULTILINE,
    ), listed.stdout


def test_the_page_s_tests_pass_against_the_installed_plugin(installed):
    project, environment = installed
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], project, environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b7 passed\b", done.stdout), done.stdout


def test_the_packaged_template_carries_the_task_type_and_its_custom_field(installed):
    from google.protobuf.json_format import MessageToDict

    project, environment = installed
    done = run(loom("package", "examples/ledger.py", "-o", "ledger.tgz"), project, environment)
    assert done.returncode == 0, done.stderr
    templates = packaged_templates(project / "ledger.tgz")
    total = templates["ledger.total"]
    assert total.type == "audited"
    assert MessageToDict(total.custom) == {"owner": "ana"}
    assert templates["ledger.price"].type == "python-task"
    assert MessageToDict(total.interface)["inputs"]["variables"]["a"]["type"] == {"simple": "STRING"}
