"""What a recorded node ran, as a digest a resume compares: :func:`node_fingerprint` and
:func:`entity_fingerprint`.

A resume reads back the outputs of the nodes that had finished instead of running them again. That
is only right if the node would run the same code on the same inputs now: a task edited between the
kill and the resume must run again, with everything that depends on it (DESIGN §7: "resume never
mixes code versions"). So each node's row keeps a fingerprint of what it ran, and a resume runs a
node again when the fingerprint it computes now differs, or when a node it depends on runs again.

An entity's fingerprint covers:

* its kind (class), name and interface (input and output names and types);
* for a task with a Python function, the function's *code* (bytecode, constants, names; not its
  comments or layout), and, followed by name from that code, the code of the functions, classes'
  methods and tasks of the same project it calls (a helper edited is a task changed) and the
  module-level data it reads (numbers, strings, lists, dicts... by value); functions of installed
  libraries and of the standard library are not followed;
* its cache version, if it sets one (a user who bumps it says the task changed);
* the entities it holds (a map task's mapped task, and its bound inputs);
* for a workflow, each node's id, what it runs, what it waits for and its constant inputs.

A node's fingerprint is its entity's plus the node's constant inputs (a workflow whose constant
changed runs that node again). What is not covered: data a task reads from outside (files,
databases, the environment, the clock), and code reached other than by a global name of the
project (``getattr``, a function passed in as a value, a library upgraded). Those are the user's to
know; ``loom run`` without ``--resume`` starts afresh.

Fingerprints are computed on the recorder's thread and when a resume starts, once per entity and
process.
"""

from __future__ import annotations

import os
import sys
import types
import weakref
from typing import Any

from taskloom.extend import Promise as _Promise

try:  # the C module itself: hashlib (OpenSSL) costs a run ~4 ms to import, this 0.2 ms
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b


def entity_fingerprint(entity: Any) -> str:
    """The digest of what ``entity`` (a task, workflow, launch plan, branch or gate) runs."""
    return _remembered(_entities, entity, _entity_fingerprint)


def node_fingerprint(node: Any) -> str:
    """The digest of what ``node`` runs: its entity's fingerprint and its constant inputs."""
    return _remembered(_nodes, node, _node_fingerprint)


# Worked out once per object, and forgotten with it: a dynamic body compiles a new graph per run.
_entities: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_nodes: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _remembered(known: weakref.WeakKeyDictionary[Any, str], value: Any, work_out: Any) -> str:
    try:
        found = known.get(value)
    except TypeError:  # not weakly referable (or not hashable): worked out each time
        return work_out(value)
    if found is None:
        found = known[value] = work_out(value)
    return found


def _entity_fingerprint(entity: Any) -> str:
    walker = _Walker()
    walker.entity(entity)
    return walker.hexdigest()


def _node_fingerprint(node: Any) -> str:
    entity = entity_fingerprint(node.entity)
    bindings = node.bindings
    if all(type(value) is _Promise for value in bindings.values()):
        # The common node of a chain reads only promises: which outputs it reads is its whole story.
        read = ";".join(
            f"{name}={value.node_id}.{value.var}{value.attr_path or ''}" for name, value in sorted(bindings.items())
        )
        return f"{entity}:{read}"
    walker = _Walker()
    walker.text("entity", entity)
    for name, value in sorted(bindings.items()):
        walker.text("binding", name)
        walker.value(value)
    return walker.hexdigest()


class _Walker:
    """Collects what an entity runs as lines of text, once per object (cycles end), to be digested."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.seen: set[int] = set()

    def text(self, *parts: Any) -> None:
        self.lines.append("\0".join(map(str, parts)))

    def hexdigest(self) -> str:
        return blake2b("\n".join(self.lines).encode(), digest_size=10).hexdigest()

    def entity(self, entity: Any) -> None:
        if id(entity) in self.seen:
            self.text("again", getattr(entity, "name", type(entity).__qualname__))
            return
        self.seen.add(id(entity))
        kind = type(entity)
        self.text("entity", kind.__module__, kind.__qualname__, getattr(entity, "name", ""))
        interface = getattr(entity, "python_interface", None)
        if interface is not None:
            from taskloom.extend import type_name

            for direction, variables in (("in", interface.inputs), ("out", interface.outputs)):
                for name, python_type in variables.items():
                    self.text(direction, name, type_name(python_type))
        cache = getattr(entity, "cache", None)
        if cache is not None and getattr(cache, "version", None):
            self.text("cache version", cache.version)
        function = getattr(entity, "task_function", None)
        if function is not None:
            self.function(function)
        if getattr(entity, "is_branch", False):
            for case in entity.cases:
                self.text("case", repr(case.condition), case.error)
                if case.node is not None:
                    self.node(case.node)
        if getattr(entity, "is_launch_plan", False):
            self.text("fixed", repr(sorted(getattr(entity, "fixed_inputs", {}) or {})))
            self.entity(entity.workflow)
            return
        nodes = getattr(entity, "nodes", None)
        if nodes is not None and not callable(nodes):
            for node in nodes:
                self.node(node)
            for name, value in sorted(getattr(entity, "output_bindings", {}).items()):
                self.text("output", name)
                self.value(value)
            return
        # Entities held by this one (a map task's mapped task, its bound inputs).
        for name, value in sorted(vars(entity).items()) if hasattr(entity, "__dict__") else ():
            if _is_entity(value):
                self.text("holds", name)
                self.entity(value)
            elif name in ("_bound_values", "bound_values") and isinstance(value, dict):
                self.text("bound", name)
                self.value(value)

    def node(self, node: Any) -> None:
        # What it reads (promises name their nodes), what it waits for besides (>>), what it runs.
        after = sorted(upstream.id for upstream in node.explicit_upstream_nodes)
        self.text("node", node.id, *after, node_fingerprint(node))

    def value(self, value: Any) -> None:
        """A binding's value: promises by what they read, constants by their repr."""
        if isinstance(value, _Promise):
            self.text("promise", value.node_id, value.var, *value.attr_path)
        elif type(value) in (list, tuple) and _SCALARS.issuperset(map(type, value)):
            # A constant list of scalars (list(range(100_000)) given to a map): by the digest of its
            # pickle, which is exact and, without sets or dicts inside, the same in every process.
            import pickle

            data = pickle.dumps(value, protocol=4)
            self.text("constant", type(value).__name__, len(value), blake2b(data, digest_size=16).hexdigest())
        elif isinstance(value, (list, tuple)):
            self.text("sequence", len(value))
            for item in value:
                self.value(item)
        elif isinstance(value, dict):
            self.text("mapping", len(value))
            for key in sorted(value, key=repr):
                self.text("key", repr(key))
                self.value(value[key])
        else:
            text = _data_text(value) if type(value) in _DATA else repr(value)
            if " at 0x" in text:  # the default repr: an address, not a value
                text = f"<{type(value).__module__}.{type(value).__qualname__}>"
            self.text("constant", text)

    def function(self, function: Any) -> None:
        """A function's code and the project code it names, followed through globals."""
        function = getattr(function, "__wrapped__", function)
        code = getattr(function, "__code__", None)
        if code is None or id(code) in self.seen:
            return
        self.seen.add(id(code))
        self.code(code)
        defaults = getattr(function, "__defaults__", None)
        if defaults:
            self.text("defaults")
            for default in defaults:
                self.value(default)
        namespace = getattr(function, "__globals__", {})
        for name in sorted(_global_names(code)):
            target = namespace.get(name)
            if type(target) in _DATA:  # a module's constant (or setting) the code reads
                self.text("reads", name, _data_text(target))
                continue
            if target is None or not _in_project(target):
                continue
            if _is_entity(target):
                self.text("calls", name)
                self.entity(target)
            elif isinstance(target, types.FunctionType):
                self.text("uses", name)
                self.function(target)
            elif isinstance(target, type) and id(target) not in self.seen:
                self.seen.add(id(target))
                self.text("class", name)
                for attribute, member in sorted(vars(target).items()):
                    member = getattr(member, "__func__", member)  # classmethods and staticmethods
                    if isinstance(member, types.FunctionType):
                        self.text("method", attribute)
                        self.function(member)

    def code(self, code: types.CodeType) -> None:
        self.lines.append(code.co_code.hex())
        self.text("names", *code.co_names)
        self.text("variables", *code.co_varnames)
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                self.code(constant)
            else:
                self.text(
                    "const",
                    type(constant).__name__,
                    _data_text(constant) if type(constant) in _DATA else repr(constant),
                )


_DATA = frozenset({int, float, complex, str, bytes, bool, tuple, list, dict, set, frozenset})
_SCALARS = frozenset({int, float, str, bool, bytes, type(None)})


def _data_text(value: Any) -> str:
    # Sets have no order of their own (string hashes change from process to process): sorted.
    return repr(sorted(map(repr, value))) if isinstance(value, (set, frozenset)) else repr(value)


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _is_entity(value: Any) -> bool:
    """Whether ``value`` is something a node runs: its class (or the instance itself) defines
    ``python_interface`` and ``name``. Asked of the value alone, a ``MagicMock`` has every attribute,
    and a mocked task holds one (``task_mock`` sets ``execute``): the walk followed mock after new mock,
    calling each, until memory ran out (a CI run's worker at 23 GB)."""
    if isinstance(value, type):
        return False
    kind, own = type(value), getattr(value, "__dict__", {})
    return all(hasattr(kind, name) or name in own for name in ("python_interface", "name"))


# The standard library and installed distributions (sysconfig would say it exactly, for ~1.5 ms).
_LIBRARY_DIRECTORIES = tuple(
    {os.path.realpath(os.path.dirname(os.__file__)) + os.sep}
    | {os.path.realpath(path) + os.sep for path in sys.path if path.endswith(("site-packages", "dist-packages"))}
)


def _in_project(value: Any) -> bool:
    """Whether ``value`` is defined by the user's code rather than a library, taskloom or Python itself."""
    module_name = getattr(value, "__module__", None)
    if _is_entity(value):
        function = getattr(value, "task_function", None)
        module_name = getattr(function, "__module__", module_name)
    module_name = module_name or ""
    top = module_name.partition(".")[0]
    if top == "taskloom" or top.startswith("taskloom_"):
        return False
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        return module_name in ("__main__", "__mp_main__")
    return not os.path.realpath(file).startswith(_LIBRARY_DIRECTORIES)
