"""The literal contracts this plugin builds, imported the first time one is built.

Declaring tasks and running them locally needs the transformers but no literal: types are checked
with :meth:`~taskloom.core.type_engine.TypeTransformer.check_type` and values with the transformers'
fast tests. The contracts (:mod:`taskloom.models.literals` and :mod:`taskloom.models.types`, attrs
classes that cost ~30 ms to import) are needed only where a literal or a literal type is really
made: templates, cache keys, the execution store. So the transformer modules name them through
:data:`contracts` (``contracts.Scalar(...)``, ``contracts.SimpleType.INTEGER``), which imports both
modules on first use; annotations import them under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from typing import Any


class _Contracts:
    """The classes of ``taskloom.models.literals`` and ``taskloom.models.types`` by name, imported on first use.

    ``Union`` is the literal's union (``taskloom.models.literals.Union``), not ``typing.Union``.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends probe dunders: never a contract
            raise AttributeError(name)
        from taskloom.extend import models

        for module in (models.literals, models.types):
            value = getattr(module, name, None)
            if value is not None:
                setattr(self, name, value)  # from now on a plain attribute: __getattr__ is not called again
                return value
        raise AttributeError(f"taskloom.models.literals and taskloom.models.types have no {name!r}")

    def __repr__(self) -> str:
        return "<taskloom literal contracts, imported on first use>"


#: The literal contracts, imported when one is first used: ``contracts.Literal(scalar=...)``.
contracts = _Contracts()
