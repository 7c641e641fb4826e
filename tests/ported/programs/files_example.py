"""FlyteFile between tasks: write a file in one task, read it in the next."""

import os

from flytekit import current_context, task, workflow
from flytekit.types.file import FlyteFile


@task
def write_lines(n: int) -> FlyteFile:
    path = os.path.join(current_context().working_directory, "lines.txt")
    with open(path, "w") as out:
        for i in range(n):
            out.write(f"line {i}\n")
    return FlyteFile(path)


@task
def count_lines(f: FlyteFile) -> int:
    with open(f) as handle:
        return sum(1 for _ in handle)


@task
def first_line(f: FlyteFile) -> str:
    with f.open("r") as handle:
        return handle.readline().strip()


@workflow
def file_wf(n: int = 5) -> tuple[int, str]:
    f = write_lines(n=n)
    return count_lines(f=f), first_line(f=f)


if __name__ == "__main__":
    count, first = file_wf(n=7)
    print(count, first)
