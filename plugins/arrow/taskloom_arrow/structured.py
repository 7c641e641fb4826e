"""``StructuredDataset`` and its transformer, with flytekit's names and signatures.

A table travels in one of two forms. In-process (a local run, threads) it is the Python object the
task returned, handed to the next task as it is: the transformer's fast test accepts it and its
normalizer returns it unchanged, so no literal and no file is made (DESIGN §4). At a boundary (the
process pool's files, the cache, a recorded execution, an offload, ``loom-execute``) it becomes the
literal flytekit writes: a ``StructuredDataset(uri, metadata)`` whose URI holds the table, written by
an encoder and read by a decoder found in the kernel's registry
(:class:`~taskloom.extend.DataFrameHandlers`, filled through the
``taskloom_structured_dataset_handlers`` hook).
"""

from __future__ import annotations

import os
import types as python_types
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from taskloom.extend import (
    GENERIC_FORMAT,
    DataFrameHandlers,
    FlyteContextManager,
    TypeTransformer,
    TypeTransformerFailedError,
    UnsupportedTypeError,
    split_protocol,
    type_name,
)

from taskloom_arrow import columns as column_checks
from taskloom_arrow import tables

DF = TypeVar("DF")


def _current_ctx() -> Any:
    return FlyteContextManager.current_context()


class StructuredDataset:
    """A table passed between tasks: a dataframe in memory, a URI in storage, or both (flytekit's class).

    ``StructuredDataset(dataframe=df)`` wraps a table a task made; ``StructuredDataset(uri="s3://b/t",
    file_format="parquet")`` names one in storage. A task reads it with ``sd.open(pd.DataFrame).all()``
    (the whole table, as a pandas, pyarrow or polars table) or ``sd.open(pa.Table).iter()`` (record
    batches, streamed from storage). Declared as ``Annotated[StructuredDataset, kwtypes(a=int)]``, only
    column ``a`` is read.
    """

    def __init__(
        self,
        dataframe: Any | None = None,
        uri: str | None = None,
        metadata: Any | None = None,
        **kwargs: Any,
    ) -> None:
        self._dataframe = dataframe
        self.uri = uri
        self.file_format: str = kwargs.get("file_format", GENERIC_FORMAT)
        self._metadata = metadata
        self._literal_sd: Any = None  # the literal this value was read from or written as
        self._dataframe_type: Any = None
        self._already_uploaded = False
        self._columns: dict[str, Any] | None = None  # the columns the reading task declared

    @classmethod
    def columns(cls) -> dict[str, type]:
        """flytekit's class-level columns (always empty: columns are declared with ``Annotated``)."""
        return {}

    @classmethod
    def column_names(cls) -> list[str]:
        """The names of :meth:`columns`."""
        return list(cls.columns())

    @property
    def dataframe(self) -> Any | None:
        """The table in memory, or None when it is only in storage."""
        return self._dataframe

    @property
    def metadata(self) -> Any | None:
        """The ``StructuredDatasetMetadata`` it was read with (columns, format), or None."""
        return self._metadata

    @property
    def literal(self) -> Any | None:
        """The ``StructuredDataset`` literal it was read from or written as, or None."""
        return self._literal_sd

    def open(self, dataframe_type: type[DF]) -> StructuredDataset:
        """Choose the table class :meth:`all` and :meth:`iter` give (``pd.DataFrame``, ``pa.Table``...)."""
        self._dataframe_type = dataframe_type
        return self

    def all(self) -> Any:
        """The whole table as the class given to :meth:`open`: the in-memory table itself when it is one
        (no copy), else converted, or read from storage."""
        if self._dataframe_type is None:
            raise ValueError("No dataframe type set. Use open() to set the local dataframe type you want to use.")
        if self._dataframe is not None:
            table = self._dataframe
            if self._columns:
                table = tables.select(table, list(self._columns))
            return tables.convert(table, self._dataframe_type)
        return _engine().open_as(_current_ctx(), self._literal_or_uri(), self._dataframe_type, self._metadata)

    def iter(self) -> Iterator[Any]:
        """The table as record batches of the class given to :meth:`open`; from storage, read one batch
        at a time (Parquet row groups, CSV blocks), so memory holds a batch, not the table."""
        if self._dataframe_type is None:
            raise ValueError("No dataframe type set. Use open() to set the local dataframe type you want to use.")
        if self._dataframe is not None:
            table = tables.select(self._dataframe, list(self._columns)) if self._columns else self._dataframe
            return tables.batches(table, self._dataframe_type)
        return _engine().iter_as(_current_ctx(), self._literal_or_uri(), self._dataframe_type, self._metadata)

    def _literal_or_uri(self) -> Any:
        if self._literal_sd is not None:
            return self._literal_sd
        if not self.uri:
            raise ValueError("this StructuredDataset has neither a dataframe nor a uri")
        from taskloom.extend import models  # the contracts, where a literal is made

        literals = models.literals
        metadata = self._metadata or literals.StructuredDatasetMetadata(
            structured_dataset_type=models.types.StructuredDatasetType(format=self.file_format or "")
        )
        return literals.StructuredDataset(uri=self.uri, metadata=metadata)

    def __repr__(self) -> str:
        held = f"dataframe={type(self._dataframe).__qualname__}" if self._dataframe is not None else f"uri={self.uri!r}"
        return f"StructuredDataset({held}, file_format={self.file_format!r})"


_ENGINE: StructuredDatasetTransformerEngine | None = None


def _engine() -> StructuredDatasetTransformerEngine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = StructuredDatasetTransformerEngine()
    return _ENGINE


class StructuredDatasetTransformerEngine(TypeTransformer[Any]):
    """The transformer of ``StructuredDataset`` and of tables annotated directly (flytekit's class).

    It claims table classes structurally (:func:`taskloom_arrow.tables.is_table_type`: pyarrow, pandas
    and polars by name, any class with ``__arrow_c_stream__``) without importing their libraries.
    :meth:`register` is flytekit's, kept for ported code; plugins contribute handlers through the
    ``taskloom_structured_dataset_handlers`` hook instead.
    """

    keeps_annotations = True

    def __init__(self) -> None:
        super().__init__("StructuredDataset Transformer", StructuredDataset, enable_type_assertions=False)

    # --- flytekit's registry API, on the kernel's registry -----------------------------------------

    @classmethod
    def register(
        cls,
        h: Any,
        default_for_type: bool = False,
        override: bool = False,
        default_format_for_type: bool = False,
        default_storage_for_type: bool = False,
    ) -> None:
        """Register an encoder or decoder in this process (flytekit's signature): see
        :meth:`taskloom.extend.DataFrameHandlers.register`."""
        DataFrameHandlers.register(h, default_for_type, override, default_format_for_type, default_storage_for_type)

    @classmethod
    def get_encoder(cls, df_type: Any, protocol: str, format: str) -> Any:
        """The encoder of ``df_type`` to ``format`` on ``protocol``."""
        return DataFrameHandlers.get_encoder(df_type, protocol, format)

    @classmethod
    def get_decoder(cls, df_type: Any, protocol: str, format: str) -> Any:
        """The decoder of ``format`` on ``protocol`` into ``df_type``."""
        return DataFrameHandlers.get_decoder(df_type, protocol, format)

    # --- which types ------------------------------------------------------------------------------

    def handles(self, t: Any) -> bool:
        """Claim table classes (see the class docs) and FlyteSchema (refused by :meth:`check_type`)."""
        base = column_checks.declared(t)[0]
        return tables.is_table_type(base) or _is_flyte_schema(base)

    def check_type(self, t: Any) -> None:
        """Check the declared columns' types and refuse FlyteSchema, building no literal type."""
        base, declared, _, _ = column_checks.declared(t)
        if _is_flyte_schema(base):
            raise UnsupportedTypeError(
                "FlyteSchema is not supported (flytekit deprecated it): declare a StructuredDataset "
                "(from taskloom import StructuredDataset), with Annotated[StructuredDataset, kwtypes(...)] for columns"
            )
        for column_type in (declared or {}).values():
            column_checks.expected_kind(column_type)
        tables.cross_processes_as_arrow(base)

    def get_literal_type(self, t: Any) -> Any:
        """flytekit's literal type: a structured dataset type with the declared columns and format (and an
        Arrow schema as ``external_schema_bytes`` when one is declared)."""
        from taskloom.extend import LiteralType, models  # the contracts, where a literal type is made

        self.check_type(t)
        _, declared, storage_format, schema = column_checks.declared(t)
        columns = [
            models.types.DatasetColumn(name=name, literal_type=column_checks.column_literal_type(column_type))
            for name, column_type in (declared or {}).items()
        ]
        return LiteralType(
            structured_dataset_type=models.types.StructuredDatasetType(
                columns=columns,
                format=storage_format,
                external_schema_type="arrow" if schema is not None else "",
                external_schema_bytes=schema.to_string().encode() if schema is not None else b"",
            )
        )

    # --- in-process: the same object, checked by its schema ---------------------------------------

    def checker(self, t: Any) -> Callable[[Any], bool] | None:
        """Accept, without converting, a table of the declared class (or any table, or a
        StructuredDataset, where a conversion in memory will make it one) whose columns match."""
        base, declared, _, _ = column_checks.declared(t)
        wants_dataset = isinstance(base, type) and issubclass(base, StructuredDataset)

        def test(value: Any) -> bool:
            if isinstance(value, StructuredDataset):
                if value.dataframe is None:
                    return wants_dataset or not declared
                value = value.dataframe
            elif not tables.is_table_type(type(value)) or (not wants_dataset and not _convertible(type(value), base)):
                return False
            return column_checks.mismatch(value, declared) is None

        return test

    def normalizer(self, t: Any) -> Callable[[Any], Any] | None:
        """What a task declaring ``t`` receives in-process: the same table object when it is of the
        declared class and no columns are chosen (no copy, no file); else the declared columns selected
        (by reference) and the table converted in memory to the declared class, or wrapped in (or taken
        out of) a StructuredDataset."""
        base, declared, _, _ = column_checks.declared(t)
        wants_dataset = isinstance(base, type) and issubclass(base, StructuredDataset)
        names = list(declared) if declared else None

        def normalize(value: Any) -> Any:
            # Bindings inside a workflow are checked by type when it compiles; the columns of the table
            # that really comes are checked here, by its schema.
            held = value.dataframe if isinstance(value, StructuredDataset) else value
            if held is not None:
                column_checks.check(held, declared)
            if wants_dataset:
                if not isinstance(value, StructuredDataset):
                    value = StructuredDataset(dataframe=value)
                if names and value.dataframe is not None:
                    chosen = base(dataframe=value.dataframe, uri=value.uri, metadata=value.metadata)
                    chosen._columns = declared
                    return chosen
                return value
            if isinstance(value, StructuredDataset):
                return value.open(base).all() if value.dataframe is None else _convert(value.dataframe, base, names)
            return _convert(value, base, names)

        return normalize

    def hash_of(self, python_val: Any, python_type: Any) -> str | None:
        """A content hash of the table in memory (:func:`taskloom_arrow.tables.content_hash`), so a cache
        key writes no file; a StructuredDataset held only in storage hashes as its URI and format."""
        if isinstance(python_val, StructuredDataset):
            if python_val.dataframe is None:
                return f"uri:{python_val.uri}:{python_val.file_format}"
            python_val = python_val.dataframe
        if not tables.is_table_type(type(python_val)):
            return None
        return tables.content_hash(python_val)

    # --- at a boundary: literals ------------------------------------------------------------------

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: Any) -> Any:
        """Write the table with the encoder of its class, the storage protocol of its URI (or of the raw
        output prefix) and the declared format (else the class's default); a StructuredDataset read from
        a literal, or naming a URI, is passed on without writing (flytekit's cases)."""
        from taskloom.extend import Literal, Scalar, models

        base, declared, _, _ = column_checks.declared(python_type)
        sdt = expected.structured_dataset_type if expected is not None else None
        if sdt is None:
            sdt = models.types.StructuredDatasetType()
        if (
            isinstance(base, type)
            and issubclass(base, StructuredDataset)
            and not isinstance(python_val, StructuredDataset)
        ):
            raise TypeTransformerFailedError(
                f"expected a StructuredDataset instance, got {type(python_val).__qualname__}: "
                "did you forget to wrap the dataframe in StructuredDataset(dataframe=...)?"
            )
        if isinstance(python_val, StructuredDataset):
            if python_val._literal_sd is not None and python_val.dataframe is None:
                return Literal(scalar=Scalar(structured_dataset=python_val._literal_sd))
            if python_val.dataframe is None:
                if not python_val.uri:
                    raise TypeTransformerFailedError("a StructuredDataset needs a dataframe or a uri, it has neither")
                if not sdt.format and python_val.file_format:
                    sdt = _evolve(sdt, format=python_val.file_format)
                literal_sd = models.literals.StructuredDataset(
                    uri=python_val.uri, metadata=models.literals.StructuredDatasetMetadata(structured_dataset_type=sdt)
                )
                return Literal(scalar=Scalar(structured_dataset=literal_sd))
            table = python_val.dataframe
            uri = python_val.uri
        else:
            table, uri = python_val, None
        if not tables.is_table_type(type(table)) and type(table) not in DataFrameHandlers.python_types():
            raise TypeTransformerFailedError(f"expected a table, got {type(table).__qualname__}")
        column_checks.check(table, declared)
        df_type = type(table)
        protocol = split_protocol(uri or ctx.file_access.raw_output_prefix)[0]
        storage_format = sdt.format or DataFrameHandlers.default_format(df_type)
        encoder = DataFrameHandlers.get_encoder(df_type, protocol, storage_format)
        wrapped = python_val if isinstance(python_val, StructuredDataset) else StructuredDataset(dataframe=table)
        literal_sd = encoder.encode(ctx, wrapped, _evolve(sdt, format=encoder.supported_format or storage_format))
        if isinstance(python_val, StructuredDataset):
            python_val._literal_sd = literal_sd
            python_val._already_uploaded = True
        return Literal(scalar=Scalar(structured_dataset=literal_sd))

    def to_python_value(self, ctx: Any, lv: Any, expected_python_type: Any) -> Any:
        """A StructuredDataset naming the stored table (read on ``open().all()``), or, for a table class,
        the table read now; the reading task's declared columns win over the literal's (flytekit's rule)."""
        from taskloom.extend import models

        base, declared, _, _ = column_checks.declared(expected_python_type)
        scalar = lv.scalar
        if scalar is None or scalar.structured_dataset is None:
            raise TypeTransformerFailedError(f"expected a structured dataset literal, got {lv!r}")
        literal_sd = scalar.structured_dataset
        incoming = literal_sd.metadata.structured_dataset_type if literal_sd.metadata else None
        incoming = incoming or models.types.StructuredDatasetType()
        wanted_columns = (
            [
                models.types.DatasetColumn(name=name, literal_type=column_checks.column_literal_type(column_type))
                for name, column_type in declared.items()
            ]
            if declared
            else list(incoming.columns)
        )
        sdt = _evolve(incoming, columns=tuple(wanted_columns))
        metadata = models.literals.StructuredDatasetMetadata(structured_dataset_type=sdt)
        if isinstance(base, type) and issubclass(base, StructuredDataset):
            value = base(dataframe=None, uri=literal_sd.uri, metadata=metadata)
            value._literal_sd = literal_sd
            value.file_format = sdt.format
            return value
        table = self.open_as(ctx, literal_sd, base, metadata)
        column_checks.check(table, declared)
        return table

    def open_as(self, ctx: Any, sd: Any, df_type: Any, updated_metadata: Any) -> Any:
        """The whole table of literal ``sd`` as ``df_type``, with ``updated_metadata``'s columns (flytekit's method)."""
        decoder = self.get_decoder(df_type, split_protocol(sd.uri)[0], _format_of(sd))
        result = decoder.decode(ctx, sd, updated_metadata or sd.metadata)
        if isinstance(result, python_types.GeneratorType):
            raise ValueError(f"decoder {decoder!r} returned an iterator, but the whole table of {sd.uri} was asked for")
        return result

    def iter_as(self, ctx: Any, sd: Any, df_type: Any, updated_metadata: Any) -> Iterator[Any]:
        """The table of literal ``sd`` as batches of ``df_type`` (flytekit's method): the decoder's
        ``iter_decode`` when it has one (streamed), else what its ``decode`` gives."""
        decoder = self.get_decoder(df_type, split_protocol(sd.uri)[0], _format_of(sd))
        metadata = updated_metadata or sd.metadata
        stream = getattr(decoder, "iter_decode", None)
        if stream is not None:
            return iter(stream(ctx, sd, metadata))
        result = decoder.decode(ctx, sd, metadata)
        return result if isinstance(result, Iterator) else iter([result])

    def guess_python_type(self, literal_type: Any) -> Any:
        """StructuredDataset for a structured dataset literal type (flytekit's answer)."""
        if literal_type.structured_dataset_type is not None:
            return StructuredDataset
        raise ValueError(f"StructuredDatasetTransformerEngine cannot reverse {literal_type}")

    def from_text(self, text: str, python_type: Any) -> Any:
        """A URI or path (``loom run --df s3://bucket/table``): a StructuredDataset naming it, or the table
        read from it for a table class; the format from the annotation, else Parquet."""
        from taskloom.extend import Literal, Scalar, models

        if "://" not in text and not os.path.exists(text):
            # Said now, naming the input, rather than by the task that would open it later.
            raise ValueError(f"{text!r} does not exist: give the path or URI of a Parquet or CSV table")
        _, _, storage_format, _ = column_checks.declared(python_type)
        storage_format = storage_format or ("csv" if text.endswith(".csv") else "parquet")
        sdt = models.types.StructuredDatasetType(format=storage_format)
        literal_sd = models.literals.StructuredDataset(
            uri=text, metadata=models.literals.StructuredDatasetMetadata(structured_dataset_type=sdt)
        )
        try:
            return self.to_python_value(
                _current_ctx(), Literal(scalar=Scalar(structured_dataset=literal_sd)), python_type
            )
        except OSError as error:  # unreadable, or gone since the check: the parser names the input
            raise ValueError(f"{text!r} cannot be read: {error.strerror or error}") from error

    def text_help(self, python_type: Any) -> str | None:
        """How a table is given on ``loom run``'s command line."""
        return f"the URI or path of a {type_name(column_checks.declared(python_type)[0])} in storage (Parquet or CSV)"


def _format_of(sd: Any) -> str:
    sdt = sd.metadata.structured_dataset_type if sd.metadata else None
    return sdt.format if sdt is not None else GENERIC_FORMAT


def _evolve(sdt: Any, **changes: Any) -> Any:
    import attrs  # loaded with the contracts, which a caller of this has built already

    return attrs.evolve(sdt, **changes)


def _convertible(value_type: Any, declared: Any) -> bool:
    # A table of another built-in library is converted in memory; other classes must be the one declared.
    if isinstance(declared, type) and issubclass(value_type, declared):
        return True
    known = {name for name, _ in tables.KNOWN_TABLES}
    return tables.library(value_type) in known and tables.library(declared) in known


def _convert(table: Any, declared: Any, names: list[str] | None) -> Any:
    if names:
        table = tables.select(table, names)
    return tables.convert(table, declared)


def _is_flyte_schema(t: Any) -> bool:
    return isinstance(t, type) and t.__name__ == "FlyteSchema" and t.__module__.startswith("taskloom_arrow")
