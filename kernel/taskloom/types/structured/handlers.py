"""Encoders and decoders of tables, and the registry that finds them (flytekit's
``StructuredDatasetEncoder``/``StructuredDatasetDecoder`` and the handler tables of its
``StructuredDatasetTransformerEngine``).

A handler converts one dataframe type (``pyarrow.Table``, ``pandas.DataFrame``...) to and from one
storage format (``parquet``, ``csv``...), for one URI protocol or, with ``protocol=None``, for every
protocol the storage hook serves. Handlers come from plugins through
:func:`~taskloom.hookspecs.taskloom_structured_dataset_handlers`, so a plugin adds a dataframe library
without touching the plugin that provides ``StructuredDataset`` (taskloom-arrow); ported code may
also call :meth:`DataFrameHandlers.register` (as ``StructuredDatasetTransformerEngine.register``).

The kernel holds the lookup only, as it holds the type engine's dispatch: nothing here imports a
dataframe library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from taskloom.exceptions.user import UnsupportedTypeError
from taskloom.plugins import get_plugin_manager

if TYPE_CHECKING:
    from taskloom.models.literals import StructuredDataset as StructuredDatasetLiteral
    from taskloom.models.literals import StructuredDatasetMetadata
    from taskloom.models.types import StructuredDatasetType

T = TypeVar("T")
DF = TypeVar("DF")

#: A storage format is a plain string, as in flytekit.
StructuredDatasetFormat = str
PARQUET: StructuredDatasetFormat = "parquet"
CSV: StructuredDatasetFormat = "csv"
#: "Any format": a handler registered with it serves every format of its type and protocol.
GENERIC_FORMAT: StructuredDatasetFormat = ""


class DuplicateHandlerError(ValueError):
    """A handler is registered for a (type, protocol, format) that already has one, without ``override``."""


class _Handler(Generic[T]):
    def __init__(self, python_type: type[T], protocol: str | None = None, supported_format: str | None = None) -> None:
        self._python_type = python_type
        # "s3://" and "s3" mean the same protocol, as in flytekit.
        self._protocol = protocol.replace("://", "") if protocol else None
        self._supported_format = supported_format or GENERIC_FORMAT

    @property
    def python_type(self) -> type[T]:
        """The dataframe class this handler converts."""
        return self._python_type

    @property
    def protocol(self) -> str | None:
        """The URI protocol it serves (``"s3"``), or None for every protocol the storage hook serves."""
        return self._protocol

    @property
    def supported_format(self) -> str:
        """The storage format it reads or writes (``"parquet"``), or ``""`` for any."""
        return self._supported_format

    def __repr__(self) -> str:
        name = getattr(self._python_type, "__qualname__", repr(self._python_type))
        return f"{type(self).__name__}({name}, protocol={self._protocol!r}, format={self._supported_format!r})"


class StructuredDatasetEncoder(_Handler[T]):
    """Writes a dataframe of ``python_type`` to storage as ``supported_format`` (flytekit's signature).

    Subclass it, implement :meth:`encode`, and return an instance from
    :func:`~taskloom.hookspecs.taskloom_structured_dataset_handlers`.
    """

    def encode(
        self, ctx: Any, structured_dataset: Any, structured_dataset_type: StructuredDatasetType
    ) -> StructuredDatasetLiteral:
        """Store ``structured_dataset.dataframe`` and return the literal that names where.

        ``ctx`` is the current :class:`~taskloom.core.flyte_context.FlyteContext`: write under
        ``ctx.file_access.raw_output_prefix`` unless ``structured_dataset.uri`` is set, through
        :func:`taskloom.storage.get_filesystem` (never a protocol chosen by hand).
        ``structured_dataset_type`` is the declared type (columns, format); return it in the
        literal's metadata with ``format`` set to the format written.
        """
        raise NotImplementedError(f"{type(self).__name__}.encode")


class StructuredDatasetDecoder(_Handler[DF]):
    """Reads storage of ``supported_format`` into a dataframe of ``python_type`` (flytekit's signature)."""

    def __init__(
        self,
        python_type: type[DF],
        protocol: str | None = None,
        supported_format: str | None = None,
        additional_protocols: list[str] | None = None,
    ) -> None:
        super().__init__(python_type, protocol, supported_format)
        self._additional_protocols = [p.replace("://", "") for p in additional_protocols or ()]

    @property
    def additional_protocols(self) -> list[str]:
        """Further protocols this decoder serves besides :attr:`protocol`."""
        return list(self._additional_protocols)

    def decode(
        self, ctx: Any, flyte_value: StructuredDatasetLiteral, current_task_metadata: StructuredDatasetMetadata
    ) -> Any:
        """Return the table at ``flyte_value.uri`` as a ``python_type``, or an iterator of them (batches).

        ``current_task_metadata.structured_dataset_type.columns``, when not empty, are the columns
        the reading task declared: return only those.
        """
        raise NotImplementedError(f"{type(self).__name__}.decode")


Handler = StructuredDatasetEncoder[Any] | StructuredDatasetDecoder[Any]


class _Table:
    """The handlers known for one set of loaded plugins plus the run-time registrations."""

    __slots__ = ("decoders", "default_formats", "encoders")

    def __init__(self) -> None:
        # (python type, protocol or None, format) -> handler; the first entry for a key wins.
        self.encoders: dict[tuple[Any, str | None, str], StructuredDatasetEncoder[Any]] = {}
        self.decoders: dict[tuple[Any, str | None, str], StructuredDatasetDecoder[Any]] = {}
        self.default_formats: dict[Any, str] = {}

    def add(self, handler: Handler, *, default_format: bool = False, replace: bool = False) -> bool:
        protocols: list[str | None] = [handler.protocol]
        if isinstance(handler, StructuredDatasetDecoder):
            protocols += handler.additional_protocols
        table: dict[Any, Any] = self.encoders if isinstance(handler, StructuredDatasetEncoder) else self.decoders
        added = False
        for protocol in protocols:
            key = (handler.python_type, "file" if protocol == "/" else protocol, handler.supported_format)
            if replace or key not in table:
                table[key] = handler
                added = True
        claims_default = default_format and (replace or handler.python_type not in self.default_formats)
        if (
            isinstance(handler, StructuredDatasetEncoder)
            and handler.supported_format != GENERIC_FORMAT
            and claims_default
        ):
            self.default_formats[handler.python_type] = handler.supported_format
        return added


class DataFrameHandlers:
    """The registry of table handlers, keyed by (Python type, protocol, format) (class-level API).

    Handlers come, highest priority first, from :meth:`register` (newest first) and then from every
    plugin's :func:`~taskloom.hookspecs.taskloom_structured_dataset_handlers`, in the plugin
    manager's order (so a third-party handler for the same key replaces a standard one).
    """

    _registered: list[tuple[Handler, bool]] = []  # (handler, default format for its type), newest first
    _table: _Table | None = None
    _table_key: tuple[int, int] | None = None

    @classmethod
    def register(
        cls,
        h: Handler,
        default_for_type: bool = False,
        override: bool = False,
        default_format_for_type: bool = False,
        default_storage_for_type: bool = False,
    ) -> None:
        """Register ``h`` in this process, above every plugin's handlers (flytekit's
        ``StructuredDatasetTransformerEngine.register``).

        ``default_for_type`` and ``default_format_for_type`` make its format the one a bare dataframe
        of its type is written in. ``default_storage_for_type`` is accepted for ported code and has
        no effect: the protocol always comes from the URI or the raw output prefix. A second handler
        for the same (type, protocol, format) raises :class:`DuplicateHandlerError` unless
        ``override``.
        """
        if not isinstance(h, (StructuredDatasetEncoder, StructuredDatasetDecoder)):
            raise TypeError(f"expected a StructuredDatasetEncoder or StructuredDatasetDecoder, got {h!r}")
        if h.protocol == "":
            raise ValueError(f"use None instead of an empty string as the protocol of {h!r}")
        if not override:
            same = [old for old, _ in cls._registered if _same_key(old, h)]
            if same:
                raise DuplicateHandlerError(
                    f"a handler is already registered for ({h.python_type!r}, {h.protocol!r}, "
                    f"{h.supported_format!r}): {same[0]!r}; pass override=True to replace it"
                )
        cls._registered = [(old, default) for old, default in cls._registered if not _same_key(old, h)]
        cls._registered.insert(0, (h, default_for_type or default_format_for_type))
        cls._table_key = None

    @classmethod
    def unregister(cls, h: Handler) -> None:
        """Remove a handler added with :meth:`register`."""
        cls._registered = [(old, default) for old, default in cls._registered if old is not h]
        cls._table_key = None

    @classmethod
    def _current(cls) -> _Table:
        manager = get_plugin_manager()
        key = (manager.serial, manager.generation)
        if cls._table is None or cls._table_key != key:
            table = _Table()
            explicit = {handler.python_type for handler, default in cls._registered if default}
            for handler, default in cls._registered:
                table.add(handler, default_format=default)
            manager.check_answers("taskloom_structured_dataset_handlers", _check_handlers)
            for contributed in manager.hook.taskloom_structured_dataset_handlers():
                for handler in contributed:
                    table.add(handler)
            # A type's default format: what register() said, else Parquet when it has a Parquet
            # encoder (flytekit's default), else the format of its first encoder.
            for python_type, _, supported_format in table.encoders:
                if supported_format == PARQUET or (
                    supported_format != GENERIC_FORMAT and python_type not in table.default_formats
                ):
                    table.default_formats.setdefault(python_type, supported_format)
                    if supported_format == PARQUET and python_type not in explicit:
                        table.default_formats[python_type] = PARQUET
            cls._table = table
            cls._table_key = (manager.serial, manager.generation)
        return cls._table

    @classmethod
    def python_types(cls) -> set[Any]:
        """Every dataframe type some encoder or decoder converts."""
        table = cls._current()
        return {key[0] for key in table.encoders} | {key[0] for key in table.decoders}

    @classmethod
    def default_format(cls, df_type: Any) -> str:
        """The format a bare dataframe of ``df_type`` is written in (``""`` when it has no encoder)."""
        return cls._current().default_formats.get(df_type, GENERIC_FORMAT)

    @classmethod
    def get_encoder(cls, df_type: Any, protocol: str, format: str) -> StructuredDatasetEncoder[Any]:
        """The encoder of ``df_type`` to ``format`` on ``protocol``; an empty ``format`` is the type's
        default one. Raises :class:`~taskloom.exceptions.user.UnsupportedTypeError` naming the three."""
        table = cls._current()
        return _find(table.encoders, table, df_type, protocol, format, "encoder")

    @classmethod
    def get_decoder(cls, df_type: Any, protocol: str, format: str) -> StructuredDatasetDecoder[Any]:
        """The decoder of ``format`` on ``protocol`` into ``df_type``, found as :meth:`get_encoder` finds one."""
        table = cls._current()
        return _find(table.decoders, table, df_type, protocol, format, "decoder")


def _same_key(a: Handler, b: Handler) -> bool:
    return isinstance(a, StructuredDatasetEncoder) == isinstance(b, StructuredDatasetEncoder) and (
        a.python_type,
        a.protocol,
        a.supported_format,
    ) == (b.python_type, b.protocol, b.supported_format)


def _find(handlers: dict[Any, Any], table: _Table, df_type: Any, protocol: str, format: str, kind: str) -> Any:
    formats = [format] if format else [table.default_formats.get(df_type, GENERIC_FORMAT)]
    if formats[0] != GENERIC_FORMAT:
        formats.append(GENERIC_FORMAT)
    for wanted in formats:
        for where in (protocol, None):
            found = handlers.get((df_type, where, wanted))
            if found is not None:
                return found
    known = sorted(
        f"({getattr(t, '__qualname__', t)}, {p or 'any protocol'}, {f or 'any format'})"
        for t, p, f in handlers
        if t is df_type
    )
    name = getattr(df_type, "__qualname__", repr(df_type))
    raise UnsupportedTypeError(
        f"no {kind} of {name} for protocol {protocol!r} and format {format or 'default'!r}; "
        + (f"its {kind}s: {', '.join(known)}" if known else f"no plugin provides a {kind} of {name}")
        + " (taskloom_structured_dataset_handlers)"
    )


def _check_handlers(contributed: Any) -> None:
    """The answer to ``taskloom_structured_dataset_handlers`` must be a list of encoders and decoders."""
    if not isinstance(contributed, (list, tuple)):
        raise TypeError(
            f"taskloom_structured_dataset_handlers must return a list of encoders and decoders, got {contributed!r}"
        )
    for handler in contributed:
        if not isinstance(handler, (StructuredDatasetEncoder, StructuredDatasetDecoder)):
            raise TypeError(
                f"contributed {handler!r}, which is not a StructuredDatasetEncoder or StructuredDatasetDecoder"
            )
