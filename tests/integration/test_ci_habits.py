"""The habits CI holds the tree to: hypothesis profiles chosen by the environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]
PROFILE_VARIABLE = "TASKLOOM_HYPOTHESIS_PROFILE"


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
