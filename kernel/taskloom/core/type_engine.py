"""The type engine: dispatch between Python types and literals.

The kernel holds the dispatch only; every transformer comes from a plugin through
:func:`~taskloom.hookspecs.taskloom_type_transformers` (taskloom-types supplies the standard ones)
or from :meth:`TypeEngine.register`. A Python type finds its transformer in this order:

1. a transformer registered for exactly that type, or for its generic origin (``list`` for
   ``list[int]``, ``typing.Union`` for ``int | None``); ``Annotated[T, ...]`` is looked up as ``T``;
2. a transformer whose :meth:`TypeTransformer.handles` claims it (dataclasses, attrs classes,
   NamedTuples: structural types that share no base class);
3. a transformer registered for one of the type's base classes, nearest first (``Enum`` for every
   enum, ``FlyteFile`` for ``FlyteFile[csv]``);
4. if the user opted the type in to pickling (:func:`taskloom.types.pickle.allow_pickle`), the
   transformer registered for :class:`~taskloom.types.pickle.FlytePickle`.

Otherwise the type is unsupported: :class:`~taskloom.exceptions.user.UnsupportedTypeError`. There is
no silent pickle fallback.

Declaring a task checks its types with :meth:`TypeEngine.check_type`, which builds no literal type:
the literal contracts are imported only when literals or literal types are really built
(templates, cache keys, the execution store), not to declare and run workflows locally.

The names and signatures follow flytekit's (``TypeEngine.to_literal(ctx, value, python_type,
expected)``...), so transformers written for flytekit port by rewriting imports.
"""

from __future__ import annotations

import inspect
import json
import reprlib
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import taskloom.plugins
from taskloom.core.hash import HashMethod
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom.plugins import get_plugin_manager
from taskloom.types.pickle import FlytePickle

if TYPE_CHECKING:
    # The contracts (attrs classes, ~30 ms to import) are imported where literals are built: a
    # local run checks types and values without them.
    from taskloom.models.literals import Literal, LiteralMap
    from taskloom.models.types import LiteralType

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

T = TypeVar("T")

_short_repr = reprlib.Repr()
_short_repr.maxstring = 40
_short_repr.maxother = 40


def type_name(python_type: Any) -> str:
    """A short, readable name for a Python type or annotation (``list[int]``, ``int | None``)."""
    if python_type is None or python_type is type(None):
        return "None"
    origin = typing.get_origin(python_type)
    if origin is typing.Annotated:
        return type_name(typing.get_args(python_type)[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in typing.get_args(python_type))
    if origin is not None:
        arguments = typing.get_args(python_type)
        base = getattr(origin, "__qualname__", None) or repr(origin).replace("typing.", "")
        if not arguments:
            return base
        return f"{base}[{', '.join('...' if arg is Ellipsis else type_name(arg) for arg in arguments)}]"
    if isinstance(python_type, type):
        return python_type.__qualname__
    if isinstance(python_type, TypeVar):
        return python_type.__name__
    return repr(python_type).replace("typing.", "")


def value_description(value: Any) -> str:
    """Describe a value for an error message: its type and a shortened repr (``str 'abc'``), on one line
    (a table's repr has several: its whitespace is collapsed)."""
    return f"{type(value).__qualname__} {' '.join(_short_repr.repr(value).split())}"


def literal_description(literal: Any) -> str:
    """Describe a literal for an error message, shortened."""
    return _short_repr.repr(literal)


class BatchSize:
    """``Annotated[T, BatchSize(n)]``: flytekit moves the files of a ``FlyteDirectory`` ``n`` at a time.

    Accepted where flytekit accepts it, so that programs port, and ignored: taskloom never holds a
    directory's files in memory to batch them (it copies a directory as one tree), so there is
    nothing to cut into batches (see the README's "Porting from flytekit").
    """

    def __init__(self, val: int) -> None:
        self._val = val

    @property
    def val(self) -> int:
        """The batch size given."""
        return self._val


def hash_method(python_type: Any) -> HashMethod[Any] | None:
    """The :class:`~taskloom.core.hash.HashMethod` in ``Annotated[T, ...]``'s metadata, or None."""
    while typing.get_origin(python_type) is typing.Annotated:
        for annotation in python_type.__metadata__:
            if isinstance(annotation, HashMethod):
                return annotation
        python_type = typing.get_args(python_type)[0]
    return None


def strip_annotated(python_type: Any) -> Any:
    """Return ``T`` for ``Annotated[T, ...]`` (at any nesting of Annotated), else the type itself."""
    while typing.get_origin(python_type) is typing.Annotated:
        python_type = typing.get_args(python_type)[0]
    return python_type


class TypeTransformer(Generic[T]):
    """Converts values of one Python type (or family of types) to and from literals.

    Subclass it in a plugin and return an instance from
    :func:`~taskloom.hookspecs.taskloom_type_transformers`. ``t`` is the type the transformer is
    registered for; override :meth:`handles` to claim structural types as well. Raise
    :class:`~taskloom.exceptions.user.TypeTransformerFailedError` with "expected X, got Y" for a value
    of the wrong type; the engine adds where the value came from.
    """

    #: Whether the engine hands ``Annotated[T, ...]`` to this transformer's methods whole. False (the
    #: default): they get ``T``, the metadata stripped. A transformer whose values are described by
    #: annotations (a table's columns and format: ``Annotated[pd.DataFrame, kwtypes(a=int)]``) sets it.
    keeps_annotations: bool = False

    def __init__(self, name: str, t: type[T] | Any, enable_type_assertions: bool = True) -> None:
        self._name = name
        self._t = t
        self._type_assertions_enabled = enable_type_assertions

    @property
    def name(self) -> str:
        """A short name for this transformer (also used as a union variant's tag)."""
        return self._name

    @property
    def python_type(self) -> Any:
        """The Python type this transformer is registered for."""
        return self._t

    @property
    def type_assertions_enabled(self) -> bool:
        """Whether :meth:`assert_type` checks values before conversion."""
        return self._type_assertions_enabled

    def handles(self, t: Any) -> bool:
        """Tell whether this transformer claims ``t`` beyond an exact or base-class match."""
        return False

    def assert_type(self, t: Any, v: Any) -> None:
        """Raise :class:`TypeTransformerFailedError` unless ``v`` is an instance of ``t``."""
        if not self._type_assertions_enabled:
            return
        check = typing.get_origin(t) or t
        if isinstance(check, type) and not isinstance(v, check):
            raise TypeTransformerFailedError(f"expected {type_name(t)}, got {value_description(v)}")

    def checker(self, t: Any) -> Callable[[Any], bool] | None:
        """A fast test of values declared as ``t``, or None when this transformer offers none.

        The test must answer True only for values :meth:`to_literal` accepts as they are; it may
        answer False for some of those too (the engine then converts to be sure). Executors check
        every task input and output: a test lets them skip building literals in-process.
        """
        return None

    def normalizer(self, t: Any) -> Callable[[Any], Any] | None:
        """A function giving, for a value declared as ``t``, the value a literal round trip would give
        where that differs (an ``int`` declared ``float`` becomes a float, a naive datetime UTC), or
        None when values come back as they went (the default).

        In-process values are never converted to literals, so tasks receive and return values through
        this function instead, as flytekit hands them over (flytekit converts every value). It must
        return its argument itself when nothing changes: a value that needs nothing is not copied.
        """
        return None

    def hash_of(self, python_val: T, python_type: Any) -> str | None:
        """A hash of ``python_val``'s content for cache keys, computed in memory, or None (the default)
        to hash its literal instead.

        A cache key needs the content of each input; for most values their literal is the cheapest
        description. A value whose literal means storing it (a table written as Parquet, a large
        blob) answers here instead, so that computing a key writes no file: equal contents must give
        equal hashes, different contents different ones. A user's ``Annotated[T, HashMethod(f)]``
        still wins (:meth:`TypeEngine.hash_of`). The hash stands in for the literal in the key as
        ``Literal.hash`` does (flyteidl's rule for cache keys).
        """
        return None

    def check_type(self, t: Any) -> None:
        """Raise :class:`~taskloom.exceptions.user.UnsupportedTypeError` if values of ``t`` cannot be
        converted, exactly as :meth:`get_literal_type` would (same error), without returning anything.

        The type engine calls it when a task or workflow is declared. The default builds the literal
        type; override it when the check needs no literal type, so that declaring and running
        workflows locally never imports the literal contracts (nested types are checked with
        :meth:`TypeEngine.check_type`).
        """
        self.get_literal_type(t)

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return the literal type that values of Python type ``t`` are converted to."""
        raise NotImplementedError(f"{type(self).__name__}.get_literal_type")

    def to_literal(self, ctx: Any, python_val: T, python_type: Any, expected: LiteralType) -> Literal:
        """Convert ``python_val`` (declared as ``python_type``) to a literal of type ``expected``.

        ``ctx`` is the current :class:`~taskloom.core.context_manager.FlyteContext`, as in flytekit:
        ``ctx.file_access`` stores data (:class:`~taskloom.core.data_persistence.FileAccessProvider`).
        """
        raise NotImplementedError(f"{type(self).__name__}.to_literal")

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> T:
        """Convert literal ``lv`` to a value of ``expected_python_type`` (``ctx`` as in :meth:`to_literal`)."""
        raise NotImplementedError(f"{type(self).__name__}.to_python_value")

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Return a Python type for ``literal_type``, or raise ValueError if this transformer has none."""
        raise ValueError(f"transformer {self._name!r} cannot guess a Python type for {literal_type}")

    # Text written by a person: ``loom run``'s options and a gate's text signals (TypeEngine.from_text).

    def from_text(self, text: str, python_type: Any) -> T:
        """Parse ``text``, a value as a person writes it (a ``loom run`` option, a gate's text
        signal), as a value of ``python_type``.

        ``python_type`` is the annotation that found this transformer, ``Annotated`` removed
        (``list[int]`` for the list transformer). Return the value; the caller checks it against
        ``python_type`` as it checks any input. Raise
        :class:`~taskloom.exceptions.user.TypeTransformerFailedError` saying what was expected and
        what came (``expected base64 after 'base64:', got 'AAE'``); a ValueError, TypeError or
        KeyError counts as one, with its message. The caller adds whose input it was. Parse the
        parts of a value with :meth:`TypeEngine.from_text` and :meth:`TypeEngine.from_json`.

        The default reads ``text`` as JSON and hands the data to :meth:`from_json`, so a transformer
        of a JSON-shaped type implements only that; with neither implemented every text is refused
        with :class:`~taskloom.exceptions.user.UnsupportedTypeError` naming the type.
        """
        if type(self).from_json is TypeTransformer.from_json:
            raise self._parses_no_text(python_type)
        return self.from_json(json.loads(text), python_type)

    def from_json(self, data: Any, python_type: Any) -> T:
        """Build a value of ``python_type`` from JSON ``data``: what :func:`json.loads` gives (dicts,
        lists, str, int, float, bool, None).

        Called for the part of a JSON text that holds a value of this type (an item of ``list[T]``,
        a field of a dataclass, a value of ``dict[str, T]``), and by the default :meth:`from_text`
        for a whole text. Return and raise as :meth:`from_text` does; a container says where the
        error is (``item [2]: expected int, got str 'x'``). The default takes a JSON string as this
        type's text (:meth:`from_text`, when this transformer implements it) and refuses other data.
        """
        if type(self).from_text is TypeTransformer.from_text:
            raise self._parses_no_text(python_type)
        if not isinstance(data, str):
            raise TypeTransformerFailedError(
                f"expected a JSON string for {type_name(python_type)}, got {value_description(data)}"
            )
        return self.from_text(data, python_type)

    def text_help(self, python_type: Any) -> str | None:
        """How to write values of ``python_type`` as text, for ``loom run FILE ENTITY --help``, or
        None when its option needs no explanation (the default). Containers give their items' help.
        """
        return None

    def _parses_no_text(self, python_type: Any) -> UnsupportedTypeError:
        return UnsupportedTypeError(
            f"{type_name(python_type)} cannot be given as text: its transformer {self._name!r} parses none "
            "(TypeTransformer.from_text)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, t={type_name(self._t)})"


class SimpleTransformer(TypeTransformer[T]):
    """A transformer made of two functions, for types with one fixed literal type.

    ``to_literal_transformer(value) -> Literal`` and ``from_literal_transformer(literal) -> value``.
    """

    def __init__(
        self,
        name: str,
        t: type[T],
        lt: LiteralType,
        to_literal_transformer: Callable[[T], Literal],
        from_literal_transformer: Callable[[Literal], T],
    ) -> None:
        super().__init__(name, t)
        self._lt = lt
        self._to_literal = to_literal_transformer
        self._from_literal = from_literal_transformer

    def check_type(self, t: Any) -> None:
        pass  # one fixed literal type: nothing can be unsupported

    def get_literal_type(self, t: Any = None) -> LiteralType:
        return self._lt

    def to_literal(self, ctx: Any, python_val: T, python_type: Any, expected: LiteralType) -> Literal:
        self.assert_type(self._t, python_val)
        return self._to_literal(python_val)

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> T:
        try:
            return self._from_literal(lv)
        except (AttributeError, TypeError, ValueError) as error:
            raise TypeTransformerFailedError(
                f"expected a literal of {type_name(self._t)}, got {literal_description(lv)}"
            ) from error

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        if literal_type == self._lt:
            return self._t
        return super().guess_python_type(literal_type)


_MISSING = object()


def _manager_key() -> tuple[int, int] | None:
    # What the registry is keyed on, read without a function-level import (this runs per check).
    manager = _plugins_module()._manager
    return None if manager is None else (manager.serial, manager.generation)


_PLUGINS: Any = None


def _plugins_module() -> Any:
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = taskloom.plugins
    return _PLUGINS


class _Registry:
    """The transformers known for one set of loaded plugins."""

    __slots__ = ("by_type", "checkers", "claimers", "lookups", "normalizers", "ordered", "supported")

    def __init__(self, transformers: list[TypeTransformer[Any]]) -> None:
        self.by_type: dict[Any, TypeTransformer[Any]] = {}
        self.claimers: list[TypeTransformer[Any]] = []
        self.ordered = transformers
        self.lookups: dict[Any, TypeTransformer[Any]] = {}
        self.checkers: dict[Any, Callable[[Any], bool] | None] = {}
        self.normalizers: dict[Any, Callable[[Any], Any] | None] = {}
        self.supported: set[Any] = set()  # types whose check passed (failures are not kept: they raise again)
        for transformer in transformers:  # highest priority first: the first claim wins
            self.by_type.setdefault(transformer.python_type, transformer)
            if type(transformer).handles is not TypeTransformer.handles:
                self.claimers.append(transformer)


class TypeEngine:
    """Finds transformers and converts between Python values and literals (class-level API)."""

    _registered: list[TypeTransformer[Any]] = []
    _pickle_allowed: set[Any] = set()
    _registry: _Registry | None = None
    _registry_key: tuple[int, int] | None = None

    # --- registration ----------------------------------------------------------------------

    @classmethod
    def register(cls, transformer: TypeTransformer[Any], additional_types: tuple[Any, ...] = ()) -> None:
        """Register ``transformer`` in this process, above every plugin's (flytekit's API).

        Prefer contributing transformers from a plugin; this exists for scripts and for code ported
        from flytekit. ``additional_types`` are not supported and must be empty.
        """
        if additional_types:
            raise ValueError("additional_types is not supported; register one transformer per type")
        cls._registered.insert(0, transformer)
        cls._registry_key = None

    @classmethod
    def unregister(cls, transformer: TypeTransformer[Any]) -> None:
        """Remove a transformer added with :meth:`register`."""
        cls._registered.remove(transformer)
        cls._registry_key = None

    @classmethod
    def allow_pickle(cls, python_type: Any) -> None:
        """Let values of ``python_type`` (and its subclasses) be passed by pickling.

        Use :func:`taskloom.types.pickle.allow_pickle`, which documents the trade-off.
        """
        cls._pickle_allowed.add(python_type)
        cls._registry_key = None

    @classmethod
    def _current(cls) -> _Registry:
        manager = get_plugin_manager()
        key = (manager.serial, manager.generation)
        if cls._registry is None or cls._registry_key != key:
            transformers: list[TypeTransformer[Any]] = list(cls._registered)
            manager.check_answers("taskloom_type_transformers", _check_transformers)
            for contributed in manager.hook.taskloom_type_transformers():
                transformers.extend(contributed)
            cls._registry = _Registry(transformers)
            # Collecting may have marked a plugin failed (and bumped the generation): key after it.
            cls._registry_key = (manager.serial, manager.generation)
        return cls._registry

    @classmethod
    def transformers(cls) -> list[TypeTransformer[Any]]:
        """Every transformer in effect, highest priority first."""
        return list(cls._current().ordered)

    # --- dispatch --------------------------------------------------------------------------

    @classmethod
    def get_transformer(cls, python_type: Any) -> TypeTransformer[Any]:
        """Return the transformer for ``python_type`` (see the module docs for the order).

        Raises :class:`~taskloom.exceptions.user.UnsupportedTypeError` when none applies.
        """
        registry = cls._current()
        try:
            return registry.lookups[python_type]
        except (KeyError, TypeError):
            pass
        transformer = cls._find(registry, python_type)
        try:
            registry.lookups[python_type] = transformer
        except TypeError:  # an unhashable annotation: fine, just not cached
            pass
        return transformer

    @classmethod
    def _find(cls, registry: _Registry, python_type: Any) -> TypeTransformer[Any]:
        t = strip_annotated(python_type)
        if t is None:
            t = type(None)
        origin = typing.get_origin(t)
        if origin is types.UnionType:
            origin = typing.Union
        for candidate in (t, origin):
            if candidate is not None:
                try:
                    found = registry.by_type.get(candidate)
                except TypeError:
                    found = None
                if found is not None:
                    return found
        for transformer in registry.claimers:
            if transformer.handles(t):
                return transformer
        base = origin if isinstance(origin, type) else t
        if isinstance(base, type):
            for parent in inspect.getmro(base)[1:]:
                if parent is object:
                    break
                found = registry.by_type.get(parent)
                if found is not None:
                    return found
            if any(issubclass(base, allowed) for allowed in cls._pickle_allowed if isinstance(allowed, type)):
                found = registry.by_type.get(FlytePickle)
                if found is not None:
                    return found
        raise UnsupportedTypeError(_unsupported_message(t))

    @classmethod
    def check_type(cls, python_type: Any) -> None:
        """Raise :class:`~taskloom.exceptions.user.UnsupportedTypeError` unless values of
        ``python_type`` can be converted: the error :meth:`to_literal_type` would raise, without
        building the literal type (see :meth:`TypeTransformer.check_type`).
        """
        registry = cls._registry
        if registry is None or cls._registry_key != _manager_key():
            registry = cls._current()
        try:
            if python_type in registry.supported:
                return
        except TypeError:  # an unhashable annotation: checked every time
            pass
        t = strip_annotated(python_type)
        transformer = cls.get_transformer(t)
        transformer.check_type(python_type if transformer.keeps_annotations else t)
        try:
            registry.supported.add(python_type)
        except TypeError:
            pass

    @classmethod
    def to_literal_type(cls, python_type: Any) -> LiteralType:
        """Return the literal type of ``python_type``; raises UnsupportedTypeError if none."""
        t = strip_annotated(python_type)
        transformer = cls.get_transformer(t)
        return transformer.get_literal_type(python_type if transformer.keeps_annotations else t)

    @classmethod
    def to_literal(cls, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType | None = None) -> Literal:
        """Convert ``python_val`` declared as ``python_type`` to a literal.

        Raises :class:`~taskloom.exceptions.user.TypeTransformerFailedError` ("expected X, got Y")
        when the value does not fit the type.
        """
        t = strip_annotated(python_type)
        transformer = cls.get_transformer(t)
        given = python_type if transformer.keeps_annotations else t
        if expected is None:
            expected = transformer.get_literal_type(given)
        if ctx is None:  # callers inside taskloom pass none: the transformer still gets one (resolved when read)
            ctx = _current_context()
        try:
            literal = transformer.to_literal(ctx, python_val, given, expected)
        except (TypeTransformerFailedError, UnsupportedTypeError):
            raise
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as error:
            raise TypeTransformerFailedError(
                f"expected {type_name(t)}, got {value_description(python_val)} ({type(error).__name__}: {error})"
            ) from error
        except RecursionError as error:
            # A value that contains itself, or is nested deeper than Python recurses. Explained by the
            # outermost conversion, which has the whole value and the stack to describe it.
            if _inside_conversion():
                raise
            raise TypeTransformerFailedError(
                f"expected {type_name(t)}, got {value_description(python_val)}: {_recursion_detail(python_val)}"
            ) from error
        if t is not python_type:  # Annotated: a HashMethod gives the value's cache hash (flytekit's rule)
            method = hash_method(python_type)
            if method is not None:
                import attrs  # loaded with the literal just built

                literal = attrs.evolve(literal, hash=method.calculate(python_val))
        return literal

    @classmethod
    def to_python_value(cls, ctx: Any, lv: Literal, expected_python_type: Any) -> Any:
        """Convert literal ``lv`` to a value of ``expected_python_type``."""
        t = strip_annotated(expected_python_type)
        transformer = cls.get_transformer(t)
        if ctx is None:  # as in to_literal
            ctx = _current_context()
        try:
            return transformer.to_python_value(ctx, lv, expected_python_type if transformer.keeps_annotations else t)
        except (TypeTransformerFailedError, UnsupportedTypeError):
            raise
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as error:
            raise TypeTransformerFailedError(
                f"expected a literal of {type_name(t)}, got {literal_description(lv)} ({type(error).__name__}: {error})"
            ) from error
        except RecursionError as error:  # explained once, by the outermost conversion (see to_literal)
            if _inside_conversion():
                raise
            detail = "it is nested too deeply to convert"
            raise TypeTransformerFailedError(
                f"expected a literal of {type_name(t)}, got {literal_description(lv)}: {detail}"
            ) from error

    @classmethod
    def guess_python_type(cls, literal_type: LiteralType) -> Any:
        """Return a Python type for ``literal_type``, asking every transformer; ValueError if none can."""
        for transformer in cls._current().ordered:
            try:
                return transformer.guess_python_type(literal_type)
            except (ValueError, NotImplementedError):
                continue
        raise ValueError(f"no transformer can guess a Python type for {literal_type}")

    # --- text ------------------------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str, python_type: Any) -> Any:
        """Parse ``text`` as a value of ``python_type``, with the transformer's
        :meth:`TypeTransformer.from_text`: the one way a person's text becomes a value (``loom run``'s
        inputs, a gate's text signals).

        Raises :class:`~taskloom.exceptions.user.TypeTransformerFailedError` saying what was expected
        and what came (its ``__cause__`` is a RecursionError for text nested deeper than Python
        recurses), and :class:`~taskloom.exceptions.user.UnsupportedTypeError` when no transformer
        supports ``python_type`` or its transformer parses no text.
        """
        t = strip_annotated(python_type)
        transformer = cls.get_transformer(t)
        return _parse(transformer.from_text, text, python_type if transformer.keeps_annotations else t)

    @classmethod
    def from_json(cls, data: Any, python_type: Any) -> Any:
        """Build a value of ``python_type`` from JSON data with :meth:`TypeTransformer.from_json`
        (for transformers of containers: their items); raises as :meth:`from_text` does.
        """
        t = strip_annotated(python_type)
        transformer = cls.get_transformer(t)
        return _parse(transformer.from_json, data, python_type if transformer.keeps_annotations else t)

    @classmethod
    def text_help(cls, python_type: Any) -> str | None:
        """What :meth:`TypeTransformer.text_help` says of ``python_type``; None for an unsupported type."""
        t = strip_annotated(python_type)
        try:
            return cls.get_transformer(t).text_help(t)
        except UnsupportedTypeError:  # the run says so, not the help
            return None

    # --- maps of named values (entity inputs and outputs) ----------------------------------

    @classmethod
    def dict_to_literal_map(
        cls,
        ctx: Any,
        d: dict[str, Any],
        type_hints: dict[str, Any],
        *,
        entity: str | None = None,
        direction: str = "input",
    ) -> LiteralMap:
        """Convert named values to a :class:`~taskloom.models.literals.LiteralMap`.

        Errors name the variable, and ``entity`` (e.g. ``"task 'clean'"``) when given:
        ``task 'clean': input 'rows' expects list[int], got str 'abc'``.
        """
        literals = {}
        for name, value in d.items():
            if name not in type_hints:
                raise TypeTransformerFailedError(
                    _prefix(entity) + f"got an unexpected {direction} {name!r}; expected one of {sorted(type_hints)}"
                )
            try:
                literals[name] = cls.to_literal(ctx, value, type_hints[name])
            except TypeTransformerFailedError as error:
                raise TypeTransformerFailedError(
                    _prefix(entity) + f"{direction} {name!r} {_expects(type_hints[name], value, error)}"
                ) from error
        from taskloom.models.literals import LiteralMap

        return LiteralMap(literals=literals)

    @classmethod
    def checker(cls, python_type: Any) -> Callable[[Any], bool] | None:
        """The fast test of values of ``python_type`` (see :meth:`TypeTransformer.checker`), or None."""
        registry = cls._current()
        cacheable = True
        try:
            return registry.checkers[python_type]
        except KeyError:
            pass
        except TypeError:  # an unhashable annotation (Annotated[T, {"a": int}]): asked each time, not cached
            cacheable = False
        t = strip_annotated(python_type)
        try:
            transformer = cls.get_transformer(t)
            found = transformer.checker(python_type if transformer.keeps_annotations else t)
        except UnsupportedTypeError:
            found = None
        if cacheable:
            registry.checkers[python_type] = found
        return found

    @classmethod
    def normalizer(cls, python_type: Any) -> Callable[[Any], Any] | None:
        """The function that gives values of ``python_type`` as a literal round trip would (see
        :meth:`TypeTransformer.normalizer`), or None when they come back unchanged.
        """
        registry = cls._current()
        cacheable = True
        try:
            return registry.normalizers[python_type]
        except KeyError:
            pass
        except TypeError:  # an unhashable annotation (Annotated[T, {"a": int}]): asked each time, not cached
            cacheable = False
        t = strip_annotated(python_type)
        try:
            transformer = cls.get_transformer(t)
            found = transformer.normalizer(python_type if transformer.keeps_annotations else t)
        except UnsupportedTypeError:
            found = None
        if cacheable:
            registry.normalizers[python_type] = found
        return found

    @classmethod
    def hash_of(cls, python_val: Any, python_type: Any) -> str | None:
        """The cache hash of ``python_val`` declared as ``python_type`` computed without a literal, or
        None when its literal is to be hashed: the ``HashMethod`` of ``Annotated[T, HashMethod(f)]``
        first, else :meth:`TypeTransformer.hash_of` (a table's content hash). Caches call this before
        building input literals, so that a key writes no file.
        """
        method = hash_method(python_type)
        if method is not None:
            return method.calculate(python_val)
        t = strip_annotated(python_type)
        try:
            transformer = cls.get_transformer(t)
        except UnsupportedTypeError:
            return None
        return transformer.hash_of(python_val, python_type if transformer.keeps_annotations else t)

    @classmethod
    def check_values(
        cls,
        d: dict[str, Any],
        type_hints: Mapping[str, Any],
        *,
        entity: Any = None,
        direction: str = "input",
    ) -> None:
        """Check named values against their types as :meth:`dict_to_literal_map` does, raising the
        same errors, but without building literals when the transformers' fast tests pass.

        ``entity`` names what is checked in errors: a string, or a task (named only on error).
        """
        registry = cls._registry
        if registry is None or cls._registry_key != _manager_key():
            registry = cls._current()
        checkers = registry.checkers
        for name, value in d.items():
            python_type = type_hints.get(name, _MISSING)
            if python_type is not _MISSING:
                try:
                    test = checkers[python_type]
                except (KeyError, TypeError):
                    test = cls.checker(python_type)
                try:
                    if test is not None and test(value):
                        continue
                except RecursionError:
                    pass  # a value that contains itself, or is nested too deeply: converting it says so
            if entity is not None and not isinstance(entity, str):  # a task: name it only when needed
                entity = f"task {entity.name!r}"
            cls.dict_to_literal_map(None, {name: value}, dict(type_hints), entity=entity, direction=direction)

    @classmethod
    def literal_map_to_kwargs(
        cls,
        ctx: Any,
        lm: LiteralMap,
        python_types: dict[str, Any],
        *,
        entity: str | None = None,
        direction: str = "input",
    ) -> dict[str, Any]:
        """Convert a literal map to named Python values of ``python_types``; errors name the variable."""
        values = {}
        for name, python_type in python_types.items():
            literal = lm.literals.get(name)
            if literal is None:
                raise TypeTransformerFailedError(_prefix(entity) + f"{direction} {name!r} is missing")
            try:
                values[name] = cls.to_python_value(ctx, literal, python_type)
            except TypeTransformerFailedError as error:
                raise TypeTransformerFailedError(
                    _prefix(entity) + f"{direction} {name!r} expects {type_name(python_type)}: {error}"
                ) from error
        return values


_CURRENT_CONTEXT: Any = None


def _current_context() -> Any:
    """The current-context stand-in transformers get for ``ctx=None`` (imported on first use: most
    runs convert no value with a transformer that has no fast test)."""
    global _CURRENT_CONTEXT
    if _CURRENT_CONTEXT is None:
        from taskloom.core.flyte_context import CURRENT_CONTEXT

        _CURRENT_CONTEXT = CURRENT_CONTEXT
    return _CURRENT_CONTEXT


def _check_transformers(contributed: Any) -> None:
    """The answer to ``taskloom_type_transformers`` must be a list of transformers."""
    if not isinstance(contributed, (list, tuple)):
        raise TypeError(f"taskloom_type_transformers must return a list of TypeTransformer, got {contributed!r}")
    for transformer in contributed:
        if not isinstance(transformer, TypeTransformer):
            raise TypeError(f"contributed {transformer!r}, which is not a TypeTransformer")


def _parse(parse: Callable[[Any, Any], Any], given: Any, t: Any) -> Any:
    # A transformer's from_text or from_json, its errors made TypeTransformerFailedError with their words.
    try:
        return parse(given, t)
    except (TypeTransformerFailedError, UnsupportedTypeError):
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        raise TypeTransformerFailedError(str(error)) from error
    except RecursionError as error:  # JSON nested deeper than Python recurses
        raise TypeTransformerFailedError("it is nested too deeply to parse") from error


def _prefix(entity: str | None) -> str:
    return f"{entity}: " if entity else ""


def _expects(python_type: Any, value: Any, error: Exception) -> str:
    expected = type_name(strip_annotated(python_type))
    message = f"expects {expected}, got {value_description(value)}"
    detail = str(error)
    said = f"expected {expected}, got {value_description(value)}"
    if detail.startswith((said + ":", said + " (")):  # the same words, with why: keep only why
        message += detail[len(said) :]
    elif detail != said:  # nested values (an item of a list...) carry their own, more precise, detail
        message += f" ({detail})"
    return message


def _inside_conversion() -> bool:
    """Tell whether the conversion calling this is itself inside another (of a value that holds it)."""
    frame: types.FrameType | None = sys._getframe(2)  # the caller of the conversion that calls this
    while frame is not None:
        if frame.f_code in _CONVERSIONS:
            return True
        frame = frame.f_back
    return False


#: The code of the engine's conversions, by which :func:`_inside_conversion` recognises their frames.
_CONVERSIONS = frozenset(
    {
        # Classmethods, so bound methods here (mypy types them as plain callables, without __func__).
        typing.cast(types.MethodType, TypeEngine.to_literal).__func__.__code__,
        typing.cast(types.MethodType, TypeEngine.to_python_value).__func__.__code__,
    }
)

#: How many parts of a value :func:`_recursion_detail` looks at, at most, to find out why.
_RECURSION_WALK_LIMIT = 200_000


def _recursion_detail(value: Any) -> str:
    """Why converting ``value`` exhausted Python's recursion: the place where it contains itself, or
    its depth (``it contains itself at ['rows'][1]``, ``it is nested too deeply to convert (3,000 levels)``).

    Walked with a stack of its own, since recursing is what just failed; only lists, tuples, dicts and
    the attributes of objects (dataclasses, attrs classes, plain objects) are looked into.
    """
    chain: list[int] = []  # the ids of the containers from the value down to the current one
    places: list[str] = []  # how each of them is reached from its parent
    on_chain: set[int] = set()
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    deepest = visited = 0
    while pending and visited < _RECURSION_WALK_LIMIT:
        node, place, depth = pending.pop()
        for left in chain[depth:]:
            on_chain.discard(left)
        del chain[depth:], places[depth:]
        parts = _parts_of(node)
        if parts is None:
            continue
        if id(node) in on_chain:
            return f"it contains itself at {''.join(places)}{place}"
        chain.append(id(node))
        places.append(place)
        on_chain.add(id(node))
        deepest = max(deepest, depth + 1)
        visited += 1
        pending.extend((part, part_place, depth + 1) for part_place, part in reversed(parts))
    if pending:
        return "it is nested too deeply to convert, or contains itself"
    if deepest * 4 < sys.getrecursionlimit():  # not deep enough to be the cause by itself
        return f"converting it exceeded Python's recursion limit ({sys.getrecursionlimit():,})"
    return f"it is nested too deeply to convert ({deepest:,} levels)"


def _parts_of(node: Any) -> list[tuple[str, Any]] | None:
    """The parts of ``node`` with how each is reached (``[2]``, ``['key']``, ``.field``), or None for a leaf."""
    if isinstance(node, dict):
        return [(f"[{key!r}]", item) for key, item in node.items()]
    if isinstance(node, (list, tuple)):
        names = getattr(type(node), "_fields", None)  # a NamedTuple
        if names is not None and len(names) == len(node):
            return [(f".{name}", item) for name, item in zip(names, node)]
        return [(f"[{index}]", item) for index, item in enumerate(node)]
    if isinstance(node, (str, bytes, int, float, type, types.ModuleType, types.FunctionType)) or node is None:
        return None
    fields = getattr(type(node), "__dataclass_fields__", None) or {
        attribute.name: attribute for attribute in getattr(type(node), "__attrs_attrs__", ())
    }
    names = list(fields) or list(getattr(node, "__dict__", {}))
    return [(f".{name}", getattr(node, name, None)) for name in names] or None


def _unsupported_message(t: Any) -> str:
    if t is Any:
        return "typing.Any is not supported: annotate a concrete type"
    hint = ""
    if isinstance(t, type):
        hint = (
            f"; to pass it by pickling (trusted data only), call "
            f"taskloom.types.pickle.allow_pickle({t.__qualname__}), or install a plugin that supports it"
        )
    return f"no type transformer supports {type_name(t)}{hint}"
