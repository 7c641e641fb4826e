"""What `import taskloom` costs, what the kernel depends on, and which way imports point."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.kernel.distributions import run_python

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("google.protobuf", "grpc", "pyarrow", "pandas", "polars", "numpy", "kubernetes", "fsspec", "s3fs", "flyteidl")


def heavy_modules(modules: list[str]) -> list[str]:
    """The modules of ``modules`` that belong to a heavy package (protobuf, grpc, pyarrow...)."""
    return [name for name in modules if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY)]


def test_import_taskloom_imports_no_plugin_and_nothing_heavy():
    result = run_python(
        """
        import json, sys
        import taskloom
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert heavy_modules(result) == []
    assert [name for name in result if name.startswith("taskloom_")] == []
    # Nothing of the kernel either: every name resolves on first access (not even the plugin manager).
    assert [name for name in result if name.startswith("taskloom")] == ["taskloom"]
    assert "typing" not in result and "threading" not in result
    # Discovery itself is deferred: no entry-point machinery for a bare import.
    assert "importlib.metadata" not in result and "stevedore" not in result and "pluggy" not in result


def test_the_table_module_and_its_kernel_names_import_no_dataframe_library():
    # flytekit's path for tables, and the kernel's names there, resolve without pyarrow, pandas or polars.
    result = run_python(
        """
        import json, sys
        import taskloom.types.structured as structured
        structured.StructuredDatasetEncoder, structured.PARQUET, structured.StructuredDatasetType
        import taskloom
        taskloom.StructuredDatasetType, taskloom.StructuredDatasetFormat
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert heavy_modules(result) == []
    assert [name for name in result if name.startswith("taskloom_")] == []


def test_the_kernel_pulls_at_most_fifteen_distributions():
    # The requirement closure is walked by the startup benchmark's own code, so test and benchmark agree.
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--closure-of", "taskloom-kernel"],
        capture_output=True,
        text=True,
        check=True,
    )
    closure = json.loads(done.stdout)
    assert closure["missing"] == []
    assert "taskloom-kernel" in closure["closure"] and "pluggy" in closure["closure"]
    assert len(closure["closure"]) <= 15, closure["closure"]


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_the_kernel_never_imports_a_plugin():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "kernel").rglob("*.py")
        for name in _imported_modules(path)
        if name.startswith("taskloom_")
    ]
    assert offenders == []


def _declared_dependencies(plugin_dir: Path, extra: str | None = None) -> set[str]:
    import tomllib

    project = tomllib.loads((plugin_dir / "pyproject.toml").read_text())["project"]
    declared = (
        project.get("dependencies", []) if extra is None else project.get("optional-dependencies", {}).get(extra, [])
    )
    return {re.split(r"[\s<>=!~\[(;]", dependency, maxsplit=1)[0].lower() for dependency in declared}


def test_plugins_import_only_the_kernel_and_declared_plugins_public_api():
    offenders = []
    for plugin_dir in sorted(path for path in (ROOT / "plugins").iterdir() if (path / "pyproject.toml").is_file()):
        own = f"taskloom_{plugin_dir.name.replace('-', '_')}"
        allowed = {dependency.replace("-", "_") for dependency in _declared_dependencies(plugin_dir)}
        for_tests = allowed | {
            dependency.replace("-", "_") for dependency in _declared_dependencies(plugin_dir, "testing")
        }
        for path in plugin_dir.rglob("*.py"):
            in_tests = "tests" in path.relative_to(plugin_dir).parts
            for name in _imported_modules(path):
                top = name.split(".")[0]
                if not top.startswith("taskloom_") or top == own:
                    continue
                # A plugin's tests may use another plugin's test servers (its `testing` module, documented for
                # that: taskloom_s3.testing), when that plugin is declared, in the `testing` extra too.
                if in_tests and name == f"{top}.testing" and top in for_tests:
                    continue
                # Another plugin: only its public API (the top-level package), only when declared.
                if name != top or top not in allowed:
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_plugin_packages_see_the_kernel_only_through_taskloom_and_taskloom_extend():
    # Shipped plugin code (not its tests, which may reach into what they test) uses the plugin-facing
    # API only, so that every other kernel module can change without breaking a plugin.
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "plugins").glob("*/taskloom_*/**/*.py"))
        for name in _imported_modules(path)
        if name.split(".")[0] == "taskloom" and name not in ("taskloom", "taskloom.extend")
    ]
    assert offenders == []


def test_importing_the_plugin_facing_api_for_hookimpl_stays_cheap():
    result = run_python(
        """
        import json, sys
        from taskloom.extend import hookimpl
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert heavy_modules(result) == []
    assert "taskloom.core.type_engine" not in result and "taskloom.core.workflow" not in result
