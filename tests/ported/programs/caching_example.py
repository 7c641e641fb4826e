"""cache=True with a cache_version: a second run of the same inputs does not run the body again."""

import os
import sys
import tempfile

from flytekit import task, workflow

MARKER = os.path.join(os.environ.get("PORTED_TMP", tempfile.gettempdir()), "caching_example_calls")


@task(cache=True, cache_version="1.0")
def expensive(x: int) -> int:
    with open(MARKER, "a") as out:
        out.write(f"{x}\n")
    return x * 100


@workflow
def cached_wf(x: int) -> int:
    return expensive(x=x)


if __name__ == "__main__":
    if os.path.exists(MARKER):
        os.remove(MARKER)
    print(cached_wf(x=1), cached_wf(x=1), cached_wf(x=2))
    with open(MARKER) as handle:
        print("body ran for", handle.read().split())
    sys.stdout.flush()
