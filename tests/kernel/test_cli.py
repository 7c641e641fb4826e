"""The `loom` shell: help without importing plugins, plugin commands, `loom plugins`, `--version`."""

from __future__ import annotations

import json

from taskloom import __version__
from tests.kernel.distributions import make_distribution, run_loom, run_python
from tests.kernel.test_plugins import plugin_distribution


def test_help_lists_plugin_commands_without_importing_any_plugin(tmp_path):
    root = plugin_distribution(tmp_path, "alpha", command="greet")
    result = run_python(
        """
        import io, json, sys, contextlib
        from taskloom.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                main(["--help"])
            except SystemExit:
                pass
        print(json.dumps({"help": out.getvalue(),
                          "imported": sorted(m for m in sys.modules if m.startswith(("demo_", "taskloom_")))}))
        """,
        path=root,
    )
    assert result["imported"] == []
    assert "greet" in result["help"] and "plugins" in result["help"]


def test_a_plugin_command_runs_and_imports_its_plugin(tmp_path):
    root = plugin_distribution(tmp_path, "alpha", command="greet")
    done = run_loom(["greet"], path=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello from alpha"


def test_a_command_of_a_broken_plugin_is_a_clear_error(tmp_path):
    root = plugin_distribution(tmp_path, "broken", broken=True, command="greet")
    done = run_loom(["greet"], path=root, env={"PYTHONWARNINGS": "ignore"})
    assert done.returncode == 2
    assert "command 'greet' is unavailable" in done.stderr and "broken on purpose" in done.stderr
    assert "Traceback" not in done.stderr


def test_plugins_lists_distribution_version_hooks_and_failures(tmp_path):
    root = plugin_distribution(tmp_path, "alpha", command="greet")
    plugin_distribution(tmp_path, "broken", broken=True, command="other")
    done = run_loom(["plugins", "--json"], path=root)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["alpha"]["distribution"] == "demo-alpha"
    assert rows["alpha"]["version"] == "1.0"
    assert rows["alpha"]["hooks"] == ["taskloom_cli_commands"]
    assert rows["broken"]["state"] == "failed"
    assert "broken on purpose" in rows["broken"]["error"]

    table = run_loom(["plugins"], path=root).stdout
    assert "demo-alpha" in table and "taskloom_cli_commands" in table
    assert "Plugins that failed to load:" in table and "broken (demo-broken 1.0): ImportError" in table


def test_plugins_shows_disabled_plugins(tmp_path):
    root = plugin_distribution(tmp_path, "alpha")
    done = run_loom(["plugins", "--json"], path=root, env={"TASKLOOM_DISABLE_PLUGINS": "alpha"})
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["alpha"]["state"] == "disabled"


def test_version_prints_the_kernel_version():
    done = run_loom(["--version"])
    assert done.returncode == 0
    assert done.stdout.strip() == f"loom (taskloom) {__version__}"


def test_an_unknown_command_is_a_usage_error():
    done = run_loom(["no-such-command"])
    assert done.returncode == 2
    assert "No such command 'no-such-command'" in done.stderr


def test_a_taskloom_error_in_a_command_is_one_line_without_traceback(tmp_path):
    root = make_distribution(
        tmp_path,
        "demo-failing",
        files={
            "demo_failing/__init__.py": "",
            "demo_failing/hooks.py": """
                import click
                from taskloom.hookspecs import hookimpl
                from taskloom.exceptions.user import UserValueError

                @hookimpl
                def taskloom_cli_commands():
                    @click.command("explode")
                    def explode():
                        raise UserValueError("input 'rows' expects list[int], got str 'abc'")
                    return [explode]
            """,
        },
        entry_points={
            "taskloom.plugins": {"failing": "demo_failing.hooks"},
            "taskloom.commands": {"explode": "demo_failing.hooks"},
        },
    )
    done = run_loom(["explode"], path=root)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: input 'rows' expects list[int], got str 'abc'"
    verbose = run_loom(["--verbose", "explode"], path=root)
    assert "Traceback" in verbose.stderr
