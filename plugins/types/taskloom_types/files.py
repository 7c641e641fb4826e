"""Transformers for :class:`~taskloom.types.file.FlyteFile` and :class:`~taskloom.types.directory.FlyteDirectory`.

A file is a single blob, a directory a multipart blob; the blob's format is the class's
``extension()`` (``FlyteFile[typing.TypeVar("csv")]`` gives ``"csv"``), as in flytekit 1.16. A value may
be a ``FlyteFile``/``FlyteDirectory``, a ``str`` or an ``os.PathLike``; local paths are recorded
absolute. Reading a literal builds an instance of the annotated class from the URI without fetching
anything: remote data is downloaded by the storage plugin when the value is first used. As text
(``loom run`` options) a file or directory is its path or URI; in JSON, that string or ``{"path": uri}``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    BlobValue,
    FlyteDirectory,
    FlyteFile,
    TypeTransformer,
    TypeTransformerFailedError,
    is_remote,
    literal_description,
    type_name,
)
from taskloom_types.contracts import contracts
from taskloom_types.errors import mismatch

if TYPE_CHECKING:
    from taskloom.extend import BlobDimensionality, Literal, LiteralType


def blob_uri(value: Any, python_type: type[BlobValue]) -> str:
    """Return the URI a literal records for ``value`` declared as ``python_type`` (a file or directory class).

    Never downloads: a remote value gives its remote URI. Raises
    :class:`~taskloom.exceptions.user.TypeTransformerFailedError` for a value of another kind (a
    directory where a file is expected, a number...).
    """
    if isinstance(value, BlobValue):
        if value.multipart != python_type.multipart:
            raise mismatch(python_type, value)
        uri = value.uri
    elif isinstance(value, (str, os.PathLike)):
        uri = os.fspath(value)
    else:
        raise mismatch(python_type, value)
    if not isinstance(uri, str) or not uri:
        raise mismatch(python_type, value, "an empty path")
    if is_remote(uri):
        return uri
    uri = uri.removeprefix("file://")
    return os.path.abspath(uri)


def _dimensionality(python_type: type[BlobValue]) -> BlobDimensionality:
    return contracts.BlobDimensionality.MULTIPART if python_type.multipart else contracts.BlobDimensionality.SINGLE


class BlobTransformer(TypeTransformer[BlobValue]):
    """Files and directories (``t`` is :class:`FlyteFile` or :class:`FlyteDirectory`; subclasses are found by MRO)."""

    def check_type(self, t: Any) -> None:
        self._blob_class(t).extension()  # what get_literal_type asks of the class

    def get_literal_type(self, t: Any) -> LiteralType:
        cls = self._blob_class(t)
        return contracts.LiteralType(
            blob=contracts.BlobType(format=cls.extension(), dimensionality=_dimensionality(cls))
        )

    def _blob_class(self, t: Any) -> type[BlobValue]:
        return t if isinstance(t, type) and issubclass(t, BlobValue) else self.python_type

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        cls = python_type if isinstance(python_type, type) and issubclass(python_type, BlobValue) else self.python_type
        uri = blob_uri(python_val, cls)
        blob_type = expected.blob if expected is not None and expected.blob is not None else None
        if blob_type is None:
            blob_type = self.get_literal_type(cls).blob
        blob = contracts.Blob(metadata=contracts.BlobMetadata(type=blob_type), uri=uri)
        return contracts.Literal(scalar=contracts.Scalar(blob=blob))

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> BlobValue:
        cls = expected_python_type
        if not (isinstance(cls, type) and issubclass(cls, BlobValue)):
            cls = self.python_type
        blob = lv.scalar.blob if lv.scalar is not None else None
        if blob is None or blob.metadata.type.dimensionality is not _dimensionality(cls):
            raise TypeTransformerFailedError(f"expected a literal of {type_name(cls)}, got {literal_description(lv)}")
        return cls(blob.uri)

    def from_text(self, text: str, python_type: Any) -> BlobValue:
        """The file or directory at the path or URI ``text`` (nothing is read or checked yet)."""
        return self._blob_class(python_type)(text)

    def from_json(self, data: Any, python_type: Any) -> BlobValue:
        """A path or URI, or ``{"path": uri}`` as a dataclass stores one."""
        path = data.get("path") if isinstance(data, dict) else data
        if not isinstance(path, str):
            raise TypeTransformerFailedError(
                f"expected a path, URI or {{'path': uri}} of {type_name(python_type)}, got {data!r}"
            )
        return self.from_text(path, python_type)

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        blob = literal_type.blob
        if blob is not None and blob.dimensionality is _dimensionality(self.python_type):
            return self.python_type[blob.format] if blob.format else self.python_type
        return super().guess_python_type(literal_type)


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [BlobTransformer("FlyteFilePath", FlyteFile), BlobTransformer("FlyteDirectory", FlyteDirectory)]
