"""flytekit's ``flytekit.types.structured.structured_dataset`` path: the same names as
:mod:`taskloom.types.structured`, resolved the same lazy way, so that ported imports keep working."""

from __future__ import annotations

from taskloom.types.structured import __dir__ as __dir__
from taskloom.types.structured import __getattr__ as __getattr__
