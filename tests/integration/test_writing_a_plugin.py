"""docs/writing-a-plugin.md is executed: its files are written out, pip-installed, run, tested and packaged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

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


def page_output(command: str) -> str:
    """What the page says ``$ command`` prints."""
    for language, body in BLOCK.findall(PAGE.read_text()):
        if language == "text" and body.startswith(f"$ {command}\n"):
            return body.split("\n", 1)[1]
    raise AssertionError(f"the page shows no output of {command!r}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The page's plugin, written out and pip-installed (not editable) into a directory of its own."""
    project = tmp_path_factory.mktemp("taskloom-money")
    for relative, source in page_files().items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(source)
    site = project.parent / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), "."],
        cwd=project,
        check=True,
        capture_output=True,
    )
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), environment.get("PYTHONPATH", "")]))
    environment["XDG_CACHE_HOME"] = str(project.parent / "cache")
    environment["TASKLOOM_DATA_DIR"] = str(project.parent / "data")
    return project, environment


def run(arguments: list[str], project: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(arguments, cwd=project, env=environment, capture_output=True, text=True, timeout=300)


def loom(*arguments: str) -> list[str]:
    return [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments]


def test_the_page_holds_a_whole_plugin():
    assert {"pyproject.toml", "taskloom_money/hooks.py", "taskloom_money/money.py", "ledger.py"} <= set(page_files())


def test_the_installed_plugin_runs_the_page_s_program_with_the_output_it_shows(installed):
    project, environment = installed
    done = run([sys.executable, "ledger.py"], project, environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout == page_output("python ledger.py")
    assert re.search(r"audit: \S*\btotal run for ana", done.stderr), done.stderr


def test_loom_lists_the_plugin_and_runs_the_workflow(installed):
    project, environment = installed
    listed = run(loom("plugins"), project, environment)
    assert listed.returncode == 0 and re.search(r"\bmoney\b", listed.stdout), listed.stdout + listed.stderr
    ran = run(loom("run", "ledger.py", "bill", "--first", "tea", "--second", "cake"), project, environment)
    assert ran.returncode == 0, ran.stderr
    assert "Money(amount=Decimal('7.70'), currency='EUR')" in ran.stdout


def test_the_page_s_test_passes_against_the_installed_plugin(installed):
    project, environment = installed
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], project, environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_packaged_template_carries_the_task_type_and_its_custom_field(installed):
    from flyteidl.admin import task_pb2
    from google.protobuf.json_format import MessageToDict

    project, environment = installed
    done = run(loom("package", "ledger.py", "-o", "ledger.tgz"), project, environment)
    assert done.returncode == 0, done.stderr
    templates = {}
    with tarfile.open(project / "ledger.tgz") as archive:
        for member in archive.getmembers():
            if member.name.endswith("_1.pb"):
                spec = task_pb2.TaskSpec()
                spec.ParseFromString(archive.extractfile(member).read())
                templates[spec.template.id.name] = spec.template
    total = templates["ledger.total"]
    assert total.type == "audited"
    assert MessageToDict(total.custom) == {"owner": "ana"}
    assert templates["ledger.price"].type == "python-task"
    assert MessageToDict(total.interface)["inputs"]["variables"]["a"]["type"] == {"simple": "STRING"}
