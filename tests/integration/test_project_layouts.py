"""`loom run` on real project layouts (issue 21, point 10).

A file of a package runs with its relative imports, as ``pyflyte run`` runs it: the project's root is
the first directory above the file without an ``__init__.py``, and the file is imported by its dotted
module name with that root on ``sys.path``. A file outside any package imports its sibling modules;
a ``src/`` layout runs from the project's directory. Whatever fails (an import inside the user's
module or its package, a syntax error, a missing dependency, an unknown entity, a bad input) is one
line on standard error naming the file (and the module) and the cause; ``--verbose`` adds the
traceback. Each test writes a project into a temporary directory and runs ``loom run`` on it as a
user does, from another directory unless the layout says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.kernel.distributions import run_loom


def make_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> source) under ``root``; return ``root``."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())
    return root


def loom(arguments: list[str], cwd: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_loom(
        ["run", "--progress", "never", *arguments],
        cwd=cwd,
        env={
            "TASKLOOM_RECORD": "0",
            "TASKLOOM_CACHE_PATH": str(tmp_path / "cache.sqlite"),
            "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
            **env,
        },
    )


def ran(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


# A package with a helper module, a subpackage, relative and absolute imports of the project.
PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/helpers.py": """
        def scale(x: int) -> int:
            return 3 * x
        """,
    "pkg/flows.py": """
        from taskloom import task, workflow

        from .helpers import scale


        @task
        def triple(x: int) -> int:
            return scale(x)


        @workflow
        def wf(x: int = 1) -> int:
            return triple(x=x)
        """,
    "pkg/sub/__init__.py": "",
    "pkg/sub/deep.py": """
        from taskloom import task, workflow

        from pkg.flows import triple

        from ..helpers import scale


        @task
        def nine_times(x: int) -> int:
            return scale(scale(x))


        @workflow
        def wf(x: int = 1) -> int:
            return triple(x=nine_times(x=x))
        """,
}


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A directory outside the project, where loom runs from."""
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    return directory


def test_a_file_of_a_package_runs_with_its_relative_imports(tmp_path, elsewhere):
    project = make_project(tmp_path / "project", PACKAGE)
    assert ran(loom([str(project / "pkg" / "flows.py"), "wf", "--x", "2"], elsewhere, tmp_path)) == ["6"]


def test_a_file_of_a_subpackage_imports_from_its_parent_package_and_the_project(tmp_path, elsewhere):
    project = make_project(tmp_path / "project", PACKAGE)
    assert ran(loom([str(project / "pkg" / "sub" / "deep.py"), "wf", "--x", "1"], elsewhere, tmp_path)) == ["27"]


def test_the_entities_of_a_package_file_are_named_by_their_dotted_module(tmp_path, elsewhere):
    project = make_project(tmp_path / "project", PACKAGE)
    data = str(tmp_path / "data")
    arguments = [str(project / "pkg" / "flows.py"), "triple", "--x", "2"]
    ran(loom(arguments, elsewhere, tmp_path, TASKLOOM_RECORD="1", TASKLOOM_DATA_DIR=data))
    done = run_loom(["executions", "list", "--json"], env={"TASKLOOM_DATA_DIR": data})
    assert done.returncode == 0, done.stderr
    assert '"pkg.flows.triple"' in done.stdout


def test_a_file_its_package_imports_runs_once(tmp_path, elsewhere):
    project = make_project(
        tmp_path / "project",
        {
            **PACKAGE,
            "pkg/__init__.py": "from .flows import wf\n",
            "pkg/flows.py": textwrap.dedent(PACKAGE["pkg/flows.py"]) + "\nprint('flows imported')\n",
        },
    )
    assert ran(loom([str(project / "pkg" / "flows.py"), "wf", "--x", "2"], elsewhere, tmp_path)) == [
        "flows imported",
        "6",
    ]


def test_a_file_that_imports_a_sibling_module_runs_from_any_directory(tmp_path, elsewhere):
    project = make_project(
        tmp_path / "project",
        {
            "settings.py": "FACTOR = 5\n",
            "flows.py": """
                from taskloom import task

                import settings


                @task
                def scaled(x: int) -> int:
                    return settings.FACTOR * x
                """,
        },
    )
    assert ran(loom([str(project / "flows.py"), "scaled", "--x", "2"], elsewhere, tmp_path)) == ["10"]


def test_a_src_layout_project_runs_from_its_directory(tmp_path):
    project = make_project(
        tmp_path / "project",
        {
            "pyproject.toml": '[project]\nname = "mypkg"\nversion = "0"\n',
            "src/mypkg/__init__.py": "",
            "src/mypkg/numbers.py": """
                def offset() -> int:
                    return 100
                """,
            "src/mypkg/workflows/__init__.py": "",
            "src/mypkg/workflows/main.py": """
                from taskloom import task, workflow

                from mypkg.numbers import offset


                @task
                def shifted(x: int) -> int:
                    return x + offset()


                @workflow
                def wf(x: int) -> int:
                    return shifted(x=x)
                """,
        },
    )
    assert ran(loom(["src/mypkg/workflows/main.py", "wf", "--x", "1"], project, tmp_path)) == ["101"]


@pytest.mark.parametrize("where", ["json/flows.py", "json/sub/flows.py"])
def test_a_package_named_like_an_imported_module_is_refused_in_one_line(tmp_path, elsewhere, where):
    project = make_project(
        tmp_path / "project",
        {
            "json/__init__.py": "",
            "json/sub/__init__.py": "",
            where: """
                from taskloom import task


                @task
                def one() -> int:
                    return 1
                """,
        },
    )
    done = loom([str(project / where), "one"], elsewhere, tmp_path)
    line = the_error_line(done, status=1)
    assert "in the package 'json'" in line and "rename the package" in line


@pytest.mark.slow
def test_flytekit_runs_the_same_package_file_to_the_same_result(tmp_path, elsewhere):
    from plugins.flyte.tests.flytekit_reference import flytekit_python

    flytekit_project = make_project(
        tmp_path / "flytekit-project",
        {name: source.replace("from taskloom ", "from flytekit ") for name, source in PACKAGE.items()},
    )
    pyflyte = Path(flytekit_python()).parent / "pyflyte"
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(pyflyte), "run", str(flytekit_project / "pkg" / "sub" / "deep.py"), "wf", "--x", "1"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**environment, "HOME": str(tmp_path)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    ours = make_project(tmp_path / "project", PACKAGE)
    assert ran(loom([str(ours / "pkg" / "sub" / "deep.py"), "wf", "--x", "1"], elsewhere, tmp_path)) == ["27"]
    assert done.stdout.split()[-1] == "27"


# --- failures: one line without --verbose ------------------------------------------------------


def the_error_line(done: subprocess.CompletedProcess[str], status: int = 1) -> str:
    lines = done.stderr.splitlines()
    assert done.returncode == status, done.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


# Each case: files added to (or replacing those of) PACKAGE, the file and arguments to run, the exit
# status, and what the one line must say, in order.
FAILURES = {
    "import error inside the module": (
        {"pkg/flows.py": "from taskloom import task\nfrom .helpers import no_such_name\n"},
        ["pkg/flows.py", "wf"],
        1,
        ["cannot load", "pkg/flows.py (module pkg.flows)", "ImportError: cannot import name 'no_such_name'", "line 2"],
    ),
    "exception in the package's __init__": (
        {"pkg/__init__.py": "LIMIT = int('ten')\n"},
        ["pkg/flows.py", "wf"],
        1,
        [
            "cannot load",
            "pkg/flows.py (module pkg.flows)",
            "importing its package 'pkg'",
            "ValueError: invalid literal for int()",
            "pkg/__init__.py",
            "line 1",
        ],
    ),
    "syntax error in a sibling module": (
        {"pkg/helpers.py": "def scale(x):\n    return 3 *\n"},
        ["pkg/flows.py", "wf"],
        1,
        ["cannot load", "pkg/flows.py (module pkg.flows)", "SyntaxError", "helpers.py", "line 2"],
    ),
    "missing dependency": (
        {"pkg/helpers.py": "import taskloom_tests_no_such_dependency\n"},
        ["pkg/flows.py", "wf"],
        1,
        [
            "cannot load",
            "pkg/flows.py (module pkg.flows)",
            "ModuleNotFoundError: No module named 'taskloom_tests_no_such_dependency'",
            "helpers.py",
            "line 1",
        ],
    ),
    "unknown workflow name": (
        {},
        ["pkg/flows.py", "pipeline"],
        2,
        ["Invalid value for ENTITY", "pkg/flows.py defines no task or workflow named 'pipeline'", "['triple', 'wf']"],
    ),
    "input that does not parse": (
        {},
        ["pkg/flows.py", "wf", "--x", "ten"],
        2,
        [
            "Invalid value for '--x'",
            "workflow 'pkg.flows.wf': input 'x'",
            "'ten' is not a valid int",
            "see loom run pkg/flows.py wf --help",
        ],
    ),
    "missing input": (
        {},
        ["pkg/flows.py", "triple"],
        2,
        ["Missing option '--x'", "see loom run pkg/flows.py triple --help"],
    ),
    "unknown input": (
        {},
        ["pkg/flows.py", "wf", "--y", "1"],
        2,
        ["No such option '--y'", "see loom run pkg/flows.py wf --help"],
    ),
}


def assert_in_order(line: str, parts: list[str]) -> None:
    position = 0
    for part in parts:
        found = line.find(part, position)
        assert found >= 0, f"{part!r} not found after position {position} in {line!r}"
        position = found + len(part)


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failure_is_one_line_naming_the_file_and_the_cause(tmp_path, failure):
    files, arguments, status, expected = FAILURES[failure]
    project = make_project(tmp_path / "project", {**PACKAGE, **files})
    line = the_error_line(loom(arguments, project, tmp_path), status)
    assert_in_order(line, expected)


@pytest.mark.parametrize("failure", [name for name, case in FAILURES.items() if case[2] == 1])
def test_verbose_shows_the_traceback_of_a_failure_to_load(tmp_path, failure):
    files, arguments, _, _ = FAILURES[failure]
    project = make_project(tmp_path / "project", {**PACKAGE, **files})
    done = run_loom(["--verbose", "run", *arguments], cwd=project, env={"TASKLOOM_RECORD": "0"})
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert str(project / "pkg") in done.stderr  # the user's own frames are in it
