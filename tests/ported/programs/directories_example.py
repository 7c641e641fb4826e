"""FlyteDirectory between tasks."""

import os

from flytekit import current_context, task, workflow
from flytekit.types.directory import FlyteDirectory


@task
def make_dir(n: int) -> FlyteDirectory:
    root = os.path.join(current_context().working_directory, "parts")
    os.makedirs(root)
    for i in range(n):
        with open(os.path.join(root, f"part-{i}.txt"), "w") as out:
            out.write("x" * i)
    return FlyteDirectory(root)


@task
def total_size(d: FlyteDirectory) -> int:
    local = d.download()
    return sum(os.path.getsize(os.path.join(local, name)) for name in os.listdir(local))


@workflow
def dir_wf(n: int = 4) -> int:
    return total_size(d=make_dir(n=n))


if __name__ == "__main__":
    print(dir_wf(n=5))
