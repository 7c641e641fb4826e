"""flytekit's ``flytekit.models.core`` paths, for ported programs: the same contracts as ``taskloom.models``.

flytekit keeps some contracts under ``models.core`` (``from flytekit.models.core.types import BlobType``);
taskloom keeps one module per flyteidl file under ``taskloom.models``. These modules name the same classes
at flytekit's paths, so such imports port by rewriting ``flytekit`` to ``taskloom``.
"""
