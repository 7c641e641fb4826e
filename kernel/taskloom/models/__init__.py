"""The kernel's contracts: frozen attrs value objects shaped after flyteidl v1.

Each module mirrors one area of flyteidl (``literals``, ``types``, ``interface``, ``identifier``,
``security``, ``task``, ``workflow``, ``launch_plan``, ``dynamic_job``) with the same message,
field and enum names, so that the protobuf codec in ``taskloom-flyte`` is a one-to-one mapping.
:mod:`taskloom.models.converter` turns any contract into JSON and back. Import the submodule you
need; this package re-exports nothing, so ``import taskloom.models`` stays cheap.

Contracts are frozen, compare by value and are hashable: map and ``Struct`` fields (plain dicts)
take part in equality but not in the hash.
"""
