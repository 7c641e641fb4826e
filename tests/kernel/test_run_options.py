"""Plugins add options to ``loom run`` (hook taskloom_run_options), each handing its value over as an
environment variable."""

from __future__ import annotations

import os
import textwrap
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from taskloom.cli import cli
from taskloom.extend import PluginWarning, hookimpl, run_option
from taskloom.run import run_command

# The file says what it sees when loom run loads it (after the options are parsed), so the test needs no
# executor: the kernel's tests run without taskloom-local too.
PROGRAM = textwrap.dedent(
    """
    import os
    from taskloom import task

    print("endpoint:", os.environ.get("TASKLOOM_DEMO_ENDPOINT"), "verbose:", os.environ.get("TASKLOOM_DEMO_LOUD"))

    @task
    def where() -> None:
        pass
    """
)


@pytest.fixture
def demo_options(taskloom_plugins, monkeypatch):
    monkeypatch.delenv("TASKLOOM_DEMO_ENDPOINT", raising=False)
    monkeypatch.delenv("TASKLOOM_DEMO_LOUD", raising=False)
    monkeypatch.setattr(run_command, "_plugin_options", None)  # asked again of this test's plugins
    options = [
        run_option("--demo-endpoint", envvar="TASKLOOM_DEMO_ENDPOINT", metavar="HOST:PORT", help="Where demo runs."),
        run_option("--demo-loud", envvar="TASKLOOM_DEMO_LOUD", is_flag=True, help="Say more."),
    ]
    plugin = SimpleNamespace(taskloom_run_options=hookimpl(lambda: options))
    taskloom_plugins.register(plugin, name="demo")
    yield
    run_command._plugin_options = None
    os.environ.pop("TASKLOOM_DEMO_ENDPOINT", None)
    os.environ.pop("TASKLOOM_DEMO_LOUD", None)


def test_a_plugin_option_sets_its_variable_before_the_run(demo_options, tmp_path):
    program = tmp_path / "demo_program.py"
    program.write_text(PROGRAM)
    result = CliRunner().invoke(cli, ["run", str(program), "--demo-endpoint", "127.0.0.1:8000", "--demo-loud"])
    assert result.exit_code == 0, result.output
    assert "endpoint: 127.0.0.1:8000 verbose: 1" in result.output


def test_an_option_not_given_leaves_its_variable_alone(demo_options, tmp_path):
    program = tmp_path / "demo_program.py"
    program.write_text(PROGRAM)
    result = CliRunner().invoke(cli, ["run", str(program)])
    assert result.exit_code == 0, result.output
    assert "endpoint: None verbose: None" in result.output


def test_the_help_of_loom_run_shows_the_option_and_its_variable(demo_options):
    result = CliRunner().invoke(cli, ["run", "--help"])
    assert result.exit_code == 0, result.output
    assert "--demo-endpoint HOST:PORT" in result.output
    assert "$TASKLOOM_DEMO_ENDPOINT" in result.output


def test_an_option_loom_run_has_already_is_left_out_with_a_warning(taskloom_plugins, monkeypatch):
    monkeypatch.setattr(run_command, "_plugin_options", None)
    clash = run_option("--executor", envvar="TASKLOOM_DEMO_EXECUTOR", help="Taken.")
    taskloom_plugins.register(SimpleNamespace(taskloom_run_options=hookimpl(lambda: [clash])), name="clash")
    with pytest.warns(PluginWarning, match="--executor of a plugin left out"):
        params = run_command.get_params(run_command.make_context("run", [], resilient_parsing=True))
    assert clash not in params
    assert next(p for p in params if "--executor" in p.opts).name == "executor"
    run_command._plugin_options = None
