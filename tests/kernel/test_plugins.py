"""The plugin manager: discovery from entry points, lazy import, failures, blocking, priorities."""

from __future__ import annotations

import pytest

from taskloom.exceptions.system import PluginError, PluginWarning
from taskloom.hookspecs import hookimpl
from taskloom.plugins import FAILED, LOADED, PluginManager
from tests.kernel.distributions import make_distribution, run_python

HOOKS_SOURCE = """
from taskloom.hookspecs import hookimpl
import click

@hookimpl
def taskloom_cli_commands():
    @click.command("{command}")
    def hello():
        '''Say hello.'''
        click.echo("hello from {name}")
    return [hello]
"""


def plugin_distribution(root, name, *, broken=False, command="hello"):
    package = f"demo_{name}"
    source = "raise ImportError('the demo plugin is broken on purpose')\n" if broken else HOOKS_SOURCE
    return make_distribution(
        root,
        f"demo-{name}",
        files={f"{package}/__init__.py": "", f"{package}/hooks.py": source.format(command=command, name=name)},
        entry_points={
            "taskloom.plugins": {name: f"{package}.hooks"},
            "taskloom.commands": {command: f"{package}.hooks"},
        },
    )


def test_discovery_reads_metadata_without_importing_any_plugin(tmp_path):
    root = plugin_distribution(tmp_path, "alpha")
    result = run_python(
        """
        import json, sys
        from taskloom.plugins import get_plugin_manager
        records = {r.name: r.state for r in get_plugin_manager().records()}
        print(json.dumps({"records": records, "imported": [m for m in sys.modules if m.startswith(("demo_", "taskloom_"))]}))
        """,
        path=root,
    )
    assert result["records"]["alpha"] == "available"
    assert result["imported"] == []


def test_a_plugin_is_imported_when_one_of_its_hooks_is_first_needed(tmp_path):
    root = plugin_distribution(tmp_path, "alpha")
    result = run_python(
        """
        import json, sys
        from taskloom.plugins import get_plugin_manager
        manager = get_plugin_manager()
        before = "demo_alpha.hooks" in sys.modules
        commands = [c.name for p, cs in manager.collect("taskloom_cli_commands") if p.startswith(("alpha", "broken")) for c in cs]
        print(json.dumps({"before": before, "after": "demo_alpha.hooks" in sys.modules, "commands": commands,
                          "state": manager.get_record("alpha").state}))
        """,
        path=root,
    )
    assert result == {"before": False, "after": True, "commands": ["hello"], "state": "loaded"}


def test_a_plugin_that_fails_to_import_is_reported_by_name_and_skipped(tmp_path):
    root = plugin_distribution(tmp_path, "alpha")
    plugin_distribution(tmp_path, "broken", broken=True, command="broken-command")
    result = run_python(
        """
        import json, warnings
        from taskloom.plugins import get_plugin_manager
        manager = get_plugin_manager()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            commands = [c.name for p, cs in manager.collect("taskloom_cli_commands") if p.startswith(("alpha", "broken")) for c in cs]
        failed = {r.name: str(r.error) for r in manager.failures() if r.name in ("alpha", "broken")}
        print(json.dumps({"commands": commands, "failed": failed, "warnings": [str(w.message) for w in caught]}))
        """,
        path=root,
    )
    assert result["commands"] == ["hello"]
    assert result["failed"] == {"broken": "the demo plugin is broken on purpose"}
    assert any("'broken'" in message and "broken on purpose" in message for message in result["warnings"])


def test_environment_variable_blocks_plugins_by_name(tmp_path):
    root = plugin_distribution(tmp_path, "alpha")
    result = run_python(
        """
        import json, sys
        from taskloom.plugins import get_plugin_manager
        manager = get_plugin_manager()
        commands = [c.name for p, cs in manager.collect("taskloom_cli_commands") if p.startswith(("alpha", "broken")) for c in cs]
        print(json.dumps({"commands": commands, "state": manager.get_record("alpha").state,
                          "imported": "demo_alpha.hooks" in sys.modules}))
        """,
        path=root,
        env={"TASKLOOM_DISABLE_PLUGINS": "alpha, something-else"},
    )
    assert result == {"commands": [], "state": "disabled", "imported": False}


def test_configuration_file_blocks_plugins_by_name(tmp_path):
    root = plugin_distribution(tmp_path, "alpha")
    config = tmp_path / "taskloom.toml"
    config.write_text('[plugins]\ndisable = ["alpha"]\n')
    result = run_python(
        """
        import json
        from taskloom.plugins import get_plugin_manager
        print(json.dumps(get_plugin_manager().get_record("alpha").state))
        """,
        path=root,
        env={"TASKLOOM_CONFIG": str(config)},
    )
    assert result == "disabled"


def test_loading_a_disabled_plugin_is_a_clear_error(taskloom_plugins):
    taskloom_plugins.add_entry_point("ghost", "no_such_module_anywhere")
    taskloom_plugins.disable("ghost")
    with pytest.raises(PluginError, match="'ghost' is disabled"):
        taskloom_plugins.load("ghost")


def test_loading_a_missing_module_is_recorded_with_its_error(taskloom_plugins):
    taskloom_plugins.add_entry_point("ghost", "no_such_module_anywhere")
    with pytest.warns(PluginWarning, match="'ghost' skipped: ModuleNotFoundError"):
        with pytest.raises(PluginError, match="'ghost' failed to load: ModuleNotFoundError"):
            taskloom_plugins.load("ghost")
    assert taskloom_plugins.get_record("ghost").state == FAILED


class Greeter:
    def __init__(self, word, fail=False):
        self.word = word
        self.fail = fail

    @hookimpl
    def taskloom_filesystem(self, protocol):
        if self.fail:
            raise RuntimeError("storage backend exploded")
        return f"{self.word}:{protocol}"


def test_later_registered_plugins_answer_first(bare_plugins):
    bare_plugins.register(Greeter("first"), name="first")
    bare_plugins.register(Greeter("second"), name="second")
    assert bare_plugins.first_result("taskloom_filesystem", protocol="s3") == ("second", "second:s3")


def test_a_plugin_whose_hook_raises_is_marked_failed_and_the_others_still_answer(bare_plugins):
    bare_plugins.register(Greeter("good"), name="good")
    bare_plugins.register(Greeter("bad", fail=True), name="bad")
    with pytest.warns(PluginWarning, match="'bad' skipped: RuntimeError: storage backend exploded"):
        answer = bare_plugins.first_result("taskloom_filesystem", protocol="s3")
    assert answer == ("good", "good:s3")
    assert bare_plugins.get_record("bad").state == FAILED


def test_a_hook_implementation_not_matching_its_specification_fails_registration(bare_plugins):
    class Wrong:
        @hookimpl
        def taskloom_filesystem(self, protocol, unknown_argument):
            return None

    with pytest.warns(PluginWarning, match="'wrong' skipped"):
        record = bare_plugins.register(Wrong(), name="wrong")
    assert record.state == FAILED


def test_the_fixture_restores_the_previous_manager(taskloom_plugins):
    from taskloom.plugins import get_plugin_manager

    assert get_plugin_manager() is taskloom_plugins
    taskloom_plugins.register(Greeter("temporary"), name="temporary")
    assert taskloom_plugins.get_record("temporary").state == LOADED


def test_after_the_fixture_the_temporary_plugin_is_gone():
    from taskloom.plugins import get_plugin_manager

    assert get_plugin_manager().get_record("temporary") is None


def test_generation_changes_when_plugins_change():
    manager = PluginManager(discover=False)
    start = manager.generation
    manager.register(Greeter("x"), name="x")
    assert manager.generation > start
    after_register = manager.generation
    manager.unregister("x")
    assert manager.generation > after_register


DISCOVER = """
import json, sys
from taskloom.plugins import get_plugin_manager
names = sorted(r.name for r in get_plugin_manager().records())
print(json.dumps({"names": names, "metadata_imported": "importlib.metadata" in sys.modules}))
"""


def test_a_warm_start_discovers_from_the_index_without_entry_point_machinery(tmp_path):
    # (the cache lives outside the sys.path entry: writing into an entry changes its mtime, hence the key)
    root = plugin_distribution(tmp_path / "site", "alpha")
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    cold = run_python(DISCOVER, path=root, env=cache)
    warm = run_python(DISCOVER, path=root, env=cache)
    assert "alpha" in cold["names"] and cold["metadata_imported"] is True
    assert warm["names"] == cold["names"] and warm["metadata_imported"] is False


def test_installing_a_plugin_invalidates_the_index(tmp_path):
    root = plugin_distribution(tmp_path / "site", "alpha")
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    run_python(DISCOVER, path=root, env=cache)
    assert "beta" not in run_python(DISCOVER, path=root, env=cache)["names"]
    plugin_distribution(tmp_path / "site", "beta", command="other")
    after = run_python(DISCOVER, path=root, env=cache)
    assert {"alpha", "beta"} <= set(after["names"])


def test_concurrent_first_calls_load_a_plugin_once(bare_plugins, tmp_path, monkeypatch):
    import threading

    (tmp_path / "demo_slow").mkdir()
    (tmp_path / "demo_slow" / "__init__.py").write_text("")
    (tmp_path / "demo_slow" / "hooks.py").write_text(
        "import time\nfrom taskloom.hookspecs import hookimpl\ntime.sleep(0.2)\n\n"
        "@hookimpl\ndef taskloom_filesystem(protocol):\n    return 'slow:' + protocol\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    bare_plugins.add_entry_point("slow", "demo_slow.hooks")
    start = threading.Barrier(4)
    answers = []

    def ask():
        start.wait()
        answers.append(bare_plugins.first_result("taskloom_filesystem", protocol="s3"))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [("slow", "slow:s3")] * 4
    assert bare_plugins.get_record("slow").state == LOADED


def test_an_index_written_for_another_key_is_not_trusted(tmp_path, monkeypatch):
    import json

    from taskloom import plugins

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    real = plugins.read_entry_points()
    (index,) = (tmp_path / "taskloom").glob("entry-points-*.json")
    stored = json.loads(index.read_text())
    stored["key"] = "another interpreter with the same checksum"
    stored["groups"][plugins.PLUGIN_GROUP] = [["impostor", "nowhere.hooks"]]
    index.write_text(json.dumps(stored))
    assert plugins.read_entry_points() == real
