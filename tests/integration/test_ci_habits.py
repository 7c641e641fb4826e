"""The habits CI holds the tree to: hypothesis profiles chosen by the environment, slow tests marked
so a developer can skip them, and the linters run before the tests with the same pinned ruff as the
pre-commit hooks."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]
PROFILE_VARIABLE = "TASKLOOM_HYPOTHESIS_PROFILE"
# The fixtures that package the example programs with flytekit, in its own virtual environment.
FLYTEKIT_FIXTURES = {"flytekit_package", "workflow_files", "summary", "packages"}
# ...and the functions that package or run with it.
FLYTEKIT_FUNCTIONS = {"package_with_flytekit", "flytekit_python"}
SLOW_FILES = [
    "plugins/flyte/tests/test_flytekit_parity.py",
    "plugins/flyte/tests/test_flytekit_reference.py",
    "plugins/s3/tests/test_streaming.py",
    "tests/integration/test_arrow_streaming.py",
]


def run_pytest(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh interpreter from the root of the tree, so that the root conftest.py applies."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *arguments],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- hypothesis profiles ---------------------------------------------------------------------


def test_hypothesis_runs_under_the_profile_the_environment_names(request):
    chosen = request.config.getoption("--hypothesis-profile") or os.environ.get(PROFILE_VARIABLE) or "dev"
    assert settings.get_current_profile_name() == chosen
    current = settings.default
    # Both profiles run the same examples, without deadline or too_slow check.
    assert (current.max_examples, current.deadline) == (40, None)
    assert [check.name for check in current.suppress_health_check] == ["too_slow"]
    if chosen == "ci":
        assert (current.derandomize, current.database, current.print_blob) == (True, None, True)
    else:
        assert not current.derandomize and current.database is not None


@pytest.mark.parametrize(
    ("variable", "option", "expected"),
    [("ci", None, "ci"), ("dev", None, "dev"), ("", None, "dev"), ("ci", "dev", "dev")],
    ids=["ci", "dev", "unset", "option-wins"],
)
def test_the_profile_follows_the_variable_and_the_option_overrides_it(variable, option, expected):
    node = "tests/integration/test_ci_habits.py::test_hypothesis_runs_under_the_profile_the_environment_names"
    arguments = [node] + ([f"--hypothesis-profile={option}"] if option else [])
    done = run_pytest(*arguments, env={PROFILE_VARIABLE: variable})
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b1 passed\b", done.stdout), done.stdout


def test_an_unknown_profile_is_a_usage_error_naming_the_variable():
    done = run_pytest("--co", "tests/integration/test_ci_habits.py", env={PROFILE_VARIABLE: "fast"})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "TASKLOOM_HYPOTHESIS_PROFILE: expected 'dev' or 'ci', got 'fast'" in done.stderr


# --- slow tests --------------------------------------------------------------------------------


def _collected(*arguments: str) -> set[str]:
    done = run_pytest("--co", "--strict-markers", *arguments, *SLOW_FILES)
    assert done.returncode == 0, done.stdout + done.stderr
    return {line for line in done.stdout.splitlines() if "::" in line}


def _tests_using_flytekit(path: str) -> set[str]:
    """The tests of a module that ask for a fixture that needs flytekit's virtual environment, or call
    one of the functions that create it."""
    tree = ast.parse((ROOT / path).read_text())
    return {
        f"{path}::{node.name}"
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and node.name.startswith("test_")
        and (
            FLYTEKIT_FIXTURES & {argument.arg for argument in node.args.args}
            or FLYTEKIT_FUNCTIONS
            & {
                call.func.id
                for call in ast.walk(node)
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            }
        )
    }


def test_tests_that_need_flytekit_or_move_a_gib_are_marked_slow_and_nothing_else():
    slow, fast = _collected("-m", "slow"), _collected("-m", "not slow")
    needing_flytekit = set().union(*(_tests_using_flytekit(path) for path in SLOW_FILES))
    assert needing_flytekit >= {f"{SLOW_FILES[0]}::test_the_graphs_interfaces_and_literal_types_are_the_same"}
    one_gib = "plugins/s3/tests/test_streaming.py::test_a_1_gib_file_is_uploaded_and_downloaded_with_bounded_memory"
    # Writes a 1e7-row table and reads it back from files and S3, in four fresh interpreters.
    ten_million_rows = (
        "tests/integration/test_arrow_streaming.py::"
        "test_a_1e7_row_dataset_streams_from_files_and_s3_with_bounded_memory"
    )
    big = {one_gib, ten_million_rows}
    # A parametrized or hypothesis test's id carries its parameters; the rest are plain functions.
    assert {name.split("[")[0] for name in slow} == needing_flytekit | big
    assert not {name.split("[")[0] for name in fast} & (needing_flytekit | big)
    assert fast, "the fast tests of these files were deselected too"


def test_the_slow_marker_is_registered_with_a_description():
    done = run_pytest("--markers")
    assert re.search(r"^@pytest\.mark\.slow: .*-m 'not slow' skips them", done.stdout, re.MULTILINE), done.stdout


# --- linters -----------------------------------------------------------------------------------


def _lint_requirements() -> list[str]:
    spec = importlib.util.spec_from_file_location("dev_install", ROOT / "dev" / "install.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LINT_REQUIREMENTS


def test_pre_commit_and_the_dev_environment_pin_the_same_ruff():
    (pin,) = [requirement for requirement in _lint_requirements() if requirement.startswith("ruff")]
    # Read without a YAML parser, which the test tools do not include: the ruff repository's block.
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    block = re.search(r"- repo: https://github.com/astral-sh/ruff-pre-commit\n(?P<body>(?: {4}.*\n)+)", config)
    assert block, config
    rev = re.search(r"^ {4}rev: v(\S+)$", block["body"], re.MULTILINE)
    assert rev and pin == f"ruff=={rev[1]}"
    assert re.findall(r"- id: (\S+)", block["body"]) == ["ruff-check", "ruff-format"]
    assert re.search(r"- id: ruff-check\n +args: \[--fix\]\n", block["body"])


def test_ci_runs_ruff_and_the_import_contracts_before_any_test():
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in commands if line and not line.startswith("#")]

    def first(pattern: str) -> int:
        return next(index for index, line in enumerate(commands) if re.search(pattern, line))

    tests = first(r"-m pytest\b")
    assert first(r"^python3 dev/install\.py$") < first(r"\.venv/bin/ruff check \.$") < tests
    assert first(r"\.venv/bin/ruff format --check \.$") < tests
    assert first(r"^\.venv/bin/lint-imports\b") < tests
    assert first(r"^\.venv/bin/mypy\b") < tests
    assert first(r"^export TASKLOOM_HYPOTHESIS_PROFILE=ci$") < tests
    assert not any(re.search(r"-m\s+['\"]?not slow", line) for line in commands)


def test_ci_runs_the_readme_test_command_on_every_core():
    readme = (ROOT / "README.md").read_text()
    (command,) = re.findall(r"^ {4}python3 dev/install\.py && (\.venv/bin/python -m pytest.*)$", readme, re.MULTILINE)
    assert "-n auto" in command.split(" -m pytest", 1)[1]
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in lines
