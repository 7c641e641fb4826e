"""``flytekit.models.core.types``'s names: the classes of :mod:`taskloom.models.types`."""

from taskloom.models.types import BlobType, EnumType

__all__ = ["BlobType", "EnumType"]
