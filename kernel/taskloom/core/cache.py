"""What a task's cache is keyed on: :class:`Cache`, as in flytekit 1.16.

``@task(cache=True)`` caches with a version derived from the function's source;
``@task(cache=Cache(version="2", serialize=True, ignored_inputs=("seed",)))`` says it explicitly. The
older keyword arguments (``cache_version``, ``cache_serialize``, ``cache_ignore_input_vars``) are
folded into the same object by :func:`normalize_cache`. Executors compute the key; this module only
holds what the user asked for.
"""

from __future__ import annotations

import dataclasses

from taskloom.exceptions.user import ValidationError


@dataclasses.dataclass(frozen=True)
class Cache:
    """Cache settings of a task (flytekit's ``Cache``).

    ``version``: part of the cache key; None lets the executor derive one from the function's source.
    ``serialize``: identical concurrent calls compute once, the others wait for its result.
    ``ignored_inputs``: inputs left out of the cache key (a name or a tuple of names).
    ``salt``: an extra string mixed into the key.
    """

    version: str | None = None
    serialize: bool = False
    ignored_inputs: tuple[str, ...] | str = ()
    salt: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.ignored_inputs, str):
            object.__setattr__(self, "ignored_inputs", (self.ignored_inputs,))
        else:
            object.__setattr__(self, "ignored_inputs", tuple(self.ignored_inputs))
        if self.version is not None and not isinstance(self.version, str):
            raise ValidationError(f"Cache: version expects str, got {type(self.version).__name__} {self.version!r}")


def normalize_cache(
    cache: bool | Cache | None,
    *,
    cache_version: str = "",
    cache_serialize: bool = False,
    cache_ignore_input_vars: tuple[str, ...] = (),
    entity: str = "task",
) -> Cache | None:
    """Fold ``@task``'s cache arguments into one :class:`Cache`, or None when caching is off.

    Raises :class:`~taskloom.exceptions.user.ValidationError` naming ``entity`` for contradictions:
    ``cache_serialize``/``cache_version``/``cache_ignore_input_vars`` without ``cache``, or together
    with a :class:`Cache` object.
    """
    legacy = {
        name: value
        for name, value in (
            ("cache_version", cache_version),
            ("cache_serialize", cache_serialize),
            ("cache_ignore_input_vars", tuple(cache_ignore_input_vars)),
        )
        if value
    }
    if isinstance(cache, Cache):
        if legacy:
            raise ValidationError(
                f"{entity}: {', '.join(legacy)} cannot be combined with cache=Cache(...); set it there"
            )
        return cache
    if not cache:
        if legacy:
            raise ValidationError(f"{entity}: {', '.join(legacy)} needs cache=True")
        return None
    return Cache(
        version=cache_version or None,
        serialize=cache_serialize,
        ignored_inputs=tuple(cache_ignore_input_vars),
    )
