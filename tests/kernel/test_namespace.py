"""Names plugins add to `taskloom` resolve lazily from entry-point metadata."""

from __future__ import annotations

import pytest

from tests.kernel.distributions import make_distribution, run_python


def names_distribution(root, *, broken=False):
    return make_distribution(
        root,
        "demo-shapes",
        files={
            "demo_shapes/__init__.py": "def frobnicate(x):\n    return x * 2\n",
            "demo_shapes/hooks.py": "raise ImportError('hooks are broken')\n" if broken else "",
            "demo_other/__init__.py": "",
            "demo_other/hooks.py": "",
        },
        entry_points={
            "taskloom.plugins": {"shapes": "demo_shapes.hooks", "other": "demo_other.hooks"},
            "taskloom.names": {"frobnicate": "demo_shapes:frobnicate"},
        },
    )


def test_a_plugin_name_resolves_and_imports_only_the_providing_plugin(tmp_path):
    result = run_python(
        """
        import json, sys
        from taskloom import frobnicate
        print(json.dumps({"value": frobnicate(21),
                          "imported": sorted(m for m in sys.modules if m.startswith(("demo_", "taskloom_")))}))
        """,
        path=names_distribution(tmp_path),
    )
    assert result == {"value": 42, "imported": ["demo_shapes", "demo_shapes.hooks"]}


def test_a_name_of_a_disabled_plugin_raises_import_error_naming_plugin_and_distribution(tmp_path):
    result = run_python(
        """
        import json
        try:
            from taskloom import frobnicate
        except ImportError as error:
            print(json.dumps(str(error)))
        """,
        path=names_distribution(tmp_path),
        env={"TASKLOOM_DISABLE_PLUGINS": "shapes"},
    )
    assert "'shapes'" in result and "'demo-shapes'" in result and "disabled" in result


def test_a_name_of_a_broken_plugin_raises_import_error_with_its_error(tmp_path):
    result = run_python(
        """
        import json, warnings
        warnings.simplefilter("ignore")
        try:
            from taskloom import frobnicate
        except ImportError as error:
            print(json.dumps(str(error)))
        """,
        path=names_distribution(tmp_path, broken=True),
    )
    assert "'shapes'" in result and "hooks are broken" in result


def test_a_known_name_whose_distribution_is_missing_names_the_distribution(bare_plugins):
    with pytest.raises(
        ImportError, match=r"distribution 'taskloom-map', which is not installed: pip install taskloom-map"
    ):
        from taskloom import map_task  # noqa: F401


def test_an_unknown_name_is_an_attribute_error(bare_plugins):
    import taskloom

    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        taskloom.no_such_thing  # noqa: B018


def test_a_name_registered_at_test_time_resolves(bare_plugins, tmp_path, monkeypatch):
    (tmp_path / "demo_runtime").mkdir()
    (tmp_path / "demo_runtime" / "__init__.py").write_text("GREETING = 'hi'\n")
    (tmp_path / "demo_runtime" / "hooks.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    bare_plugins.add_entry_point("runtime", "demo_runtime.hooks", names={"GREETING": "demo_runtime:GREETING"})
    from taskloom import GREETING

    assert GREETING == "hi"
    assert bare_plugins.get_record("runtime").state == "loaded"


def test_kernel_names_resolve_without_plugins(bare_plugins):
    from taskloom import FlyteFile, TypeEngine, hookimpl
    from taskloom.types.file import FlyteFile as same_file

    assert FlyteFile is same_file
    assert TypeEngine.__name__ == "TypeEngine"
    assert callable(hookimpl)


def test_task_settings_use_flytekits_names(bare_plugins):
    from taskloom import Cache, Resources, Secret, TaskMetadata

    assert Resources(cpu="1").cpu == "1"
    assert Cache(version="1").version == "1"
    assert TaskMetadata(retries=1).retries == 1
    assert Secret(group="db", key="password").key == "password"
