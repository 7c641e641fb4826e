"""The error a workflow's failure node receives (flytekit's ``flytekit.types.error``).

``@workflow(on_failure=handler)`` runs ``handler`` once when the workflow fails, with the workflow's
inputs and, when it declares one, an input ``err: Optional[FlyteError]``::

    @task
    def clean_up(name: str, err: Optional[FlyteError] = None) -> None: ...

    @workflow(on_failure=clean_up)
    def pipeline(name: str) -> int: ...

Its literal type is flyteidl's ``SimpleType.ERROR`` and its value a ``Scalar.error`` (flyteidl
``core.Error``), as a Flyte backend hands it to the failure node; the transformer comes from a
plugin (taskloom-types), like every transformer.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class FlyteError:
    """Why a workflow failed: ``message`` (the failing node's error) and ``failed_node_id`` (its id)."""

    message: str
    failed_node_id: str
