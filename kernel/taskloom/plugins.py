"""The plugin manager: discovery, lazy loading, blocking and isolation of plugins.

Plugins are found through entry-point metadata only, read with stevedore (whose on-disk cache is
on), in three groups:

``taskloom.plugins``
    ``name = "package.hooks"``: registers the plugin ``name``; the module holds its hook
    implementations. This is the only way a plugin is registered.
``taskloom.names``
    ``public_name = "package.module:attr"``: a name the plugin adds to the ``taskloom`` namespace
    (``from taskloom import public_name``).
``taskloom.commands``
    ``command = "package.hooks"``: a ``loom`` subcommand the plugin contributes through
    :func:`~taskloom.hookspecs.taskloom_cli_commands`, so that ``loom --help`` can list it.

Entry points are read through stevedore's cached listing; the three groups are also kept in a small
index of taskloom's own (see :func:`read_entry_points`) so that a warm start needs neither stevedore
nor ``importlib.metadata``. An entry of the last two groups belongs to the plugin whose hooks module lives in the same
top-level package. Nothing is imported at discovery: a plugin's module is imported the first time
one of its capabilities is needed (a hook is called, one of its names is resolved, one of its
commands runs). A plugin that fails to import, to register, or whose hook raises, is recorded with
its error, skipped, and shown by ``loom plugins``; the others keep working.

Plugins named in ``TASKLOOM_DISABLE_PLUGINS=a,b`` or in the configuration file's
``[plugins] disable = [...]`` are never imported, standard ones included.

When several plugins answer the same hook, they are asked in this order: plugins registered at run
time (tests, :meth:`PluginManager.register`) first, newest first; then third-party plugins; then the
standard plugins. So a third-party transformer for ``int`` wins over the standard one.

Nobody but this module talks to pluggy or stevedore.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import os
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from taskloom.config import read_config
from taskloom.exceptions.system import PluginError, PluginWarning
from taskloom.exceptions.user import UserException

if TYPE_CHECKING:
    import pluggy

PLUGIN_GROUP = "taskloom.plugins"
NAMES_GROUP = "taskloom.names"
COMMANDS_GROUP = "taskloom.commands"
DISABLE_ENV = "TASKLOOM_DISABLE_PLUGINS"


class Distribution(NamedTuple):
    """What the kernel knows about one of this project's plugin distributions before it is installed."""

    plugin: str  #: its name in the ``taskloom.plugins`` entry-point group
    standard: bool = False  #: installed with ``taskloom`` and asked after third-party plugins
    names: tuple[str, ...] = ()  #: names it adds to ``taskloom`` (``from taskloom import map_task``)
    executors: tuple[str, ...] = ()  #: executors it provides (``loom run --executor NAME``)
    protocols: tuple[str, ...] = ()  #: URI protocols it serves


#: The one table of plugin names: every distribution of this project the kernel may point a user to
#: when something it provides is missing (``pip install taskloom-s3``). A distribution is listed when
#: it exists, never before; standard plugins are registered in this order (lowest priority first).
DISTRIBUTIONS: dict[str, Distribution] = {
    "taskloom-types": Distribution("types", standard=True),
    "taskloom-local": Distribution("local", standard=True, executors=("local",), protocols=("file", "memory")),
    "taskloom-map": Distribution("map", standard=True, names=("map_task", "ArrayNodeMapTask")),
    "taskloom-dynamic": Distribution("dynamic", standard=True, names=("dynamic", "eager")),
    "taskloom-flyte": Distribution("flyte", standard=True),
    "taskloom-s3": Distribution("s3", protocols=("s3", "s3a")),
    "taskloom-arrow": Distribution(
        "arrow",
        names=(
            "StructuredDataset",
            "StructuredDatasetTransformerEngine",
            "FlyteSchema",
            "TopFrameRenderer",
            "TableRenderer",
            "ArrowRenderer",
        ),
    ),
    "taskloom-sql": Distribution(
        "sql",
        names=(
            "SQLTask",
            "SQLite3Task",
            "SQLite3Config",
            "SQLAlchemyTask",
            "SQLAlchemyConfig",
            "DuckDBQuery",
            "DuckDBProvider",
        ),
    ),
    "taskloom-container": Distribution("container", names=("ContainerTask", "ImageSpec")),
    "taskloom-agent": Distribution("agent"),
    "taskloom-dask": Distribution("dask", executors=("dask",)),
    "taskloom-kubernetes": Distribution("kubernetes", executors=("kubernetes",)),
    "taskloom-report": Distribution("report", names=("Deck", "MarkdownRenderer", "SourceCodeRenderer")),
}

#: The standard plugins, in the order in which they are registered (lowest priority first).
STANDARD_PLUGINS: tuple[str, ...] = tuple(entry.plugin for entry in DISTRIBUTIONS.values() if entry.standard)


def distribution_providing(*, name: str = "", executor: str = "", protocol: str = "") -> str | None:
    """The distribution of :data:`DISTRIBUTIONS` that provides a ``taskloom`` name, an executor or a protocol."""
    for distribution, entry in DISTRIBUTIONS.items():
        if name in entry.names or executor in entry.executors or protocol in entry.protocols:
            return distribution
    return None


# Plugin states, as shown by `loom plugins`.
AVAILABLE = "available"  # discovered, not imported yet
LOADED = "loaded"
FAILED = "failed"
DISABLED = "disabled"

# Priority bands (higher is asked first).
_STANDARD_BAND = 0
_THIRD_PARTY_BAND = 1000
_RUNTIME_BAND = 2000


_SERIALS = itertools.count()


def _locked(method: Any) -> Any:
    # Executors call hooks from many threads; loading and registering must happen once.
    @functools.wraps(method)
    def locked(self: PluginManager, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class PluginRecord:
    """What the manager knows about one plugin: where it comes from, its state and its error.

    ``module`` is the entry point's value (``None`` for an object registered at run time),
    ``state`` one of ``available``, ``loaded``, ``failed``, ``disabled``; ``error`` the exception
    that made it fail; ``hooks`` the hook names it implements once loaded.
    """

    __slots__ = ("error", "hooks", "module", "name", "plugin", "priority", "standard", "state")

    def __init__(self, name: str, module: str | None, *, standard: bool, priority: int) -> None:
        self.name = name
        self.module = module
        self.standard = standard
        self.state = AVAILABLE
        self.error: BaseException | None = None
        self.plugin: Any = None
        self.priority = priority
        self.hooks: tuple[str, ...] = ()

    @property
    def package(self) -> str | None:
        """The top-level import package of the plugin's module, or None for a runtime object."""
        return self.module.split(".", 1)[0].split(":", 1)[0] if self.module else None

    def __repr__(self) -> str:
        return f"PluginRecord(name={self.name!r}, module={self.module!r}, state={self.state!r})"


def _read_group(group: str) -> list[tuple[str, str]]:
    """Return ``(name, value)`` for every entry point of ``group``, through stevedore's cache."""
    from stevedore import ExtensionManager

    class _MetadataOnly(ExtensionManager):  # type: ignore[type-arg]
        # stevedore imports every extension in its constructor; we want its cached listing only.
        def _load_plugins(self, *args: Any, **kwargs: Any) -> list[Any]:
            return []

    return [(ep.name, ep.value) for ep in _MetadataOnly(group).list_entry_points()]


def _index_key() -> str:
    # What decides stevedore's answer: the interpreter, every sys.path entry, the metadata
    # directories (*.dist-info, *.egg-info) in each entry and the modification time of each one's
    # entry_points.txt. Installing, upgrading or removing a distribution adds, renames or removes one
    # of those directories or rewrites its file. An entry's own modification time is left out (unlike
    # stevedore's key): it changes with any file made in it, and the current directory is an entry
    # (every `python -c`, every file a user saves in their project), so the index was missed
    # for nothing. An entry that is not a directory (a zip) keys on its time. (os.listdir rather than
    # glob, and no hashlib: both cost milliseconds at every start.)
    parts = [sys.executable, sys.prefix]
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            parts.append(f"{entry}:{_mtime(entry)}")
            continue
        parts.append(entry)
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                path = os.path.join(entry, name, "entry_points.txt")
                parts.append(f"{path}:{_mtime(path)}")
    return "\n".join(parts)


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def read_entry_points() -> dict[str, list[tuple[str, str]]]:
    """Return ``(name, value)`` pairs of the three taskloom groups, from a small on-disk index.

    stevedore's listing needs ``importlib.metadata`` (~30 ms to import); the index, keyed like
    stevedore's own cache and stored under ``$XDG_CACHE_HOME/taskloom``, lets a warm start (e.g.
    ``loom --help``) read one JSON file instead. The file is named by a checksum of the key and holds
    the key itself, which is compared on reading. A miss is answered by stevedore and written back.
    """
    import json
    import zlib

    key = _index_key()
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    index = os.path.join(cache_home, "taskloom", f"entry-points-{zlib.crc32(key.encode()):08x}.json")
    try:
        with open(index, encoding="utf-8") as handle:
            stored = json.load(handle)
        if stored.get("key") == key:
            return {group: [tuple(pair) for pair in pairs] for group, pairs in stored["groups"].items()}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    groups = {group: _read_group(group) for group in (PLUGIN_GROUP, NAMES_GROUP, COMMANDS_GROUP)}
    try:
        import tempfile

        os.makedirs(os.path.dirname(index), exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(index), suffix=".tmp", delete=False) as staged:
            json.dump({"key": key, "groups": groups}, staged)
        os.replace(staged.name, index)
    except OSError:  # a read-only home: discovery still works, just without the index
        pass
    return groups


def disabled_plugins() -> frozenset[str]:
    """Return the plugin names blocked by ``TASKLOOM_DISABLE_PLUGINS`` and the configuration file."""
    names = {part.strip() for part in os.environ.get(DISABLE_ENV, "").split(",") if part.strip()}

    configured = read_config().get("plugins", {}).get("disable", [])
    if isinstance(configured, str):
        configured = [part.strip() for part in configured.split(",")]
    names.update(str(name) for name in configured if name)
    return frozenset(names)


def distribution_of(module: str | None) -> tuple[str | None, str | None]:
    """Return ``(distribution, version)`` providing the top-level package of ``module``.

    Reads installed metadata (slow); used for reports and error messages only.
    """
    if not module:
        return None, None
    from importlib import metadata

    package = module.split(".", 1)[0].split(":", 1)[0]
    names = _packages_distributions().get(package) or []
    for name in names:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None, None


#: (sys.path when read, importlib.metadata.packages_distributions() then): reading it walks every file of every
#: installed distribution (~0.4 s in the development environment), and `loom plugins` asks once per plugin.
_package_owners: tuple[tuple[str, ...], Any] | None = None


def _packages_distributions() -> Any:
    """Top-level package -> distributions, read once per ``sys.path`` (a path added later reads it again)."""
    global _package_owners
    from importlib import metadata

    key = tuple(sys.path)
    if _package_owners is None or _package_owners[0] != key:
        _package_owners = (key, metadata.packages_distributions())
    return _package_owners[1]


class PluginManager:
    """Finds, loads and calls plugins; one per process, reached with :func:`get_plugin_manager`.

    ``generation`` increases whenever the set of loaded plugins changes, so that callers caching
    what the hooks returned (the type engine) know when to ask again; ``serial`` tells managers
    apart (``id()`` would not: a new manager may reuse a collected one's address).
    """

    def __init__(self, *, discover: bool = True) -> None:
        self._records: dict[str, PluginRecord] = {}
        self._names: dict[str, tuple[str | None, str]] = {}  # public name -> (plugin, "module:attr")
        self._commands: dict[str, str | None] = {}  # command -> plugin
        self._discovered = not discover
        self._disabled: frozenset[str] | None = None
        self._extra_disabled: set[str] = set()
        self._pluggy: pluggy.PluginManager | None = None
        self._runtime_sequence = 0
        self._all_loaded = False  # every record imported (or failed): hook calls need not load
        self._answer_checks: dict[str, Any] = {}  # hook -> check of each implementation's answer
        self._lock = threading.RLock()
        self.serial = next(_SERIALS)
        self.generation = 0

    # --- discovery -------------------------------------------------------------------------

    @_locked
    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        groups = read_entry_points()
        for name, value in groups[PLUGIN_GROUP]:
            if name in self._records:  # first entry of a duplicated name wins, as stevedore does
                continue
            self._add_record(name, value)
        packages = {record.package: record.name for record in self._records.values()}
        for public, value in groups[NAMES_GROUP]:
            self._names.setdefault(public, (packages.get(value.split(".", 1)[0].split(":", 1)[0]), value))
        for command, value in groups[COMMANDS_GROUP]:
            self._commands.setdefault(command, packages.get(value.split(".", 1)[0].split(":", 1)[0]))

    def _add_record(self, name: str, module: str | None, *, runtime: bool = False) -> PluginRecord:
        standard = name in STANDARD_PLUGINS and not runtime
        if runtime:
            self._runtime_sequence += 1
            priority = _RUNTIME_BAND + self._runtime_sequence
        elif standard:
            priority = _STANDARD_BAND + STANDARD_PLUGINS.index(name)
        else:
            priority = _THIRD_PARTY_BAND
        record = PluginRecord(name, module, standard=standard, priority=priority)
        if name in self.disabled:
            record.state = DISABLED
        self._records[name] = record
        self._all_loaded = False
        return record

    @property
    def disabled(self) -> frozenset[str]:
        """Names of the plugins that must not be imported (environment, configuration, tests)."""
        if self._disabled is None:
            self._disabled = disabled_plugins()
        return self._disabled | self._extra_disabled

    def records(self) -> list[PluginRecord]:
        """Every known plugin, highest priority first, without importing any of them."""
        self._discover()
        return sorted(self._records.values(), key=lambda record: (-record.priority, record.name))

    def get_record(self, name: str) -> PluginRecord | None:
        """Return the record of plugin ``name``, or None if no such plugin is installed."""
        self._discover()
        return self._records.get(name)

    def failures(self) -> list[PluginRecord]:
        """The plugins that failed to import, register or answer a hook, with their errors."""
        return [record for record in self.records() if record.state == FAILED]

    def command_owners(self) -> dict[str, str | None]:
        """Declared ``loom`` subcommands and the plugin providing each, without importing any."""
        self._discover()
        return dict(self._commands)

    def declared_names(self) -> dict[str, tuple[str | None, str]]:
        """Names plugins add to ``taskloom``: ``name -> (plugin, "module:attr")``."""
        self._discover()
        return dict(self._names)

    # --- loading ---------------------------------------------------------------------------

    @property
    def pluggy(self) -> pluggy.PluginManager:
        """The underlying pluggy manager, with taskloom's hook specifications added."""
        if self._pluggy is None:
            import pluggy

            from taskloom import hookspecs

            manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            manager.add_hookspecs(hookspecs)
            for name in self.disabled:
                manager.set_blocked(name)
            self._pluggy = manager
        return self._pluggy

    @_locked
    def load(self, name: str) -> PluginRecord:
        """Import and register plugin ``name`` if needed; return its record.

        Raises :class:`~taskloom.exceptions.system.PluginError` naming the plugin when it is not
        installed, is disabled, or failed (now or earlier) to import or register.
        """
        record = self.get_record(name)
        if record is None:
            raise PluginError(f"no taskloom plugin named {name!r} is installed", plugin=name)
        if record.state == AVAILABLE:
            self._import_and_register(record)
        if record.state == DISABLED:
            raise PluginError(
                f"taskloom plugin {name!r} is disabled (by {DISABLE_ENV} or the configuration file)",
                plugin=name,
            )
        if record.state == FAILED:
            raise PluginError(f"taskloom plugin {name!r} failed to load: {_describe(record.error)}", plugin=name)
        return record

    @_locked
    def load_all(self) -> None:
        """Import and register every installed, enabled plugin; failures are recorded, not raised."""
        for record in sorted(self.records(), key=lambda record: record.priority):
            if record.state == AVAILABLE:
                self._import_and_register(record)
        self._all_loaded = True

    def _import_and_register(self, record: PluginRecord) -> None:
        assert record.module is not None
        module_name, _, attribute = record.module.partition(":")
        try:
            plugin: Any = importlib.import_module(module_name.strip())
            for part in filter(None, attribute.strip().split(".")):
                plugin = getattr(plugin, part)
            self._register_object(record, plugin)
        except Exception as error:  # a broken plugin must not take the kernel down
            self._fail(record, error)

    def _register_object(self, record: PluginRecord, plugin: Any) -> None:
        self._check_api(record, plugin)
        manager = self.pluggy
        if manager.register(plugin, name=record.name) is None:  # blocked by name (set_blocked)
            record.state = DISABLED
            return
        self._isolate(record.name, plugin)
        record.plugin = plugin
        record.state = LOADED
        record.hooks = tuple(sorted(caller.name for caller in manager.get_hookcallers(plugin) or ()))
        # pluggy asks the latest registered implementation first; plugins are loaded lazily, in any
        # order, so the plugins that must answer before this one are registered again after it.
        for later in sorted(self._records.values(), key=lambda other: other.priority):
            if later.priority > record.priority and later.plugin is not None and manager.is_registered(later.plugin):
                manager.unregister(later.plugin)
                manager.register(later.plugin, name=later.name)
                self._isolate(later.name, later.plugin)
        self.generation += 1

    def _isolate(self, plugin_name: str, plugin: Any) -> None:
        """Wrap each of ``plugin``'s hook implementations so that one that raises is reported and skipped.

        The wrapping happens here, once, when the plugin is registered; the call itself is pluggy's.
        A :class:`~taskloom.exceptions.user.UserException` is the plugin's answer about the user's
        program (a type it cannot handle, a task it cannot package), not a broken plugin: it
        reaches the caller and the plugin stays enabled.
        """
        for caller in self.pluggy.get_hookcallers(plugin) or ():
            for implementation in caller.get_hookimpls():
                if implementation.plugin is plugin:
                    report = functools.partial(self.report_failure, plugin_name, hook=caller.name)
                    if implementation.wrapper or implementation.hookwrapper:
                        wrapped = _isolated_generator(implementation.function, report)
                    else:
                        wrapped = _isolated(implementation.function, report, self._answer_checks, caller.name)
                    # HookImpl.function is declared Final for pluggy's readers; it is a plain slot.
                    implementation.function = wrapped  # type: ignore[misc]

    def _check_api(self, record: PluginRecord, plugin: Any) -> None:
        """Refuse a plugin built for a plugin API this kernel does not offer, before any hook is registered."""
        wanted = getattr(plugin, "TASKLOOM_API", None)
        if wanted is None:
            return
        if not compatible_api(str(wanted)):
            raise PluginError(
                f"taskloom plugin {record.name!r} needs plugin API {wanted}, this kernel offers "
                f"{PLUGIN_API} (a plugin works with the same major version and an equal or lower minor one)",
                plugin=record.name,
            )

    @_locked
    def _fail(self, record: PluginRecord, error: BaseException, hook: str | None = None) -> None:
        record.state = FAILED
        record.error = error
        if record.plugin is not None and self._pluggy is not None and self._pluggy.is_registered(record.plugin):
            self._pluggy.unregister(record.plugin)
        record.plugin = None
        self.generation += 1
        import warnings

        where = f" (its {hook} raised)" if hook else ""
        warnings.warn(
            f"taskloom plugin {record.name!r} skipped{where}: {_describe(error)}", PluginWarning, stacklevel=2
        )

    # --- run-time registration (tests, embedding applications) -------------------------------

    @_locked
    def register(
        self,
        plugin: Any,
        name: str | None = None,
        *,
        names: dict[str, str] | None = None,
        commands: Iterable[str] = (),
    ) -> PluginRecord:
        """Register ``plugin`` (a module or object with hook implementations) now, at top priority.

        ``names`` maps public names it adds to ``taskloom`` to ``"module:attr"``; ``commands`` lists
        the ``loom`` subcommands it contributes. Returns its record; registering a name that is
        already taken replaces the earlier plugin.
        """
        self._discover()
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if name in self._records:
            self.unregister(name)
        record = self._add_record(name, None, runtime=True)
        record.state = AVAILABLE
        self._declare(name, names, commands)
        try:
            self._register_object(record, plugin)
        except Exception as error:
            self._fail(record, error)
        return record

    @_locked
    def add_entry_point(
        self,
        name: str,
        module: str,
        *,
        names: dict[str, str] | None = None,
        commands: Iterable[str] = (),
    ) -> PluginRecord:
        """Declare a plugin as if its distribution's entry points said so; it is imported lazily.

        For tests and for applications that ship a plugin without packaging it.
        """
        self._discover()
        if name in self._records:
            self.unregister(name)
        record = self._add_record(name, module, runtime=True)
        self._declare(name, names, commands)
        return record

    def _declare(self, name: str, names: dict[str, str] | None, commands: Iterable[str]) -> None:
        for public, target in (names or {}).items():
            self._names[public] = (name, target)
        for command in commands:
            self._commands[command] = name

    @_locked
    def unregister(self, name: str) -> None:
        """Forget plugin ``name`` (unregistering its hooks); no error if it is unknown."""
        record = self._records.pop(name, None)
        if record is None:
            return
        if record.plugin is not None and self._pluggy is not None and self._pluggy.is_registered(record.plugin):
            self._pluggy.unregister(record.plugin)
        self._names = {key: value for key, value in self._names.items() if value[0] != name}
        self._commands = {key: value for key, value in self._commands.items() if value != name}
        self.generation += 1

    @_locked
    def disable(self, name: str) -> None:
        """Block plugin ``name`` for the rest of this manager's life (unregistering it if loaded)."""
        self._discover()
        self._extra_disabled.add(name)
        record = self._records.get(name)
        if record is not None:
            if record.plugin is not None and self._pluggy is not None and self._pluggy.is_registered(record.plugin):
                self._pluggy.unregister(record.plugin)
            record.plugin = None
            record.state = DISABLED
        if self._pluggy is not None:
            self._pluggy.set_blocked(name)
        self.generation += 1

    # --- calling hooks ---------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        """pluggy's hook relay, every enabled plugin loaded: call ``manager.hook.taskloom_executor(name=...)``.

        Hooks are called by pluggy, so ``firstresult``, ``wrapper=True``, ``tryfirst``/``trylast`` and
        ``historic`` mean what pluggy documents. Implementations are isolated when they are
        registered (see :meth:`_isolate`): one that raises is reported and skipped, and the call goes
        on with the others.
        """
        if not self._all_loaded:
            self.load_all()
        return self.pluggy.hook

    def check_answers(self, hook: str, check: Any) -> None:
        """Check each implementation's answer to ``hook`` with ``check(answer)`` from now on.

        ``check`` raises TypeError saying what is wrong; the plugin that gave the answer is then
        reported and skipped, as if its implementation had raised, and the others still answer.
        """
        self._answer_checks[hook] = check

    @_locked
    def report_failure(self, plugin_name: str, error: BaseException, hook: str | None = None) -> None:
        """Mark the plugin ``plugin_name`` failed because one of its hook implementations raised ``error``."""
        record = self._records.get(plugin_name)
        if record is not None and record.state != FAILED:
            self._fail(record, error, hook=hook)

    # --- names in the taskloom namespace ---------------------------------------------------

    def resolve_name(self, public: str) -> Any:
        """Return the object a plugin adds to ``taskloom`` as ``public``, importing only that plugin.

        Raises ImportError naming the distribution to install (or the plugin's error) when the
        providing plugin is missing, disabled or broken, and AttributeError for a name nobody
        provides.
        """
        self._discover()
        declared = self._names.get(public)
        if declared is None:
            distribution = distribution_providing(name=public)
            if distribution is not None:
                raise ImportError(
                    f"taskloom.{public} is provided by the distribution {distribution!r}, which is not "
                    f"installed: pip install {distribution}",
                    name=f"taskloom.{public}",
                )
            raise AttributeError(f"module 'taskloom' has no attribute {public!r}")
        plugin, target = declared

        if plugin is not None:
            try:
                self.load(plugin)
            except PluginError as error:
                record = self._records.get(plugin)
                distribution = distribution_of(record.module if record else target)[0] or distribution_providing(
                    name=public
                )
                source = f"the plugin {plugin!r}" + (f" (distribution {distribution!r})" if distribution else "")
                raise ImportError(
                    f"taskloom.{public} is provided by {source}, which cannot be used: {error}"
                ) from error
        module_name, _, attribute = target.partition(":")
        try:
            value: Any = importlib.import_module(module_name.strip())
            for part in filter(None, attribute.strip().split(".")):
                value = getattr(value, part)
        except Exception as error:
            raise ImportError(f"taskloom.{public} ({target}) could not be imported: {_describe(error)}") from error
        return value


def _describe(error: BaseException | None) -> str:
    return f"{type(error).__name__}: {error}" if error is not None else "unknown error"


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """Return the process's plugin manager, creating it (without importing any plugin) on first use."""
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def set_plugin_manager(manager: PluginManager | None) -> PluginManager | None:
    """Replace the process's plugin manager (tests); return the previous one."""
    global _manager
    previous, _manager = _manager, manager
    return previous


def _isolated(function: Any, report: Any, checks: dict[str, Any], hook: str) -> Any:
    """``function`` calling ``report(error)`` and answering None instead of raising (a UserException passes).

    An answer that the hook's check (:meth:`PluginManager.check_answers`) refuses counts as raising.
    """

    @functools.wraps(function)
    def isolated(*args: Any) -> Any:
        try:
            answer = function(*args)
            check = checks.get(hook)
            if check is not None and answer is not None:
                check(answer)
            return answer
        except Exception as error:
            if _is_user_error(error):
                raise
            report(error)
            return None

    return isolated


def _isolated_generator(function: Any, report: Any) -> Any:
    """A hook wrapper (new or old style) whose own failure is reported and leaves the call's answer alone.

    The wrapper's generator is driven step by step so that an error *it* raises (before its
    ``yield``, or while handling the answer) is told apart from the inner call's error that pluggy
    throws into it and that it lets through: only the first is the plugin's fault.
    """

    @functools.wraps(function)
    def isolated(*args: Any) -> Any:
        generator = function(*args)
        try:
            next(generator)
        except Exception as error:
            if _is_user_error(error):
                raise
            report(error)
            return (yield)
        try:
            answer = yield
        except BaseException as thrown:
            try:
                generator.throw(thrown)
            except StopIteration as stop:  # the wrapper recovered from the error and answered
                return stop.value
            except Exception as error:
                if error is thrown or error.__cause__ is thrown or _is_user_error(error):
                    raise
                report(error)
                raise thrown  # noqa: B904 (the inner call's own error goes on unchanged)
            generator.close()
            report(RuntimeError(f"hook wrapper {function.__qualname__} yielded more than once"))
            raise
        try:
            generator.send(answer)
        except StopIteration as stop:
            return stop.value
        except Exception as error:
            if _is_user_error(error):
                raise
            report(error)
            return answer
        generator.close()
        report(RuntimeError(f"hook wrapper {function.__qualname__} yielded more than once"))
        return answer

    return isolated


def _is_user_error(error: BaseException) -> bool:
    return isinstance(error, UserException)


#: The version of the plugin-facing API (:mod:`taskloom.extend`). A plugin module may declare the
#: version it was written for as ``TASKLOOM_API = "1.0"``; it loads when the major versions are equal
#: and its minor version is not newer than this one.
PLUGIN_API = "1.6"


def compatible_api(wanted: str, offered: str = PLUGIN_API) -> bool:
    """Whether a plugin written for plugin API ``wanted`` works with a kernel offering ``offered``."""
    try:
        major, minor = (int(part) for part in (wanted.split(".") + ["0"])[:2])
        offered_major, offered_minor = (int(part) for part in offered.split(".")[:2])
    except ValueError:
        return False
    return major == offered_major and minor <= offered_minor
