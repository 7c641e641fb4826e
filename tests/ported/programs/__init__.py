"""Programs written for flytekit, as its docs and examples teach, run unchanged but for their imports.

Each module is a whole program written against flytekit 1.16 (``from flytekit import ...``) that prints
its results. ``test_ported_programs.py`` runs it under flytekit and, with ``flytekit`` rewritten to
``taskloom`` in its imports, under taskloom, and compares what the two print. A program that needs a
plugin not built yet (StructuredDataset, SQL, containers) does not belong here. Where taskloom
deliberately differs from flytekit (README, "Porting from flytekit"), the program prints only what
both must agree on.
"""
