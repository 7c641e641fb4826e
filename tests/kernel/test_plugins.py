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
        commands = [c.name for cs in manager.hook.taskloom_cli_commands() for c in cs if c.name in ("hello", "broken-command")]
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
            commands = [c.name for cs in manager.hook.taskloom_cli_commands() for c in cs if c.name in ("hello", "broken-command")]
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
        commands = [c.name for cs in manager.hook.taskloom_cli_commands() for c in cs if c.name in ("hello", "broken-command")]
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
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") == "second:s3"


def test_a_plugin_whose_hook_raises_is_marked_failed_and_the_others_still_answer(bare_plugins):
    bare_plugins.register(Greeter("good"), name="good")
    bare_plugins.register(Greeter("bad", fail=True), name="bad")
    with pytest.warns(
        PluginWarning,
        match="'bad' skipped \\(its taskloom_filesystem raised\\): RuntimeError: storage backend exploded",
    ):
        answer = bare_plugins.hook.taskloom_filesystem(protocol="s3")
    assert answer == "good:s3"
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


def test_a_file_made_in_a_path_entry_keeps_the_index(tmp_path):
    """The current directory is a sys.path entry of every ``python -c``: a file saved there (or a
    ``__pycache__`` made there) is no installation, and the index still answers."""
    root = plugin_distribution(tmp_path / "site", "alpha")
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    cold = run_python(DISCOVER, path=root, env=cache)
    (root / "notes.txt").write_text("saved by a user")
    (root / "__pycache__").mkdir()
    warm = run_python(DISCOVER, path=root, env=cache)
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
        answers.append(bare_plugins.hook.taskloom_filesystem(protocol="s3"))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["slow:s3"] * 4
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


# --- hooks are called by pluggy: wrappers, ordering, firstresult --------------------------------


class Answering:
    def __init__(self, word, seen=None):
        self.word = word
        self.seen = seen if seen is not None else []

    @hookimpl
    def taskloom_filesystem(self, protocol):
        self.seen.append(self.word)
        return f"{self.word}:{protocol}" if self.word else None


def test_a_wrapper_sees_and_changes_the_answer(bare_plugins):
    seen = {}

    class Wrapper:
        @hookimpl(wrapper=True)
        def taskloom_filesystem(self, protocol):
            answer = yield
            seen["answer"] = answer
            return answer.upper()

    bare_plugins.register(Answering("plain"), name="plain")
    bare_plugins.register(Wrapper(), name="wrapper")
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") == "PLAIN:S3"
    assert seen == {"answer": "plain:s3"}


def test_tryfirst_wins_over_later_registrations(bare_plugins):
    class First:
        @hookimpl(tryfirst=True)
        def taskloom_filesystem(self, protocol):
            return "first"

    bare_plugins.register(First(), name="first")
    bare_plugins.register(Answering("later"), name="later")
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") == "first"


def test_firstresult_stops_at_the_first_non_none_answer(bare_plugins):
    asked = []
    bare_plugins.register(Answering("low", asked), name="low")
    bare_plugins.register(Answering("middle", asked), name="middle")
    bare_plugins.register(Answering("", asked), name="silent")  # answers None: the next is asked
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") == "middle:s3"
    assert asked == ["", "middle"]


def test_a_raising_wrapper_is_isolated_and_the_answer_is_untouched(bare_plugins):
    class BrokenWrapper:
        @hookimpl(wrapper=True)
        def taskloom_filesystem(self, protocol):
            answer = yield
            raise RuntimeError(f"wrapper broke on {answer}")

    bare_plugins.register(Answering("plain"), name="plain")
    bare_plugins.register(BrokenWrapper(), name="broken-wrapper")
    with pytest.warns(PluginWarning, match="'broken-wrapper' skipped .*wrapper broke on plain:s3"):
        assert bare_plugins.hook.taskloom_filesystem(protocol="s3") == "plain:s3"
    assert bare_plugins.get_record("broken-wrapper").state == FAILED
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") == "plain:s3"


def test_an_error_of_the_inner_call_passes_through_a_wrapper_without_blaming_it(bare_plugins):
    from taskloom.exceptions.user import UserValueError

    class UserFacing:
        @hookimpl
        def taskloom_filesystem(self, protocol):
            raise UserValueError(f"no such bucket for {protocol}")

    class Wrapper:
        @hookimpl(wrapper=True)
        def taskloom_filesystem(self, protocol):
            return (yield)

    bare_plugins.register(UserFacing(), name="user-facing")
    bare_plugins.register(Wrapper(), name="wrapper")
    with pytest.raises(UserValueError, match="no such bucket for s3"):
        bare_plugins.hook.taskloom_filesystem(protocol="s3")
    assert bare_plugins.get_record("wrapper").state == LOADED
    assert bare_plugins.get_record("user-facing").state == LOADED


def test_a_wrapper_on_the_executor_hook_returns_the_executor_not_a_generator(bare_plugins):
    from taskloom.core.executor import get_executor

    class Provider:
        @hookimpl
        def taskloom_executor(self, name):
            return f"the {name} executor"

    class Timing:
        calls = 0

        @hookimpl(wrapper=True)
        def taskloom_executor(self, name):
            Timing.calls += 1
            return (yield)

    bare_plugins.register(Provider(), name="provider")
    bare_plugins.register(Timing(), name="timing")
    assert get_executor("fake") == "the fake executor" and Timing.calls == 1


def test_standard_plugins_answer_last_whatever_order_they_were_loaded_in(bare_plugins, tmp_path, monkeypatch):
    for name in ("demo_third", "demo_standard"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        (tmp_path / name / "hooks.py").write_text(
            "from taskloom.hookspecs import hookimpl\n\n"
            f"@hookimpl\ndef taskloom_filesystem(protocol):\n    return '{name}'\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("taskloom.plugins.STANDARD_PLUGINS", ("types", "local", "map", "dynamic", "flyte", "standard"))
    standard = bare_plugins._add_record("standard", "demo_standard.hooks")
    bare_plugins._add_record("third", "demo_third.hooks")
    assert standard.standard
    bare_plugins.load("third")  # loaded first, so pluggy alone would ask it last
    bare_plugins.load("standard")
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") == "demo_third"


def test_disabled_plugins_are_blocked_in_pluggy(bare_plugins):
    bare_plugins.disable("blocked")
    record = bare_plugins.register(Answering("blocked"), name="blocked")
    assert record.state == "disabled"
    assert bare_plugins.pluggy.is_blocked("blocked")
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") is None


def test_a_plugin_for_another_plugin_api_is_refused_by_name_before_registering(bare_plugins):
    from taskloom.plugins import PLUGIN_API

    class Future:
        TASKLOOM_API = f"{int(PLUGIN_API.split('.')[0]) + 1}.0"

        @hookimpl
        def taskloom_filesystem(self, protocol):
            return "future"

    with pytest.warns(PluginWarning, match=r"'future' skipped: PluginError: .*needs plugin API \d+\.0, this kernel"):
        record = bare_plugins.register(Future(), name="future")
    assert record.state == FAILED
    assert bare_plugins.hook.taskloom_filesystem(protocol="s3") is None


@pytest.mark.parametrize(
    "wanted, offered, works",
    [("1.0", "1.0", True), ("1", "1.2", True), ("1.1", "1.2", True), ("1.3", "1.2", False), ("2.0", "1.9", False)],
)
def test_plugin_api_compatibility(wanted, offered, works):
    from taskloom.plugins import compatible_api

    assert compatible_api(wanted, offered) is works


# --- the one table of plugin names --------------------------------------------------------------


def test_every_distribution_the_kernel_names_exists_in_this_tree():
    import pathlib
    import tomllib

    from taskloom.plugins import DISTRIBUTIONS

    root = pathlib.Path(__file__).resolve().parents[2]
    in_tree = {
        tomllib.loads(path.read_text())["project"]["name"]: path.parent.name
        for path in (root / "plugins").glob("*/pyproject.toml")
    }
    assert set(DISTRIBUTIONS) <= set(in_tree)
    for distribution, entry in DISTRIBUTIONS.items():
        assert entry.plugin == in_tree[distribution]


def test_the_root_extras_list_only_distributions_that_exist():
    import pathlib
    import re
    import tomllib

    root = pathlib.Path(__file__).resolve().parents[2]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    existing = {tomllib.loads(p.read_text())["project"]["name"] for p in (root / "plugins").glob("*/pyproject.toml")}
    for extra, requirements in extras.items():
        assert requirements, f"extra {extra!r} installs nothing"
        for requirement in requirements:
            assert re.split(r"[=<>!~\[ ]", requirement)[0] in existing


def test_a_name_no_distribution_provides_is_a_plain_attribute_error_without_install_advice(bare_plugins):
    import taskloom

    with pytest.raises(AttributeError, match="no attribute 'NoDistributionProvidesThis'") as caught:
        taskloom.NoDistributionProvidesThis  # noqa: B018
    assert "pip install" not in str(caught.value)


def test_structured_dataset_without_its_plugin_points_to_taskloom_arrow(bare_plugins):
    import taskloom
    import taskloom.types.structured as structured

    for resolve in (lambda: taskloom.StructuredDataset, lambda: structured.StructuredDataset):
        with pytest.raises(
            ImportError, match="provided by the distribution 'taskloom-arrow'.*pip install taskloom-arrow"
        ):
            resolve()


def test_a_missing_standard_name_points_to_its_distribution(bare_plugins):
    import taskloom

    with pytest.raises(ImportError, match="provided by the distribution 'taskloom-map'.*pip install taskloom-map"):
        taskloom.map_task  # noqa: B018


def test_every_distribution_declares_the_same_python_floor():
    import pathlib
    import tomllib

    root = pathlib.Path(__file__).resolve().parents[2]
    floors = {
        str(path.relative_to(root)): tomllib.loads(path.read_text())["project"]["requires-python"]
        for path in [
            root / "pyproject.toml",
            root / "kernel" / "pyproject.toml",
            *root.glob("plugins/*/pyproject.toml"),
        ]
    }
    assert set(floors.values()) == {">=3.11"}, floors
    tool = tomllib.loads((root / "pyproject.toml").read_text())["tool"]
    assert tool["ruff"]["target-version"] == "py311" and tool["mypy"]["python_version"] == "3.11"


def test_sql_task_types_without_their_plugin_point_to_taskloom_sql(bare_plugins):
    import taskloom
    import taskloom.extras.sqlite3 as sqlite3
    import taskloom.extras.sqlite3.task as sqlite3_task

    resolvers = (lambda: taskloom.SQLAlchemyTask, lambda: sqlite3.SQLite3Task, lambda: sqlite3_task.SQLite3Config)
    for resolve in resolvers:
        with pytest.raises(ImportError, match="provided by the distribution 'taskloom-sql'.*pip install taskloom-sql"):
            resolve()


def test_the_task_pool_of_an_executor_name_comes_from_the_plugin_that_has_one(bare_plugins):
    from taskloom.extend import get_task_pool

    class Pools:
        @hookimpl
        def taskloom_task_pool(self, name):
            return f"the pool of {name}" if name == "far" else None

    assert get_task_pool("far") is None  # nobody has one yet
    bare_plugins.register(Pools(), name="pools")
    assert get_task_pool("far") == "the pool of far"
    assert get_task_pool("near") is None


def test_the_executor_dask_without_its_plugin_points_to_taskloom_dask(bare_plugins):
    from taskloom.core.executor import get_executor

    with pytest.raises(
        PluginError, match="no installed taskloom plugin provides the executor 'dask'; install taskloom-dask"
    ):
        get_executor("dask")


def test_the_executor_kubernetes_without_its_plugin_points_to_taskloom_kubernetes(bare_plugins):
    from taskloom.core.executor import get_executor

    with pytest.raises(PluginError, match="provides the executor 'kubernetes'; install taskloom-kubernetes"):
        get_executor("kubernetes")
