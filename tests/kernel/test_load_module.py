"""`taskloom.loader.load_module`: the error its callers rely on, and no half-imported module left behind.

`loom run` and taskloom-local's resume load the user's file with it (any plugin may), so a file that
fails to import must raise one well-defined exception (:class:`taskloom.loader.ModuleLoadError`, a user
error), and never leave its half-executed module in ``sys.modules`` for a later import to find.
"""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
from pathlib import Path

import pytest

from taskloom.exceptions import TaskloomException
from taskloom.exceptions.user import UserException
from taskloom.loader import ModuleLoadError, load_module
from tests.kernel.distributions import run_loom

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def isolated_imports(monkeypatch):
    """sys.path and sys.modules as they were before the test, whatever the test loads."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write(path, source):
    path.write_text(textwrap.dedent(source).lstrip())
    return str(path)


def test_an_exception_at_import_is_a_module_load_error_with_the_original_as_cause(tmp_path, isolated_imports):
    flows = write(tmp_path / "flows_cause.py", "x = 1\nRATIO = 1 / 0\n")
    with pytest.raises(ModuleLoadError) as raised:
        load_module(flows)
    error = raised.value
    assert isinstance(error, UserException) and isinstance(error, TaskloomException)
    assert isinstance(error.__cause__, ZeroDivisionError)
    assert error.path == flows and error.line == 2 and error.location_file == str(tmp_path / "flows_cause.py")
    assert str(error) == f"cannot load {flows}: ZeroDivisionError: division by zero ({flows}, line 2)"


def test_a_syntax_error_is_a_module_load_error_naming_file_and_line(tmp_path, isolated_imports):
    flows = write(tmp_path / "flows_syntax.py", "x = 1\ny = (\n")
    with pytest.raises(ModuleLoadError) as raised:
        load_module(flows)
    assert isinstance(raised.value.__cause__, SyntaxError)
    assert raised.value.line == 2 and "SyntaxError" in str(raised.value) and f"{flows}, line 2" in str(raised.value)


def test_a_message_on_several_lines_becomes_one_line(tmp_path, isolated_imports):
    flows = write(
        tmp_path / "flows_lines.py",
        """
        error = ValueError("first line\\nsecond line")
        error.add_note("a note")
        raise error
        """,
    )
    with pytest.raises(ModuleLoadError) as raised:
        load_module(flows)
    assert "\n" not in str(raised.value)
    assert "ValueError: first line second line; a note" in str(raised.value)


@pytest.fixture
def ints(bare_plugins):
    """An int transformer, so that tasks of ints can be declared without the standard plugins."""
    from tests.kernel.test_type_engine import Toys, int_transformer

    bare_plugins.register(Toys(int_transformer()), name="toys")
    return bare_plugins


def test_a_failed_load_leaves_no_half_imported_module(tmp_path, isolated_imports, ints):
    flows = write(
        tmp_path / "flows_half.py",
        """
        from taskloom import task

        @task
        def first(x: int) -> int:
            return x

        raise RuntimeError("stop here")
        """,
    )
    with pytest.raises(ModuleLoadError):
        load_module(flows)
    assert "flows_half" not in sys.modules
    # Fixed, the file loads, and importing it by name finds the whole module, not the broken one.
    write(
        tmp_path / "flows_half.py",
        """
        from taskloom import task

        @task
        def first(x: int) -> int:
            return x

        @task
        def second(x: int) -> int:
            return x
        """,
    )
    module = load_module(flows)
    assert hasattr(module, "second")
    assert importlib.import_module("flows_half") is module


def test_a_failed_reload_puts_back_the_module_loaded_before(tmp_path, isolated_imports):
    flows = write(tmp_path / "flows_again.py", "VALUE = 1\n")
    first = load_module(flows)
    write(tmp_path / "flows_again.py", "VALUE = 2\nraise KeyError('gone')\n")
    with pytest.raises(ModuleLoadError, match="KeyError: 'gone'"):
        load_module(flows)
    assert sys.modules["flows_again"] is first and first.VALUE == 1


def test_a_missing_module_is_named(tmp_path, isolated_imports):
    flows = write(tmp_path / "flows_missing.py", "import no_such_module_for_taskloom_tests\n")
    with pytest.raises(ModuleLoadError) as raised:
        load_module(flows)
    assert isinstance(raised.value.__cause__, ModuleNotFoundError)
    assert "ModuleNotFoundError: No module named 'no_such_module_for_taskloom_tests'" in str(raised.value)


def test_keyboard_interrupt_is_not_turned_into_a_load_error(tmp_path, isolated_imports):
    flows = write(tmp_path / "flows_interrupt.py", "raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load_module(flows)
    assert "flows_interrupt" not in sys.modules


def test_a_path_that_is_not_a_python_file_is_a_module_load_error_naming_it(tmp_path, isolated_imports):
    with pytest.raises(ModuleLoadError, match=r"^cannot load .*nowhere\.py: it is not a file$"):
        load_module(str(tmp_path / "nowhere.py"))
    notes = tmp_path / "notes.txt"
    notes.write_text("x = 1\n")
    with pytest.raises(ModuleLoadError, match=r"^cannot load .*notes\.txt: it cannot be imported as Python"):
        load_module(str(notes))


def test_loom_run_says_a_missing_file_is_a_wrong_argument(tmp_path):
    done = run_loom(["run", str(tmp_path / "nowhere.py")])
    assert done.returncode == 2 and "Invalid value for FILE" in done.stderr and "is not a file" in done.stderr


def test_the_run_module_is_the_cli_s_alone():
    # The loader is a kernel module of its own: the executor's resume, and anything else loading a
    # file, import it rather than the `loom run` command.
    importers = sorted(
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("kernel/**/*.py"), *ROOT.glob("plugins/*/taskloom_*/**/*.py")]
        if re.search(r"^\s*(from taskloom\.run import|import taskloom\.run\b)", path.read_text(), re.MULTILINE)
    )
    assert importers == []
    assert '"taskloom.run"' in (ROOT / "kernel" / "taskloom" / "cli.py").read_text()  # lazily, by name
