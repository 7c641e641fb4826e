"""Files and directories cross the process pool both ways: alone, in lists and dicts, inside
dataclasses, formatted (``FlyteFile["csv"]``), as task inputs, outputs and map elements.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from taskloom import map_task, task, workflow
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile
from taskloom_local.executor import LocalExecutor

CSV = FlyteFile["csv"]


@dataclasses.dataclass
class Bundle:
    name: str
    data: FlyteFile
    folder: FlyteDirectory


# Workers find tasks by reference: module level.


@task
def write(directory: str, name: str) -> FlyteFile:
    path = os.path.join(directory, name)
    with open(path, "w") as stream:
        stream.write(f"{name} from {os.getpid()}")
    return FlyteFile(path)


@task
def read(data: FlyteFile) -> str:
    with open(data) as stream:
        return stream.read()


@task
def folder(directory: str) -> FlyteDirectory:
    os.makedirs(os.path.join(directory, "folder"), exist_ok=True)
    for index in range(3):
        with open(os.path.join(directory, "folder", f"part{index}.txt"), "w") as stream:
            stream.write(str(index))
    return FlyteDirectory(os.path.join(directory, "folder"))


@task
def list_folder(folder: FlyteDirectory) -> list[str]:
    return sorted(os.listdir(folder))


@task
def collect(files: list[FlyteFile], named: dict[str, FlyteFile]) -> list[FlyteFile]:
    return [*files, *named.values()]


@task
def bundle(data: FlyteFile, folder: FlyteDirectory) -> Bundle:
    return Bundle("b", data, folder)


@task
def open_bundle(item: Bundle) -> str:
    with open(item.data) as stream:
        return f"{item.name}:{stream.read()}:{len(os.listdir(item.folder))}"


@task
def csv_file(directory: str) -> CSV:
    path = os.path.join(directory, "table.csv")
    with open(path, "w") as stream:
        stream.write("a,b\n1,2\n")
    return CSV(path)


@task
def csv_rows(table: CSV) -> int:
    with open(table) as stream:
        return len(stream.read().splitlines())


@workflow
def files_everywhere(directory: str) -> tuple[str, list[str], list[str], str, int]:
    first = write(directory=directory, name="one.txt")
    second = write(directory=directory, name="two.txt")
    kept = collect(files=[first, second], named={"again": first})
    listing = list_folder(folder=folder(directory=directory))
    texts = map_task(read)(data=kept)
    item = bundle(data=second, folder=folder(directory=directory))
    return read(data=first), texts, listing, open_bundle(item=item), csv_rows(table=csv_file(directory=directory))


@pytest.mark.parametrize("processes", [1, 2])
def test_files_and_directories_cross_the_process_pool_in_every_shape(tmp_path, processes):
    one, texts, listing, opened, rows = LocalExecutor(processes=processes).execute(
        files_everywhere, {"directory": str(tmp_path)}
    )
    assert one.startswith("one.txt from ") and int(one.split()[-1]) != os.getpid()  # written by a worker
    assert [text.split()[0] for text in texts] == ["one.txt", "two.txt", "one.txt"]
    assert listing == ["part0.txt", "part1.txt", "part2.txt"]
    assert opened.startswith("b:two.txt from ") and opened.endswith(":3")
    assert rows == 2


def test_a_formatted_file_keeps_its_format_across_the_pool(tmp_path):
    result = LocalExecutor(processes=1).execute(csv_file, {"directory": str(tmp_path)})
    assert type(result) is CSV and result.extension() == "csv"
