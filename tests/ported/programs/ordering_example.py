"""Side-effect tasks ordered with >> and create_node."""

import os
import tempfile

from flytekit import task, workflow
from flytekit.core.node_creation import create_node

LOG = os.path.join(os.environ.get("PORTED_TMP", tempfile.gettempdir()), "ordering_example_log")


@task
def write(word: str) -> None:
    with open(LOG, "a") as out:
        out.write(word + "\n")


@task
def length(word: str) -> int:
    return len(word)


@workflow
def ordered_wf() -> int:
    first = create_node(write, word="first")
    second = create_node(write, word="second")
    n = create_node(length, word="third")
    first >> second
    second >> n
    return n.o0


if __name__ == "__main__":
    if os.path.exists(LOG):
        os.remove(LOG)
    print(ordered_wf())
    with open(LOG) as handle:
        print(handle.read().split())
