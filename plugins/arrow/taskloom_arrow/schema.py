"""``FlyteSchema``, refused where a task is declared.

flytekit 1.16 still converts ``FlyteSchema`` but deprecates it (it logs "FlyteSchema is deprecated, use
Structured Dataset instead." at every use) and reads it back as a StructuredDataset. taskloom does not
carry the deprecated type: a task or workflow that declares it fails when it is declared, in one line
naming the replacement, instead of at run time.
"""

from __future__ import annotations

from typing import Any


class FlyteSchema:
    """flytekit's deprecated table type: declaring it is refused, naming ``StructuredDataset`` instead."""

    def __class_getitem__(cls, columns: Any) -> type[FlyteSchema]:
        # FlyteSchema[kwtypes(a=int)] must reach the check at declaration, not fail here.
        return cls

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "FlyteSchema is not supported (flytekit deprecated it): use StructuredDataset "
            "(from taskloom import StructuredDataset)"
        )
