"""Every extension point of taskloom, in one place.

A plugin is a module (or object) of plain functions marked with :data:`hookimpl` (import it from
:mod:`taskloom.extend`, the plugin-facing API) and named after the hooks below; it is registered
through the entry-point group ``taskloom.plugins`` (see ``plugins/README.md``) and imported the first
time one of its capabilities is needed.

Two calling conventions, as in pytest:

* "everyone contributes" hooks return a list; the kernel collects every plugin's answer.
* ``firstresult`` hooks answer "who handles this?": the first non-None answer wins.

Every hook is called through pluggy, so its options mean what pluggy documents:
``@hookimpl(wrapper=True)`` wraps the other implementations (``answer = yield``, then return it or
a changed one), ``tryfirst``/``trylast`` move an implementation to the front or the back. Otherwise
plugins are asked in priority order: plugins registered at run time (tests, embedding applications)
first, newest first; then third-party plugins; then the standard plugins. So a third-party plugin
overrides a standard one, whatever order they were imported in.

A hook implementation that raises is reported with its plugin and hook (``PluginWarning``,
``loom plugins``) and its plugin is skipped from then on; the call goes on with the other
implementations. A :class:`~taskloom.exceptions.user.UserException` is different: it is an answer
about the user's program (a type it cannot handle, a task it cannot package), and it reaches the
caller with the plugin left enabled.

A hook implementation may accept fewer arguments than the specification names (pluggy passes only
the ones it asks for), so adding an argument to a hook does not break existing plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

import pluggy

if TYPE_CHECKING:
    import click

    from taskloom.configuration import SerializationSettings
    from taskloom.core.base_task import PythonTask
    from taskloom.core.events import ExecutionEvent, NodeEvent
    from taskloom.core.executor import Executor, TaskPool
    from taskloom.core.gate import SignalBoard
    from taskloom.core.python_function_task import PythonFunctionTask
    from taskloom.core.type_engine import TypeTransformer
    from taskloom.storage import FileSystem
    from taskloom.types.structured.handlers import StructuredDatasetDecoder, StructuredDatasetEncoder

PROJECT_NAME = "taskloom"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marker for hook implementations: ``@hookimpl def taskloom_type_transformers(): ...``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- types -----------------------------------------------------------------------------------


@hookspec
def taskloom_type_transformers() -> list[TypeTransformer[Any]]:
    """Contribute transformers between Python types and literals.

    Called the first time the type engine needs a transformer after the set of loaded plugins
    changed. Every implementation contributes a list of :class:`~taskloom.core.type_engine.TypeTransformer`.
    When two transformers claim the same Python type, the one from the plugin asked first wins (see
    the module docs), so a third-party transformer for ``int`` replaces the standard one. Within one
    plugin's list, earlier entries win.
    """


@hookspec
def taskloom_structured_dataset_handlers() -> list[StructuredDatasetEncoder[Any] | StructuredDatasetDecoder[Any]]:
    """Contribute encoders and decoders of tables: how a dataframe library's tables are written to and
    read from storage, for ``StructuredDataset`` and for tables annotated directly (``pd.DataFrame``).

    Called the first time a table is written or read (or its default format asked for) after the set
    of loaded plugins changed; not called to declare or run workflows in-process, where tables are
    handed over as they are. Every implementation contributes a list of
    :class:`~taskloom.types.structured.handlers.StructuredDatasetEncoder` and
    :class:`~taskloom.types.structured.handlers.StructuredDatasetDecoder` instances, each keyed by
    (``python_type``, ``protocol``, ``supported_format``); ``protocol=None`` serves every protocol
    the storage hook serves (:func:`taskloom_filesystem`). When two handlers have the same key, the
    one from the plugin asked first wins (see the module docs), so a third-party Parquet encoder for
    ``pandas.DataFrame`` replaces the standard one; within one list, earlier entries win. A type's
    default format is Parquet when it has a Parquet encoder, else its first encoder's format.
    Contribute handlers only for libraries that are importable (return none rather than raise):
    the lookup is :class:`~taskloom.types.structured.handlers.DataFrameHandlers`.
    """


# --- task types ------------------------------------------------------------------------------


@hookspec(firstresult=True)
def taskloom_task_class(task_config: Any) -> type[PythonFunctionTask[Any]] | None:
    """Return the task class that ``@task(task_config=...)`` builds for ``task_config``, or None.

    Called once per decorated function whose ``task_config`` is not None. A plugin that defines a
    task type answers for instances of its configuration class (``Spark``, ``Pod``...) with a
    subclass of :class:`~taskloom.core.python_function_task.PythonFunctionTask`, constructed as
    ``cls(task_config, function, **task_arguments)``. The first non-None answer wins; with no answer
    the decorator fails, naming the configuration's type.
    """


# --- execution -------------------------------------------------------------------------------


@hookspec(firstresult=True)
def taskloom_executor(name: str) -> Executor | None:
    """Return the executor called ``name`` (``"local"``, ``"dask"``...), or None if this plugin has none.

    Called when a workflow is run outside another workflow (``wf(x=1)``); ``name`` comes from
    ``TASKLOOM_EXECUTOR`` (``"local"`` by default). The object returned implements
    :class:`taskloom.core.executor.Executor`. The first non-None answer wins.
    """


@hookspec(firstresult=True)
def taskloom_task_pool(name: str) -> TaskPool | None:
    """Return the pool where task bodies run for the executor called ``name``, or None if this plugin
    has none for it.

    Called when the executor ``name`` is asked for (:func:`taskloom_executor`) by a plugin whose
    executor schedules in this process and can run task bodies elsewhere: taskloom-local answers
    :func:`taskloom_executor` for any name a plugin answers here with the local executor's scheduler
    (dataflow order, retries, timeouts, cache, records, resume, map batching, dynamic and eager
    bodies) and every task body run on that pool, so a plugin that only knows how to run a body
    somewhere (taskloom-dask on a Dask cluster) gets all of it. The object returned implements
    :class:`taskloom.core.executor.TaskPool`; return the same pool for the same name within a
    process (it is asked for at every run), and make it ready or fail here with one clear error: a
    :class:`~taskloom.exceptions.user.UserException` naming the setting that points nowhere (an address
    no scheduler answers at) reaches the user as one line; any other exception disables the plugin
    (see the module docs). The first non-None answer wins.
    """


@hookspec(firstresult=True)
def taskloom_signal_board(executor: str) -> SignalBoard | None:
    """Return the board on which the executor called ``executor`` keeps the signals of its gates, or
    None if this plugin does not provide that executor or its gates take no signals.

    Called when user code or ``loom run --signal`` sends a signal, lists the gates waiting or clears
    signals (:func:`taskloom.core.gate.send_signal`, ``waiting_gates``, ``clear_signals``); ``executor``
    is the name ``TASKLOOM_EXECUTOR`` gives (``"local"`` by default). The object returned implements
    :class:`taskloom.core.gate.SignalBoard` and is the same for every call in a process: the
    executor's gates wait on it, so signals sent before a run starts still reach its gates. The first
    non-None answer wins.
    """


@hookspec(firstresult=True)
def taskloom_stats_client() -> Any:
    """Return the metrics handle tasks get as ``current_context().stats``, or None.

    Called the first time a task uses ``stats`` in an execution. The object needs ``incr``,
    ``decr``, ``gauge``, ``timing`` and a ``timer`` context manager (a statsd client qualifies).
    With no answer, a handle that records nothing is used. The first non-None answer wins.
    """


# --- lifecycle events ------------------------------------------------------------------------
# Executors announce what happens; any plugin may listen (a progress display, a metrics exporter,
# an audit log). Listeners run on the executor's threads and must return quickly; one that raises
# is reported and skipped. Nothing is called when no plugin implements the hook.


@hookspec
def taskloom_execution_started(event: ExecutionEvent) -> None:
    """Called when an executor starts running a workflow, launch plan or task from outside any
    execution. ``event`` is a :class:`~taskloom.core.events.ExecutionEvent` (its ``error`` is None).
    Every implementation is called.
    """


@hookspec
def taskloom_execution_finished(event: ExecutionEvent) -> None:
    """Called when that execution ends, successfully (``event.error`` is None) or not (the exception
    that ends it). Every implementation is called.
    """


@hookspec
def taskloom_node_started(event: NodeEvent) -> None:
    """Called when a node starts its first attempt: a task, subworkflow, branch or launch plan node, or
    a child started by a running task (a map element, a node of a dynamic graph, a call in an eager
    workflow), whose ``event.parent`` is the path of the node that started it. Every implementation
    is called.
    """


@hookspec
def taskloom_node_retried(event: NodeEvent) -> None:
    """Called when an attempt of a node failed and the node runs again; ``event.error`` is that
    attempt's exception and ``event.attempt`` the number of the attempt about to start. Every
    implementation is called.
    """


@hookspec
def taskloom_node_expanded(event: NodeEvent) -> None:
    """Called when a running node is about to start a known number of children (a map task's
    elements): ``event.path`` is that node, ``event.children`` the count, so that a display can say
    "3 of 10 done". Children announce their own start and end. Every implementation is called.
    """


@hookspec
def taskloom_node_finished(event: NodeEvent) -> None:
    """Called when a node ends: ``event.error`` is None on success, else the exception that failed it;
    ``event.cached`` tells that its outputs came from the cache. Every implementation is called.
    """


@hookspec(firstresult=True)
def taskloom_progress_display(stream: TextIO, interactive: bool) -> object | None:
    """Return an object whose lifecycle hooks draw the progress of a ``loom run`` on ``stream``, or None.

    Called once by ``loom run``, before it runs the task or workflow, unless ``--progress never``.
    ``stream`` is where to draw: the standard error, so that the program's own output and the
    outputs ``loom run`` prints stay clean on standard output. ``interactive`` is True when the
    display may redraw in place with terminal escapes (``stream`` is a terminal, or ``--progress
    always``); when False, write plain lines fit for a log file. Return a new object (not one
    already registered as a plugin) implementing any of the lifecycle hooks above, as methods
    marked with :data:`hookimpl`: ``loom run`` registers it as a run-time plugin for the duration
    of the run and unregisters it afterwards, whether the run succeeded or not. Runs started from
    Python never ask. The first non-None answer wins; with none, nothing is drawn.
    """


# --- decks -----------------------------------------------------------------------------------
# A task with ``enable_deck`` hands its decks over when an attempt succeeds; tasks without decks
# never call these hooks, so they cost them nothing.


@hookspec
def taskloom_task_decks(
    task: PythonTask,
    decks: list[Any],
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    execution_id: str,
    node_path: str | None,
    timeline: list[dict[str, Any]],
    output_prefix: str | None,
) -> None:
    """Called when an attempt of a task with ``enable_deck`` succeeded, in the process and thread
    where its body ran (a worker process of a pool too), after its outputs were checked.

    ``task`` is the task (its ``deck_fields`` say which standard decks to add); ``decks`` the decks
    its body made (``Deck(name, html)``, ``current_context().default_deck``: objects with ``name``
    and ``html``), in order; ``inputs`` and ``outputs`` its values by name; ``execution_id`` the
    execution's name; ``node_path`` the node the attempt ran as (``n3``, ``n1-n0``, a map element
    ``n2-5``; None for a task called directly, outside any execution); ``timeline`` the parts of the
    attempt as dicts with ``name``, ``start`` and ``finish`` (epoch seconds), ``wall_time`` and
    ``process_time`` (seconds); ``output_prefix`` the URI where a container entrypoint
    (``loom-execute``) writes the attempt's outputs, where Flyte looks for ``deck.html`` (None
    elsewhere). Every implementation is called; taskloom-report writes the deck page (see
    :func:`taskloom_execution_directory`). With none, the kernel warns once per process that
    decks need taskloom-report.
    """


@hookspec(firstresult=True)
def taskloom_deck_renderer(python_type: Any, value: Any) -> Any:
    """Return the renderer that shows ``value`` (declared as ``python_type``) in a task's input and
    output decks, or None if this plugin does not render such values.

    Called by the plugin writing decks for each input and output value of a task with
    ``enable_deck``, unless the declared type names a renderer itself
    (``Annotated[pd.DataFrame, TopFrameRenderer(10)]``, as in flytekit). The renderer is an object
    with ``to_html(value) -> str`` returning safe HTML (text it shows escaped). Answer without
    importing a library the value cannot come from (test ``type(value).__module__``), since every
    value is asked about. The first non-None answer wins; with none, the value is shown as its
    escaped, truncated ``repr``. taskloom-arrow answers for pandas and pyarrow tables and
    ``StructuredDataset``, as flytekit's ``StructuredDatasetTransformerEngine.register_renderer`` does.
    """


@hookspec(firstresult=True)
def taskloom_execution_directory(execution_id: str) -> str | None:
    """Return the directory where the executor that runs ``execution_id`` keeps its files, or None
    if this plugin does not record it.

    Called by the plugin writing decks (for a task node of ``execution_id``: its deck is
    ``<directory>/decks/<node path>.html``) and by ``loom deck``. taskloom-local answers with the
    execution's directory in its execution store (``<data dir>/executions/<id>``) when recording is
    on. The directory may not exist yet. The first non-None answer wins; with none, decks are written
    to a temporary directory and their path logged, as flytekit does for local runs.
    """


# --- serialisation ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def taskloom_task_command(task: PythonTask, settings: SerializationSettings) -> list[str] | None:
    """Return the command line that runs ``task`` inside its container, or None.

    Called when a task becomes a :class:`~taskloom.models.task.TaskTemplate`
    (``task.to_task_template(settings)``), for every task whose template has a container (or a pod
    template's primary container). The answer becomes the container's ``args``; the plugin that
    answers is the one whose entrypoint will run the task (taskloom-flyte answers with
    ``loom-execute ... -- task-module M task-name N``). A task class that sets its own command
    overrides ``get_command(settings)`` instead and is not asked about. The first non-None answer
    wins; with none, the container has no command and the template can only describe the task.
    """


@hookspec(firstresult=True)
def taskloom_container_image(image: Any, settings: SerializationSettings) -> str | None:
    """Return the name of the image that ``image`` describes, or None if this plugin does not know it.

    Called when a task's template is made (``task.to_task_template(settings)``, ``loom package``) and
    the task's ``container_image`` is an object rather than a string: ``@task(container_image=spec)``
    with taskloom-container's ``ImageSpec``, which answers with the name pyflyte gives the image
    (``registry/name:tag``). The kernel sees only the string; the answer may still use
    ``{{.image.NAME}}`` placeholders, replaced from ``settings``. The first non-None answer wins; with
    none, the template cannot be made (a ``ValidationError`` naming the task and the object's type).
    """


@hookspec(firstresult=True)
def taskloom_container_runtime(name: str | None) -> Any:
    """Return the container runtime named ``name`` (``"podman"``, ``"docker"``...), or, when ``name``
    is None, the runtime this plugin would run containers with here; None if it has none.

    Called when a task runs a container locally (taskloom-container's ``ContainerTask``, ``loom
    build``), through :func:`taskloom.containers.get_container_runtime`. The object returned offers
    the interface of taskloom-container's ``ContainerRuntime`` (``run``, ``image_exists``, ``build``:
    see that plugin's README), so that another plugin can add a runtime (nerdctl, a remote engine)
    without touching taskloom-container. Plugins registered later are asked first; the first non-None
    answer wins.
    """


# --- storage ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def taskloom_filesystem(protocol: str) -> FileSystem | None:
    """Return a filesystem for URIs of ``protocol`` (``"s3"``, ``"file"``, ``"memory"``...), or None.

    Called when a value must be read from or written to a URI, e.g. when a ``File`` whose path is
    remote is first opened. ``protocol`` is the URI scheme without ``://`` (``"file"`` for plain
    paths). The object returned must offer the subset of ``fsspec.AbstractFileSystem`` listed in
    :class:`taskloom.storage.FileSystem`; an fsspec filesystem qualifies as it is. The first
    non-None answer wins.
    """


# --- command line ----------------------------------------------------------------------------


@hookspec
def taskloom_cli_commands() -> list[click.Command]:
    """Contribute subcommands to the ``loom`` command line.

    Called when ``loom`` needs a command that is not built in. So that ``loom --help`` lists a
    command without importing the plugin, declare its name in the entry-point group
    ``taskloom.commands`` too (``name = "your_plugin.hooks"``); an undeclared command still runs,
    but is found only after every plugin has been loaded. Every implementation contributes; for two
    commands of the same name, the plugin asked first wins.
    """


@hookspec
def taskloom_run_options() -> list[click.Option]:
    """Contribute options to ``loom run`` (``--dask-scheduler``, ``--agent-endpoint``).

    Called when ``loom run`` parses its command line (and for its help). Make each option with
    :func:`taskloom.extend.run_option`: its value, when given, becomes an environment variable, as
    ``--processes`` sets ``TASKLOOM_PROCESSES``, so what the plugin provides (an executor, a task type)
    reads its setting the same way whether started by ``loom run``, the Python API or a worker process.
    Every implementation contributes; an option whose name ``loom run`` or a plugin asked before already
    has is left out with a :class:`~taskloom.exceptions.system.PluginWarning`.
    """


# --- agents ----------------------------------------------------------------------------------


@hookspec
def taskloom_agents() -> list[Any]:
    """Contribute agents: the services that run tasks of a task type elsewhere (a query engine, a
    cluster's API), as flytekit's agents do (flytekit registers them by import side effects).

    Called once per process, the first time an agent is looked up for a task type (``loom serve
    agent``, or a task that runs through its agent), through
    :func:`taskloom.agents.contributed_agents`. Return instances of taskloom-agent's ``AsyncAgentBase``
    or ``SyncAgentBase`` (see that plugin's README); each is keyed by its task type and version. Every
    implementation contributes; for two agents of the same task type and version, the plugin asked
    first wins.
    """
