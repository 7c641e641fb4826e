"""Loading the user's Python file, and finding the tasks, workflows and launch plans it defines.

``loom run FILE`` and taskloom-local's resume (which finds the entity a recorded execution ran) load
a file the same way, through :func:`load_module`: as ``pyflyte run`` does, the file is imported as
the module it is in its project (``pkg.flows`` for a file of the package ``pkg``, ``flows`` for a
file outside any package), the project's root on ``sys.path``, so that its entities get the names
they have when the file is imported (``pkg.flows.clean``) and its relative imports and imports of
the project's other modules work. A file that cannot be imported (a syntax error, an exception or a missing module
at import, a workflow that does not compile) is a :class:`ModuleLoadError`: one line naming the
file, what was raised and the user's line where it happened; ``loom --verbose`` shows the traceback.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

from taskloom.core.base_task import PythonTask
from taskloom.core.launch_plan import LaunchPlan
from taskloom.core.workflow import WorkflowBase
from taskloom.exceptions.base import TaskloomException
from taskloom.exceptions.user import UserException


class ModuleLoadError(UserException):
    """The user's Python file could not be imported: not a Python file, a syntax error, or an
    exception raised at import.

    Raised by :func:`load_module`, and so by ``loom run`` and by plugins that load a file the same way
    (taskloom-local's resume). A :class:`~taskloom.exceptions.TaskloomException`, so the ``loom`` shell
    prints it as one ``Error:`` line with status 1, and ``loom --verbose`` shows the traceback of its
    ``__cause__``, the original exception. The message is one line: the file as given, the
    exception's type and message (with its notes) and the user's line where it happened (``cannot
    load flows.py: ZeroDivisionError: division by zero (flows.py, line 12)``); taskloom's own errors
    (a workflow that does not compile) are written for users already and keep their words alone.

    ``path`` is the file as given; ``location_file`` and ``line`` are where it failed, when known.
    """

    error_code = "USER:ModuleLoadError"

    def __init__(self, message: str, path: str, location_file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.location_file = location_file
        self.line = line


def load_module(path: str) -> Any:
    """Import the Python file at ``path`` as the module it is in its project; return the module.

    The project's root is found as ``pyflyte run`` finds it: the file's directory and its parents
    while they hold an ``__init__.py``. A file of a package (``proj/src/pkg/sub/flows.py``, with
    ``pkg`` and ``sub`` packages) is the module ``pkg.sub.flows``, imported with ``proj/src`` on
    ``sys.path`` after its packages, so that its relative imports and its imports of the project's
    other modules work; a file outside any package is the module named after it, its directory on
    ``sys.path`` (its sibling modules import). The file is executed afresh even when a module of that
    name was imported before (taskloom-local's resume loads a file its process may have run), except
    when importing its own package imported it (``from .flows import wf`` in ``__init__.py``).

    Raises :class:`ModuleLoadError` if ``path`` is not a Python file or importing it (or its
    packages) fails, ``sys.exit`` at import included, leaving ``sys.modules`` as it was for the file's
    module: a half-executed module would otherwise be what a later ``import`` of that name finds.
    """
    file = os.path.realpath(path)
    if not os.path.isfile(file):
        raise ModuleLoadError(f"cannot load {path}: it is not a file", path)
    root, name = module_name_of(file)
    if root not in sys.path:
        sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModuleLoadError(f"cannot load {path}: it cannot be imported as Python (name it NAME.py)", path)
    package, _, short_name = name.rpartition(".")
    imported_before = name in sys.modules
    if package:
        _refuse_shadowed_package(path, name, root)  # imported before, from elsewhere
    try:
        parent = importlib.import_module(package) if package else None
    except BaseException as error:
        if isinstance(error, (Exception, SystemExit)):
            raise _load_error(path, file, error, f"its package {package!r}") from error
        raise
    if package:
        _refuse_shadowed_package(path, name, root)  # found elsewhere first on sys.path
    imported = sys.modules.get(name)
    if not imported_before and imported is not None and _file_of(imported) == file:
        return imported  # its package's __init__ imported it (from .flows import wf): not run twice
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        if sys.modules.get(name) is module:
            if previous is None:
                del sys.modules[name]
            else:
                sys.modules[name] = previous
        if isinstance(error, (Exception, SystemExit)):  # not KeyboardInterrupt: the user stopped loom
            raise _load_error(path, file, error) from error
        raise
    if parent is not None:
        setattr(parent, short_name, module)  # as an import of the submodule does
    return module


def module_name_of(file: str) -> tuple[str, str]:
    """The root of ``file``'s project and ``file``'s dotted module name under it.

    The root is the first directory above ``file`` that has no ``__init__.py`` (flytekit's rule for
    ``pyflyte run``): ``("/proj/src", "pkg.sub.flows")`` for ``/proj/src/pkg/sub/flows.py`` when
    ``pkg`` and ``sub`` hold an ``__init__.py``, ``("/proj", "flows")`` for ``/proj/flows.py``.
    Namespace packages (directories without ``__init__.py``) are not walked through, as flytekit does
    not: run such a file from its directory's parent with the directory in the file's own imports.
    """
    directory, base = os.path.split(file)
    parts = [os.path.splitext(base)[0]]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        if not package:  # the file system's root holds an __init__.py: stop there
            break
        parts.insert(0, package)
    return directory, ".".join(parts)


def _file_of(module: Any) -> str | None:
    file = getattr(module, "__file__", None)
    return os.path.realpath(file) if file else None


def _refuse_shadowed_package(path: str, name: str, root: str) -> None:
    """Raise :class:`ModuleLoadError` if the top-level package of ``name`` is imported, but not from
    ``root``: a module of the same name (an installed package, the standard library's) came first.
    """
    top = sys.modules.get(name.partition(".")[0])
    if top is None:
        return
    locations = list(getattr(top, "__path__", []))
    if any(os.path.dirname(os.path.realpath(location)) == root for location in locations):
        return
    where = getattr(top, "__file__", None) or locations
    raise ModuleLoadError(
        f"cannot load {path}: it is in the package {top.__name__!r} of {root}, but a module of that name "
        f"was imported from {where} first; rename the package",
        path,
    )


def _load_error(path: str, file: str, error: BaseException, importing: str | None = None) -> ModuleLoadError:
    location_file, line = _user_location(file, error)
    text = error.msg if isinstance(error, SyntaxError) else str(error)  # a SyntaxError's str adds the place
    if isinstance(error, TaskloomException):  # taskloom's messages are written for users already
        message = text
    else:
        message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    message = "; ".join([message, *getattr(error, "__notes__", ())])
    # One line: a message or note on several lines is joined, since the CLI prints one line per error.
    message = " ".join(part.strip() for part in message.splitlines() if part.strip())
    where = ""
    if location_file is not None and line is not None:
        where = f" ({path if location_file == file else location_file}, line {line})"
    _, name = module_name_of(file)
    what = f"{path} (module {name})" if "." in name else path  # a package's module: say which it is
    during = f"importing {importing}: " if importing else ""
    return ModuleLoadError(f"cannot load {what}: {during}{message}{where}", path, location_file, line)


def _user_location(file: str, error: BaseException) -> tuple[str | None, int | None]:
    """The file and line of the user's code where ``error`` happened while ``file`` was imported.

    A syntax error says where itself. Otherwise it is the deepest frame of the traceback that is the
    user's: in ``file``, or in a file that is neither taskloom's (kernel or plugin, by module name),
    Python's import machinery (``<frozen ...>``), the standard library nor an installed package
    (under a ``site-packages`` directory of ``sys.path``), so that an exception raised inside taskloom
    or a library points at the user's call.
    """
    if isinstance(error, SyntaxError) and error.filename and error.lineno:
        return (file if os.path.realpath(error.filename) == file else error.filename), error.lineno
    standard_library = os.path.dirname(os.__file__)
    libraries = tuple(
        os.path.join(os.path.realpath(directory), "")
        for directory in (standard_library, *sys.path)
        if directory == standard_library or os.path.basename(directory) in ("site-packages", "dist-packages")
    )
    found: tuple[str | None, int | None] = (None, None)
    entry = error.__traceback__
    while entry is not None:
        filename = entry.tb_frame.f_code.co_filename
        module = str(entry.tb_frame.f_globals.get("__name__", ""))
        if filename == file or not (
            filename.startswith("<")
            or module.split(".")[0] == "taskloom"
            or module.startswith("taskloom_")
            or os.path.realpath(filename).startswith(libraries)
        ):
            found = (filename, entry.tb_lineno)
        entry = entry.tb_next
    return found


def entities_of(module: Any) -> dict[str, Any]:
    """The tasks, workflows and launch plans a module defines at top level, by variable name."""
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, (PythonTask, WorkflowBase, LaunchPlan)) and not name.startswith("_")
    }


def kind_of(entity: Any) -> str:
    """``"task"``, ``"workflow"`` or ``"launch plan"``."""
    if getattr(entity, "is_launch_plan", False):
        return "launch plan"
    return "workflow" if getattr(entity, "is_workflow", False) else "task"
