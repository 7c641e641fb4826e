"""Interfaces: the named, typed inputs and outputs of a task or workflow.

:func:`transform_function_to_interface` reads a function's signature: inputs with their defaults;
outputs from the return annotation, which may be a single type (one output ``o0``), a
``tuple[A, B]`` or a tuple literal ``(A, B)`` (outputs ``o0``, ``o1``), a ``NamedTuple`` (one output per field, named after it) or
``None``/absent (no outputs). Every type is checked against the type engine there and then, so an
unsupported annotation fails when the task is declared, naming the function, the parameter and the
type, never later and never by a silent pickle. The check builds no literal type: the literal-typed
interface (:meth:`Interface.to_typed_interface`) is made when a template needs it. Names follow
flytekit's ``flytekit.core.interface``.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from taskloom.core.type_engine import TypeEngine, type_name, value_description
from taskloom.exceptions.user import MissingTypeError, TypeTransformerFailedError, UnsupportedTypeError, ValidationError

if TYPE_CHECKING:
    from taskloom.models.interface import TypedInterface

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

#: The default of an input that has none.
NO_DEFAULT: Any = inspect.Parameter.empty


def is_named_tuple(t: Any) -> bool:
    """Tell whether ``t`` is a ``typing.NamedTuple`` class (or a ``collections.namedtuple`` one)."""
    return isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "_fields")


class Interface:
    """The Python-level interface of an entity: inputs ``name -> (type, default)``, outputs ``name -> type``.

    ``inputs`` accepts a plain type (the input is required) or a ``(type, default)`` pair.
    ``output_tuple_name`` is the NamedTuple's name when the outputs came from one.
    """

    def __init__(
        self,
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        output_tuple_name: str | None = None,
        docstring: str | None = None,
    ) -> None:
        self._inputs: dict[str, tuple[Any, Any]] = {}
        for name, spec in (inputs or {}).items():
            if isinstance(spec, tuple) and len(spec) == 2 and not is_named_tuple(spec):
                self._inputs[name] = (spec[0], spec[1])
            else:
                self._inputs[name] = (spec, NO_DEFAULT)
        self._outputs: dict[str, Any] = dict(outputs or {})
        self._output_name_tuple = tuple(self._outputs)
        self._output_types = types.MappingProxyType(self._outputs)
        self._output_tuple_name = output_tuple_name
        self._docstring = docstring
        self._typed: TypedInterface | None = None
        self._tuple_class: type | None = None
        self._input_normalizers: dict[str, Callable[[Any], Any]] | None = None
        self._output_normalizers: dict[str, Callable[[Any], Any]] | None = None

    @property
    def inputs(self) -> dict[str, Any]:
        """Input names and their Python types."""
        return {name: spec[0] for name, spec in self._inputs.items()}

    @property
    def inputs_with_defaults(self) -> dict[str, tuple[Any, Any]]:
        """Input names and ``(type, default)``; the default is :data:`NO_DEFAULT` for required inputs."""
        return dict(self._inputs)

    @property
    def default_inputs_as_kwargs(self) -> dict[str, Any]:
        """Defaults of the inputs that have one."""
        return {name: spec[1] for name, spec in self._inputs.items() if spec[1] is not NO_DEFAULT}

    @property
    def required_inputs(self) -> list[str]:
        """Names of the inputs without a default, in declaration order."""
        return [name for name, spec in self._inputs.items() if spec[1] is NO_DEFAULT]

    @property
    def outputs(self) -> dict[str, Any]:
        """Output names and their Python types, in order."""
        return dict(self._outputs)

    @property
    def output_types(self) -> Mapping[str, Any]:
        """The outputs' types as a read-only view (no copy: what executors check each result against)."""
        return self._output_types

    @property
    def output_names(self) -> list[str]:
        """Output names, in order."""
        return list(self._outputs)

    @property
    def output_tuple_name(self) -> str | None:
        """The NamedTuple's name when the outputs were declared with one."""
        return self._output_tuple_name

    @property
    def docstring(self) -> str | None:
        """The function's docstring, if any."""
        return self._docstring

    @property
    def input_normalizers(self) -> dict[str, Callable[[Any], Any]]:
        """The inputs whose values a literal round trip would change, with the function that does it
        (see :meth:`TypeEngine.normalizer <taskloom.core.type_engine.TypeEngine.normalizer>`): empty
        for most tasks. A task applies them to what it receives, so that an ``int`` bound to a
        ``float`` input arrives as a float and a naive datetime as UTC, as in flytekit.
        """
        if self._input_normalizers is None:
            self._input_normalizers = _normalizers(self.inputs)
        return self._input_normalizers

    @property
    def output_normalizers(self) -> dict[str, Callable[[Any], Any]]:
        """As :attr:`input_normalizers`, for the outputs (what a task returns)."""
        if self._output_normalizers is None:
            self._output_normalizers = _normalizers(self._outputs)
        return self._output_normalizers

    def outputs_by_name(self, result: Any) -> dict[str, Any]:
        """Name what a body returned: nothing for no outputs, the value for one, a tuple's items for several.

        Raises ValueError (``declares 2 outputs ['o0', 'o1'], got ...``) when the shape does not fit;
        callers add the entity's name.
        """
        names = self._output_name_tuple
        if len(names) == 1:
            # A one-field NamedTuple's body returns the NamedTuple (as in flytekit) or the bare value.
            if self._output_tuple_name is not None and isinstance(result, tuple) and len(result) == 1:
                return {names[0]: result[0]}
            return {names[0]: result}
        if not names:
            if result is not None:
                raise ValueError(f"declares no outputs, got {value_description(result)}")
            return {}
        if not isinstance(result, tuple) or len(result) != len(names):
            raise ValueError(f"declares {len(names)} outputs {list(names)}, got {value_description(result)}")
        return dict(zip(names, result))

    def shape_outputs(self, values: dict[str, Any]) -> Any:
        """The inverse of :meth:`outputs_by_name`: None, the one value, or a named tuple of the values in
        output order: the declared NamedTuple (even of one field, so that ``result.slope`` reads it as in
        flytekit), else flytekit's ``DefaultNamedTupleOutput`` with fields ``o0``, ``o1``...
        """
        names = list(self._outputs)
        if not names:
            return None
        if len(names) == 1 and self._output_tuple_name is None:
            return values[names[0]]
        if self._tuple_class is None:  # made once: building a namedtuple class costs ~50 µs
            import collections

            # Several unnamed outputs (o0, o1...) come back as flytekit gives them: a named tuple called
            # DefaultNamedTupleOutput, so `result.o0` reads as in flytekit and unpacking still works.
            if self._output_tuple_name is not None:
                self._tuple_class = collections.namedtuple(self._output_tuple_name, names)  # type: ignore[misc]
            else:
                self._tuple_class = collections.namedtuple("DefaultNamedTupleOutput", names)  # type: ignore[misc]
                # Made here, it cannot be pickled by reference: it pickles as the plain tuple it is.
                self._tuple_class.__reduce__ = _reduce_to_tuple  # type: ignore[method-assign,assignment]
        return self._tuple_class(*[values[name] for name in names])

    def check_types(self, entity: str | None = None) -> None:
        """Raise :class:`~taskloom.exceptions.user.UnsupportedTypeError` for the first input, then
        output, whose type no transformer supports: the error :meth:`to_typed_interface` would raise,
        without building literal types (see :func:`check_interface_types`).
        """
        if self._typed is None:
            check_interface_types(self, entity=entity)

    def to_typed_interface(self, entity: str | None = None) -> TypedInterface:
        """The literal-typed interface (computed once); see :func:`transform_interface_to_typed_interface`."""
        if self._typed is None:
            self._typed = transform_interface_to_typed_interface(self, entity=entity)
        return self._typed

    def __repr__(self) -> str:
        return f"Interface(inputs={self._inputs!r}, outputs={self._outputs!r})"


def _normalizers(named: Mapping[str, Any]) -> dict[str, Callable[[Any], Any]]:
    found = {}
    for name, python_type in named.items():
        normalize = TypeEngine.normalizer(python_type)
        if normalize is not None:
            found[name] = normalize
    return found


def normalize_values(
    values: dict[str, Any],
    normalizers: Mapping[str, Callable[[Any], Any]],
    *,
    entity: Any = None,
    direction: str = "input",
) -> dict[str, Any]:
    """``values`` with each named one passed through its normalizer (see :attr:`Interface.input_normalizers`);
    ``values`` itself when nothing changes.

    A normalizer may refuse a value the compiler could not check (a table without a declared column):
    its :class:`~taskloom.exceptions.user.TypeTransformerFailedError` is raised again naming ``entity``
    (a string such as ``"task 'clean'"``, or a task, named only on error) and the input or output.
    """
    changed: dict[str, Any] | None = None
    for name, normalize in normalizers.items():
        if name in values:
            value = values[name]
            try:
                new = normalize(value)
            except TypeTransformerFailedError as error:
                if entity is not None and not isinstance(entity, str):  # a task: named only when needed
                    entity = f"task {entity.name!r}"
                prefix = f"{entity}: " if entity else ""
                raise TypeTransformerFailedError(f"{prefix}{direction} {name!r}: {error}") from error
            if new is not value:
                if changed is None:
                    changed = dict(values)
                changed[name] = new
    return values if changed is None else changed


def kwtypes(**kwargs: Any) -> dict[str, Any]:
    """Names and types as an ordered dict: ``kwtypes(a=int, b=str)`` (flytekit's helper for interfaces)."""
    return dict(kwargs)


def transform_function_to_interface(fn: Callable[..., Any], docstring: str | None = None) -> Interface:
    """Extract the interface of ``fn`` from its signature and check every type with the type engine.

    Raises :class:`~taskloom.exceptions.user.ValidationError` for an input without annotation or a
    ``*args``/``**kwargs`` parameter, and :class:`~taskloom.exceptions.user.UnsupportedTypeError`
    for a type no transformer supports; both name the function and the parameter.
    """
    entity = f"function {_qualified_name(fn)!r}"
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as error:
        raise ValidationError(
            f"{entity}: its annotations cannot be resolved: {type(error).__name__}: {error}"
        ) from error
    signature = inspect.signature(fn)
    inputs: dict[str, tuple[Any, Any]] = {}
    for name, parameter in signature.parameters.items():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise ValidationError(f"{entity}: parameter {name!r} is variadic; declare every input by name")
        if name not in hints:
            raise MissingTypeError(f"{entity}: input {name!r} has no type annotation")
        inputs[name] = (hints[name], parameter.default)
    returned = hints.get("return", None)
    outputs, tuple_name = _outputs_of(returned)
    interface = Interface(inputs, outputs, output_tuple_name=tuple_name, docstring=docstring or inspect.getdoc(fn))
    interface.check_types(entity=entity)
    return interface


def _outputs_of(returned: Any) -> tuple[dict[str, Any], str | None]:
    if returned is None or returned is type(None):
        return {}, None
    if is_named_tuple(returned):
        hints = typing.get_type_hints(returned, include_extras=True)
        return {field: hints.get(field, Any) for field in returned._fields}, returned.__name__
    if isinstance(returned, tuple):
        # ``-> (float, float)``: a tuple literal as the annotation declares one output per item, as in
        # flytekit (which reads the annotation the same way as ``tuple[float, float]``).
        return {f"o{index}": argument for index, argument in enumerate(returned)}, None
    if typing.get_origin(returned) is tuple:
        arguments = typing.get_args(returned)
        if arguments and Ellipsis not in arguments and arguments != ((),):
            return {f"o{index}": argument for index, argument in enumerate(arguments)}, None
    return {"o0": returned}, None


def check_interface_types(interface: Interface, entity: str | None = None) -> None:
    """Check every input type, then every output type, with :meth:`TypeEngine.check_type
    <taskloom.core.type_engine.TypeEngine.check_type>`: the errors of
    :func:`transform_interface_to_typed_interface`, in the same order, without literal types.

    What declaring a task or workflow does: a local run never needs the literal contracts.
    """
    for direction, named in (("input", interface.inputs), ("output", interface.outputs)):
        for name, python_type in named.items():
            try:
                TypeEngine.check_type(python_type)
            except UnsupportedTypeError as error:
                raise _unsupported(entity, direction, name, python_type, error) from error


def transform_interface_to_typed_interface(interface: Interface, entity: str | None = None) -> TypedInterface:
    """Convert a Python interface to a :class:`~taskloom.models.interface.TypedInterface` of literal types.

    Each variable's description is the docstring's (reST, Google or NumPy; see
    :mod:`taskloom.core.docstring`), else its name, as flytekit writes them. ``entity``
    (``"function 'mod.f'"``, ``"task 'clean'"``) prefixes errors.
    """
    # Measured heavy (~5 ms, its regular expressions): only typed interfaces (serialization) read docstrings.
    from taskloom.core.docstring import Docstring, output_descriptions_by_name
    from taskloom.models.interface import TypedInterface, Variable, VariableMap

    docstring = Docstring(interface.docstring or "")
    descriptions = {
        "input": docstring.input_descriptions,
        "output": output_descriptions_by_name(docstring, interface.output_names),
    }

    def variables(named: dict[str, Any], direction: str) -> VariableMap:
        result = {}
        for name, python_type in named.items():
            try:
                literal_type = TypeEngine.to_literal_type(python_type)
            except UnsupportedTypeError as error:
                raise _unsupported(entity, direction, name, python_type, error) from error
            # The docstring's description, else the variable's name, as flytekit writes it.
            description = descriptions[direction].get(name, name)
            result[name] = Variable(type=literal_type, description=description or "")
        return VariableMap(variables=result)

    return TypedInterface(inputs=variables(interface.inputs, "input"), outputs=variables(interface.outputs, "output"))


def _unsupported(
    entity: str | None, direction: str, name: str, python_type: Any, error: Exception
) -> UnsupportedTypeError:
    prefix = f"{entity}: " if entity else ""
    return UnsupportedTypeError(f"{prefix}{direction} {name!r} has type {type_name(python_type)}: {error}")


def _qualified_name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None)
    name: str = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{module}.{name}" if module and module != "__main__" else name


def _reduce_to_tuple(value: tuple[Any, ...]) -> tuple[type, tuple[tuple[Any, ...]]]:
    return tuple, (tuple(value),)
